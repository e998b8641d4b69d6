/**
 * The run's store for `sere train`: a local folder or an S3 bucket (libs/store).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { StoreLocation } from '@sere/config';
import type { RunStore } from '@sere/trainer';

/** Local folder: every write goes to a temporary file first and is renamed into place. */
class FolderRunStore implements RunStore {
  constructor(readonly dir: string) {}

  async put(name: string, bytes: Buffer): Promise<void> {
    const file = path.join(this.dir, name);
    const tmp = `${file}.tmp-${process.pid}`;
    const fh = await fs.promises.open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
  }
  get(name: string): Promise<Buffer> {
    return fs.promises.readFile(path.join(this.dir, name));
  }
  async exists(name: string): Promise<boolean> {
    return fs.existsSync(path.join(this.dir, name));
  }
  append(name: string, text: string): Promise<void> {
    return fs.promises.appendFile(path.join(this.dir, name), text);
  }
  describe(name: string): string {
    return path.join(this.dir, name);
  }
}

export async function openRunStore(loc: StoreLocation): Promise<RunStore> {
  if (loc.kind === 'local') {
    await fs.promises.mkdir(loc.path, { recursive: true });
    return new FolderRunStore(loc.path);
  }
  throw new Error(`--store s3://${loc.bucket}/${loc.prefix}: the S3 store is not wired into sere train yet`);
}

/** A checkpoint path usable by the file-based loaders (S3 objects are downloaded first). */
export async function fetchToLocal(location: string): Promise<string> {
  if (!location.startsWith('s3://')) {
    if (!fs.existsSync(location)) throw new Error(`--checkpoint ${location}: no such file`);
    return location;
  }
  throw new Error(`--checkpoint ${location}: reading checkpoints from S3 is not wired in yet`);
}
