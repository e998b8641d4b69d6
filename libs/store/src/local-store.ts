/**
 * Checkpoints in a local folder. A put never touches the previous file until the new
 * bytes are complete and on disk:
 *
 *   1. `<name>.sha256.pending` gets the new digest (fsync)    -- the intent
 *   2. a temporary `.<name>.<pid>...tmp` gets the bytes (fsync, dir fsync)
 *   3. rename the temporary file over `<name>` (dir fsync)      -- the commit
 *   4. `<name>.sha256` is replaced the same way, then the pending file is removed
 *
 * A crash before 3 leaves the old file and its checksum; a crash between 3 and 4 leaves
 * the new file, which the pending digest vouches for. So `get` accepts bytes matching
 * either digest, and anything else is damage. A writer killed before 3 leaves its temporary
 * file behind; each put first removes those whose writer is gone (see temp-files.ts).
 */
import * as path from 'node:path';
import { checksumLine, parseChecksumLine, sha256Hex } from './checksum';
import { checkLogCut, errnoOf, fromFsError, StoreError, type StoreOperation } from './errors';
import { nodeFs, type FsLayer } from './fs-layer';
import { CHECKSUM_SUFFIX, isStoreInternal, nameProblem, PENDING_SUFFIX } from './names';
import type { CheckpointStore, GetOptions } from './store';
import { claimTemp, releaseTemp, removeStaleTemps } from './temp-files';

type StoredDigest = { hex: string } | 'missing' | 'malformed';

export class LocalStore implements CheckpointStore {
  readonly root: string;

  constructor(
    root: string,
    private readonly fs: FsLayer = nodeFs,
  ) {
    this.root = path.resolve(root);
  }

  describe(name: string): string {
    return path.join(this.root, name);
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(name, 'put');
    const dir = path.dirname(file);
    const base = path.basename(file);
    const hex = sha256Hex(bytes);
    const pending = file + PENDING_SUFFIX;
    try {
      await this.fs.mkdir(dir);
      await removeStaleTemps(this.fs, dir);
      await this.settlePending(file);
    } catch (e) {
      throw fromFsError(e, file, 'put', `the previous ${base}, if any, is intact`);
    }
    const tmp = claimTemp(file);
    const sidecarTmp = claimTemp(file + CHECKSUM_SUFFIX);
    let committed = false;
    try {
      await this.writeDurably(pending, checksumLine(hex, base));
      await this.writeDurably(tmp, bytes);
      await this.syncDir(dir);
      await this.fs.rename(tmp, file);
      committed = true;
      await this.syncDir(dir);
      await this.writeDurably(sidecarTmp, checksumLine(hex, base));
      await this.fs.rename(sidecarTmp, file + CHECKSUM_SUFFIX);
      await this.syncDir(dir);
      await this.fs.unlink(pending);
    } catch (e) {
      await this.removeQuietly(tmp, sidecarTmp);
      // Before the commit the pending digest describes bytes that never arrived; after it,
      // it is the only record of the new file's checksum and must stay.
      if (!committed) await this.removeQuietly(pending);
      throw fromFsError(
        e,
        file,
        'put',
        committed
          ? `the new ${base} is in place and verifiable (its checksum is in ${path.basename(pending)})`
          : `the previous ${base}, if any, is intact`,
      );
    } finally {
      releaseTemp(tmp);
      releaseTemp(sidecarTmp);
    }
  }

  async get(name: string, options: GetOptions = {}): Promise<Buffer> {
    const file = this.file(name, 'get');
    let bytes: Buffer;
    try {
      bytes = await this.fs.readFile(file);
    } catch (e) {
      throw fromFsError(e, file, 'get');
    }
    const hex = sha256Hex(bytes);
    const sidecar = await this.readDigest(file + CHECKSUM_SUFFIX, 'get');
    if (typeof sidecar === 'object' && sidecar.hex === hex) return bytes;
    const pending = await this.readDigest(file + PENDING_SUFFIX, 'get');
    if (typeof pending === 'object' && pending.hex === hex) return bytes;

    if (sidecar === 'missing') {
      // Only a file this store never wrote lacks a checksum: a pending digest alone belongs
      // to a put that never committed over it.
      if (options.verify === 'if-present') return bytes;
      throw new StoreError(
        'corrupt',
        file,
        'get',
        `cannot verify ${file}: it has no checksum file ${path.basename(file)}${CHECKSUM_SUFFIX}, so it was not written by a checkpoint store` +
          (options.uncheckedHint ? `; ${options.uncheckedHint}` : ''),
      );
    }
    if (sidecar === 'malformed') {
      throw new StoreError('corrupt', file, 'get', `cannot verify ${file}: ${file}${CHECKSUM_SUFFIX} is not a sha256sum line (damaged)`);
    }
    throw new StoreError(
      'corrupt',
      file,
      'get',
      `${file} is damaged or truncated: its ${bytes.length} bytes hash to sha256 ${hex.slice(0, 16)}..., ` +
        `but ${path.basename(file)}${CHECKSUM_SUFFIX} records ${sidecar.hex.slice(0, 16)}...`,
    );
  }

