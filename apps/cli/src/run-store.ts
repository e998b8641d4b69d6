/**
 * The run's store for `sere train`, `sere eval` and the demo: a local folder or an S3
 * bucket, through libs/store (atomic writes, checksums verified on read, retries).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { StoreLocation } from '@sere/config';
import { openStore, type CheckpointStore } from '@sere/store';

export async function openRunStore(loc: StoreLocation): Promise<CheckpointStore> {
  if (loc.kind === 'local') {
    await fs.promises.mkdir(loc.path, { recursive: true });
    return openStore(loc.path);
  }
  return openStore(`s3://${loc.bucket}/${loc.prefix}`);
}

/** A checkpoint path usable by the file-based loaders (S3 objects are downloaded first). */
export async function fetchToLocal(location: string): Promise<string> {
  if (!location.startsWith('s3://')) {
    if (!fs.existsSync(location)) throw new Error(`--checkpoint ${location}: no such file`);
    return location;
  }
  const slash = location.lastIndexOf('/');
  const store = openStore(location.slice(0, slash));
  const bytes = await store.get(location.slice(slash + 1), { verify: 'if-present' });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sere-ckpt-')), location.slice(slash + 1));
  fs.writeFileSync(file, bytes);
  return file;
}
