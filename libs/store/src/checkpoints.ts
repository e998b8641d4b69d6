/**
 * Checkpoint names as the reference training script writes them: `checkpoint.pth` every
 * epoch (the one to resume from) and `checkpoint0040.pth` every `saveckp_freq` epochs.
 */
import { StoreError } from './errors';
import type { CheckpointStore } from './store';

export const RESUME_CHECKPOINT = 'checkpoint.pth';
const NUMBERED = /^checkpoint(\d{4,})\.pth$/;

/** `checkpoint.pth` without an epoch, `checkpoint0040.pth` with one. */
export function checkpointName(epoch?: number): string {
  if (epoch === undefined) return RESUME_CHECKPOINT;
  if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`checkpoint epoch must be a whole number >= 0, got ${epoch}`);
  return `checkpoint${String(epoch).padStart(4, '0')}.pth`;
}

/** The epoch of a numbered checkpoint's file name, or null for any other name. */
export function checkpointEpoch(fileName: string): number | null {
  const m = NUMBERED.exec(fileName);
  return m ? Number(m[1]) : null;
}

export interface CheckpointListing {
  /** `<prefix>checkpoint.pth` when present. */
  resume: string | null;
  /** Numbered checkpoints, oldest epoch first. */
  numbered: { name: string; epoch: number }[];
  /** What to resume from: `checkpoint.pth`, else the newest numbered one, else null. */
  latest: string | null;
}

function joinPrefix(prefix: string, name: string): string {
  return prefix === '' || prefix.endsWith('/') ? `${prefix}${name}` : `${prefix}/${name}`;
}

/** The checkpoints directly under `prefix` (a folder inside the store, '' for its root). */
export async function listCheckpoints(store: CheckpointStore, prefix = ''): Promise<CheckpointListing> {
  const folder = joinPrefix(prefix, '');
  const names = await store.list(folder);
  let resume: string | null = null;
  const numbered: { name: string; epoch: number }[] = [];
  for (const name of names) {
    const base = name.slice(folder.length);
    if (base.includes('/')) continue;
    if (base === RESUME_CHECKPOINT) resume = name;
    const epoch = checkpointEpoch(base);
    if (epoch !== null) numbered.push({ name, epoch });
  }
  numbered.sort((a, b) => a.epoch - b.epoch);
  return { resume, numbered, latest: resume ?? numbered.at(-1)?.name ?? null };
}

export interface LoadedCheckpoint {
  name: string;
  bytes: Buffer;
  /** Newer candidates that failed verification, newest first: report them, they are damaged. */
  skipped: StoreError[];
}

/**
 * The newest checkpoint that verifies: `checkpoint.pth`, then numbered ones newest first.
 * A damaged file is skipped (and returned in `skipped`) rather than ending the run, since
 * an older good checkpoint loses less work than none. Null when there is nothing to resume.
 * Errors other than damage (store unreachable, permission) are thrown.
 */
export async function loadLatestCheckpoint(store: CheckpointStore, prefix = ''): Promise<LoadedCheckpoint | null> {
  const listing = await listCheckpoints(store, prefix);
  const candidates = [...(listing.resume ? [listing.resume] : []), ...listing.numbered.map((c) => c.name).reverse()];
  const skipped: StoreError[] = [];
  for (const name of candidates) {
    try {
      return { name, bytes: await store.get(name), skipped };
    } catch (e) {
      if (e instanceof StoreError && (e.kind === 'corrupt' || e.kind === 'not-found')) {
        skipped.push(e);
        continue;
      }
      throw e;
    }
  }
  if (skipped.length > 0) {
    throw new StoreError(
      'corrupt',
      store.describe(joinPrefix(prefix, '')),
      'get',
      `no checkpoint under ${store.describe(joinPrefix(prefix, ''))} verifies:\n  ${skipped.map((e) => e.message).join('\n  ')}`,
    );
  }
  return null;
}
