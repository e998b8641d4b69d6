/**
 * Why a store operation failed, in words a person running `sere` can act on. The kind is
 * what callers branch on (resume skips 'not-found', the CLI maps kinds to exit codes); the
 * message names the file or object and says what was expected.
 */
export type StoreErrorKind =
  | 'not-found'
  | 'corrupt'
  | 'unreachable'
  | 'no-space'
  | 'permission'
  | 'invalid'
  | 'io';

export type StoreOperation = 'put' | 'get' | 'list' | 'exists' | 'delete' | 'append' | 'open';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly kind: StoreErrorKind,
    /** The file path or s3:// URL the operation was about. */
    readonly location: string,
    readonly operation: StoreOperation,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStoreError(e: unknown, kind?: StoreErrorKind): e is StoreError {
  return e instanceof StoreError && (kind === undefined || e.kind === kind);
}

/** Exit codes after sysexits.h, so scripts around `sere` can tell a full disk from a typo. */
export const EXIT_CODES: Readonly<Record<StoreErrorKind, number>> = {
  invalid: 64, // EX_USAGE
  corrupt: 65, // EX_DATAERR
  'not-found': 66, // EX_NOINPUT
  unreachable: 69, // EX_UNAVAILABLE
  'no-space': 73, // EX_CANTCREAT
  io: 74, // EX_IOERR
  permission: 77, // EX_NOPERM
};

const VERB: Record<StoreOperation, string> = {
  put: 'cannot write',
  get: 'cannot read',
  list: 'cannot list',
  exists: 'cannot look up',
  delete: 'cannot delete',
  append: 'cannot append to',
  open: 'cannot open store',
};

export function verb(operation: StoreOperation): string {
  return VERB[operation];
}

export function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Maps a file-system error to a StoreError; `after` is appended (e.g. what was kept intact). */
export function fromFsError(e: unknown, location: string, operation: StoreOperation, after = ''): StoreError {
  if (e instanceof StoreError) return e;
  const code = errnoOf(e);
  const detail = (e as Error)?.message ?? String(e);
  const tail = after ? `; ${after}` : '';
  const head = `${verb(operation)} ${location}`;
  switch (code) {
    case 'ENOENT':
      return new StoreError('not-found', location, operation, `${head}: no such file${tail}`, { cause: e });
    case 'ENOSPC':
    case 'EDQUOT':
      return new StoreError('no-space', location, operation, `${head}: disk full (${code}); free space or choose another --output_dir${tail}`, { cause: e });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new StoreError('permission', location, operation, `${head}: permission denied (${code})${tail}`, { cause: e });
    case 'ENOTDIR':
    case 'EISDIR':
      return new StoreError('invalid', location, operation, `${head}: a path component is of the wrong type (${code})${tail}`, { cause: e });
    default:
      return new StoreError('io', location, operation, `${head}: ${detail}${tail}`, { cause: e });
  }
}
