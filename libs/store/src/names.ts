/**
 * Names inside a store: relative, '/'-separated, every segment starting with a letter,
 * digit or '_'. Leading dots are kept for the store's own temporary files, and the
 * `.sha256` / `.sha256.pending` suffixes for its checksums, so no caller name collides
 * with either.
 */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._=+-]*$/;
export const CHECKSUM_SUFFIX = '.sha256';
export const PENDING_SUFFIX = '.sha256.pending';

export function nameProblem(name: string): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'is empty';
  if (name.length > 1024) return 'is longer than 1024 characters';
  const segments = name.split('/');
  for (const s of segments) {
    if (!SEGMENT.test(s)) return `has a segment '${s}' that is not letters, digits and ._=+- (starting with a letter, digit or _)`;
  }
  if (name.endsWith(CHECKSUM_SUFFIX) || name.endsWith(PENDING_SUFFIX)) return `ends in '${CHECKSUM_SUFFIX}', which the store keeps for checksums`;
  return null;
}

/**
 * Segment k >= 1 of a log on an object store: `metrics.jsonl~000001`. '~' is outside the
 * name alphabet, so no caller name collides, and the segments sort after the log's first
 * part, so `cat metrics.jsonl metrics.jsonl~*` reads the whole log.
 */
const LOG_SEGMENT = /~(\d{6,})$/;

export function logSegmentName(name: string, index: number): string {
  return index === 0 ? name : `${name}~${String(index).padStart(6, '0')}`;
}

/** The segment number of `key` if it is `name` (0) or one of its segments, else null. */
export function logSegmentIndex(key: string, name: string): number | null {
  if (key === name) return 0;
  if (!key.startsWith(`${name}~`)) return null;
  const m = LOG_SEGMENT.exec(key);
  return m && m.index === name.length ? Number(m[1]) : null;
}

/** True for files the store writes for itself (temporary files, checksums, log segments). */
export function isStoreInternal(baseName: string): boolean {
  return baseName.startsWith('.') || baseName.endsWith(CHECKSUM_SUFFIX) || baseName.endsWith(PENDING_SUFFIX) || LOG_SEGMENT.test(baseName);
}
