/**
 * The run's store from the flags: a local folder (made if missing) or an S3 bucket, through
 * libs/store (atomic writes, checksums verified on read, retries).
 */
import * as fs from 'fs';
import * as path from 'path';
import { FlagError, type StoreLocation } from '@sere/config';
import { openStore, StoreError, type CheckpointStore } from '@sere/store';

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

/** `flag` names the location in messages (--output_dir, --store, or a command's own flag). */
export async function openRunStore(loc: StoreLocation, flag = '--output_dir'): Promise<CheckpointStore> {
  if (loc.kind === 'local') {
    await makeRunFolder(loc.path, flag);
    return openStore(loc.path);
  }
  return openStore(`s3://${loc.bucket}/${loc.prefix}`);
}
