/**
 * The local store's temporary files, named after their writer so that a writer killed in
 * the middle of a put (SIGKILL, a crash, a lost node) leaves something the next put into
 * the same folder can recognise and remove:
 *
 *   .<name>.<pid>.<thread>.<n>.<host>.tmp
 *
 * A file is stale once its writer is gone: on this host, a pid that no longer runs; for
 * this very thread, a put that is no longer in progress (a restarted container is often
 * pid 1 again). Files from other hosts are never touched, since from here nothing tells
 * whether their writer still runs; nor are files of another thread of this process. So a
 * live writer's file is never removed, provided two writers sharing a folder never share
 * host name and pid (containers that share a volume but each have their own host name, as
 * they do by default, are fine).
 */
import { hostname } from 'node:os';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import type { FsLayer } from './fs-layer';

// Host names may hold dots and more; keep letters, digits and '-' so the name parses back.
const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-') || 'localhost';
// The last four dot-separated parts before '.tmp' are the owner, whatever the name holds.
const TEMP = /^\..+\.(\d+)\.(\d+)\.\d+\.([A-Za-z0-9-]+)\.tmp$/;

let counter = 0;
/** Temporary files of puts in progress in this thread. */
const inFlight = new Set<string>();

export interface TempOwner {
  pid: number;
  thread: number;
  host: string;
}

/** This thread of this process on this host. */
export const THIS_WRITER: Readonly<TempOwner> = { pid: process.pid, thread: threadId, host: HOST };

/** The temporary path beside `file` that `owner` uses for its put number `n`. */
export function tempName(file: string, owner: TempOwner, n: number): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${owner.pid}.${owner.thread}.${n}.${owner.host}.tmp`);
}

/** A fresh temporary path beside `file` (for `file` itself or its checksum), marked in progress. */
export function claimTemp(file: string): string {
  const tmp = tempName(file, THIS_WRITER, ++counter);
  inFlight.add(tmp);
  return tmp;
}

/** The put that claimed `tmp` is over (committed or failed). */
export function releaseTemp(tmp: string): void {
  inFlight.delete(tmp);
}

export interface Liveness {
  host: string;
  /** Whether a process with this pid runs on this host. */
  running(pid: number): boolean;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, under another user.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const THIS_HOST: Liveness = { host: HOST, running };

/** Whether `baseName` (an entry of `dir`) is a temporary file whose writer is gone. */
export function isStaleTemp(dir: string, baseName: string, live: Liveness = THIS_HOST): boolean {
  const m = TEMP.exec(baseName);
  if (!m || m[3] !== live.host) return false;
  const pid = Number(m[1]);
  if (pid !== process.pid) return !live.running(pid);
  return Number(m[2]) === threadId && !inFlight.has(path.join(dir, baseName));
}

/**
 * Removes the stale temporary files in `dir`. Best effort: a file another cleaner removed
 * first, or one we may not remove, is left to the next put.
 */
export async function removeStaleTemps(fs: FsLayer, dir: string, live: Liveness = THIS_HOST): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !isStaleTemp(dir, entry.name, live)) continue;
    try {
      await fs.unlink(path.join(dir, entry.name));
      removed.push(entry.name);
    } catch {
      // see above
    }
  }
  return removed;
}