  async list(prefix = ''): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries;
      try {
        entries = await this.fs.readdir(dir);
      } catch (e) {
        if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return;
        throw fromFsError(e, dir, 'list');
      }
      for (const entry of entries) {
        if (isStoreInternal(entry.name)) continue;
        const relName = rel ? `${rel}/${entry.name}` : entry.name;
        // Descend only into folders that can still hold names under the prefix.
        if (entry.isDirectory()) {
          if (prefix.startsWith(`${relName}/`) || relName.startsWith(prefix)) await walk(path.join(dir, entry.name), relName);
        } else if (entry.isFile() && relName.startsWith(prefix)) {
          out.push(relName);
        }
      }
    };
    await walk(this.root, '');
    return out.sort();
  }

  async version(name: string): Promise<string | null> {
    const file = this.file(name, 'exists');
    let stat;
    try {
      stat = await this.fs.stat(file);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return null;
      throw fromFsError(e, file, 'exists');
    }
    if (!stat.isFile()) return null;
    const sidecar = await this.readDigest(file + CHECKSUM_SUFFIX, 'exists');
    return typeof sidecar === 'object' ? `sha256:${sidecar.hex}` : `size:${stat.size}:mtime:${stat.mtimeMs}`;
  }

  async exists(name: string): Promise<boolean> {
    const file = this.file(name, 'exists');
    try {
      return (await this.fs.stat(file)).isFile();
    } catch (e) {
      if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return false;
      throw fromFsError(e, file, 'exists');
    }
  }

  async delete(name: string): Promise<void> {
    const file = this.file(name, 'delete');
    for (const f of [file, file + CHECKSUM_SUFFIX, file + PENDING_SUFFIX]) {
      try {
        await this.fs.unlink(f);
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT') throw fromFsError(e, f, 'delete');
      }
    }
  }

  async append(name: string, text: string): Promise<void> {
    const file = this.file(name, 'append');
    try {
      await this.fs.mkdir(path.dirname(file));
      // A log's content changes with every line; a checksum left from an earlier put
      // would make every later read fail as damaged.
      await this.removeQuietly(file + CHECKSUM_SUFFIX, file + PENDING_SUFFIX);
      const fh = await this.fs.open(file, 'a');
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (e) {
      throw fromFsError(e, file, 'append');
    }
  }

  async readLog(name: string): Promise<Buffer | null> {
    const file = this.file(name, 'get');
    try {
      return await this.fs.readFile(file);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return null;
      throw fromFsError(e, file, 'get');
    }
  }

  async truncateLog(name: string, length: number): Promise<void> {
    const file = this.file(name, 'append');
    try {
      const size = (await this.fs.stat(file)).size;
      checkLogCut(file, length, size);
      if (length === size) return;
      await this.removeQuietly(file + CHECKSUM_SUFFIX, file + PENDING_SUFFIX);
      await this.fs.truncate(file, length);
    } catch (e) {
      throw fromFsError(e, file, 'append');
    }
  }

  private file(name: string, operation: StoreOperation): string {
    const problem = nameProblem(name);
    if (problem) throw new StoreError('invalid', this.describe(String(name)), operation, `checkpoint name '${name}' ${problem}`);
    return path.join(this.root, name);
  }

  /**
   * Finishes a put that crashed between its commit and its checksum, before a new put
   * overwrites the pending digest that file depends on; a stale digest is dropped.
   */
  private async settlePending(file: string): Promise<void> {
    const pending = await this.readDigest(file + PENDING_SUFFIX, 'put');
    if (pending === 'missing') return;
    let current: Buffer | null = null;
    try {
      current = await this.fs.readFile(file);
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') throw e;
    }
    if (current && typeof pending === 'object' && sha256Hex(current) === pending.hex) {
      const sidecarTmp = claimTemp(file + CHECKSUM_SUFFIX);
      try {
        await this.writeDurably(sidecarTmp, checksumLine(pending.hex, path.basename(file)));
        await this.fs.rename(sidecarTmp, file + CHECKSUM_SUFFIX);
        await this.syncDir(path.dirname(file));
      } catch (e) {
        await this.removeQuietly(sidecarTmp);
        throw e;
      } finally {
        releaseTemp(sidecarTmp);
      }
    }
    await this.fs.unlink(file + PENDING_SUFFIX);
  }

  private async writeDurably(file: string, data: Uint8Array | string): Promise<void> {
    const fh = await this.fs.open(file, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** A rename is durable only once the folder's own entry list reaches the disk. */
  private async syncDir(dir: string): Promise<void> {
    const fh = await this.fs.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  private async readDigest(file: string, operation: StoreOperation): Promise<StoredDigest> {
    let text: string;
    try {
      text = (await this.fs.readFile(file)).toString('utf8');
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return 'missing';
      throw fromFsError(e, file, operation);
    }
    const hex = parseChecksumLine(text);
    return hex ? { hex } : 'malformed';
  }

  private async removeQuietly(...files: string[]): Promise<void> {
    for (const f of files) await this.fs.unlink(f).catch(() => undefined);
  }
}
