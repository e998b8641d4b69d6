/**
 * The run's store for `sere train`, `sere eval` and the demo: a local folder or an S3
 * bucket, through libs/store (atomic writes, checksums verified on read, retries).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FlagError, type StoreLocation } from '@sere/config';
import { isStoreError, openStore, StoreError, type CheckpointStore } from '@sere/store';

/** The folder of a local store, made if missing; `flag` is how the user named it. */
async function makeRunFolder(dir: string, flag: string): Promise<void> {
  try {
    await fs.promises.mkdir(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // mkdir says EEXIST for a file of that name and ENOTDIR for a file on the way to it.
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new FlagError(`${flag} ${dir}: ${fileOnTheWay(dir)} is a file, not a folder; name a folder (it is made if missing)`, flag);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new StoreError('permission', dir, 'open', `${flag} ${dir}: cannot make the folder: permission denied (${code})`, { cause: e });
    throw e;
  }
}

/** The first path component of `dir` that is not a folder. */
function fileOnTheWay(dir: string): string {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    if (fs.existsSync(p) && !fs.statSync(p).isDirectory()) return p === path.resolve(dir) ? dir : p;
    if (p === path.dirname(p)) return dir;
  }
}

export async function openRunStore(loc: StoreLocation, flag = '--output_dir'): Promise<CheckpointStore> {
  if (loc.kind === 'local') {
    await makeRunFolder(loc.path, flag);
    return openStore(loc.path);
  }
  return openStore(`s3://${loc.bucket}/${loc.prefix}`);
}

/**
 * Runs `use` on a local path of the checkpoint at `location`. An S3 object is downloaded
 * into a temporary folder of its own first, and that folder is removed once `use` is done,
 * whether it returned or threw: a checkpoint is hundreds of MB, and evaluations repeat.
 */
export async function withLocalCheckpoint<T>(location: string, use: (file: string) => T | Promise<T>): Promise<T> {
  const file = await fetchToLocal(location);
  try {
    return await use(file);
  } finally {
    if (location.startsWith('s3://')) fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

/**
 * A checkpoint path usable by the file-based loaders (S3 objects are downloaded first, into
 * a temporary folder the caller must remove: use withLocalCheckpoint).
 */
export async function fetchToLocal(location: string, flag = '--checkpoint'): Promise<string> {
  if (!location.startsWith('s3://')) {
    if (!fs.existsSync(location)) throw new FlagError(`${flag} ${location}: no such file`, flag);
    if (!fs.statSync(location).isFile()) throw new FlagError(`${flag} ${location}: is a folder, not a checkpoint file`, flag);
    return location;
  }
  const slash = location.lastIndexOf('/');
  const store = openStore(location.slice(0, slash));
  let bytes: Buffer;
  try {
    bytes = await store.get(location.slice(slash + 1), { verify: 'if-present' });
  } catch (e) {
    if (isStoreError(e, 'not-found')) throw new FlagError(`${flag} ${location}: no such object`, flag);
    throw e;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-ckpt-'));
  const file = path.join(dir, location.slice(slash + 1));
  try {
    fs.writeFileSync(file, bytes);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return file;
}
