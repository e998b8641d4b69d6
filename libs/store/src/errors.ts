import { EXIT, type ExitCode, type ExitCoded } from '@sere/config';

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

export class StoreError extends Error implements ExitCoded {
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

  get exitCode(): ExitCode {
    return EXIT_CODES[this.kind];
  }
}

export function isStoreError(e: unknown, kind?: StoreErrorKind): e is StoreError {
  return e instanceof StoreError && (kind === undefined || e.kind === kind);
}

/** The exit code of each kind (the table and its meanings: EXIT in libs/config). */
export const EXIT_CODES: Readonly<Record<StoreErrorKind, ExitCode>> = {
  invalid: EXIT.usage,
  corrupt: EXIT.corrupt,
  'not-found': EXIT.notFound,
  unreachable: EXIT.unavailable,
  'no-space': EXIT.noSpace,
  io: EXIT.io,
  permission: EXIT.permission,
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

/**
 * Refuses to cut a log of `size` bytes back to `length` unless it is a whole number of them:
 * a longer cut would pad the log (truncate(2) pads with zeros) instead of shortening it.
 */
export function checkLogCut(location: string, length: number, size: number): void {
  if (!Number.isInteger(length) || length < 0 || length > size) {
    throw new StoreError('invalid', location, 'append', `cannot cut ${location} back to ${length} bytes: it holds ${size}`);
  }
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
