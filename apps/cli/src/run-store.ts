/**
 * A checkpoint for `sere eval` as a local file: S3 objects are downloaded first. (A run's
 * store itself is opened by openRunStore in @sere/train.)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FlagError } from '@sere/config';
import { isStoreError, openStore } from '@sere/store';

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
 * a temporary folder that withLocalCheckpoint removes; hence not exported).
 */
async function fetchToLocal(location: string, flag = '--checkpoint'): Promise<string> {
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
