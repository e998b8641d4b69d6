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

/** True for files the store writes for itself (temporary files, checksums). */
export function isStoreInternal(baseName: string): boolean {
  return baseName.startsWith('.') || baseName.endsWith(CHECKSUM_SUFFIX) || baseName.endsWith(PENDING_SUFFIX);
}
