/**
 * What a failed S3 request means for the caller: which StoreError kind, and whether trying
 * again can help. Network failures and 5xx answers are transient; a wrong key is not.
 */
import { errnoOf, type StoreErrorKind } from './errors';

export interface S3Failure {
  kind: StoreErrorKind;
  retryable: boolean;
  detail: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

const S3_CODES: Record<string, { kind: StoreErrorKind; retryable: boolean }> = {
  NoSuchKey: { kind: 'not-found', retryable: false },
  NotFound: { kind: 'not-found', retryable: false },
  NoSuchBucket: { kind: 'not-found', retryable: false },
  AccessDenied: { kind: 'permission', retryable: false },
  Forbidden: { kind: 'permission', retryable: false },
  InvalidAccessKeyId: { kind: 'permission', retryable: false },
  SignatureDoesNotMatch: { kind: 'permission', retryable: false },
  AllAccessDisabled: { kind: 'permission', retryable: false },
  XMinioStorageFull: { kind: 'no-space', retryable: false },
  InsufficientStorage: { kind: 'no-space', retryable: false },
  QuotaExceeded: { kind: 'no-space', retryable: false },
  InvalidBucketName: { kind: 'invalid', retryable: false },
  InvalidObjectName: { kind: 'invalid', retryable: false },
  SlowDown: { kind: 'unreachable', retryable: true },
  ServiceUnavailable: { kind: 'unreachable', retryable: true },
  InternalError: { kind: 'unreachable', retryable: true },
  RequestTimeout: { kind: 'unreachable', retryable: true },
};

export function classifyS3(e: unknown): S3Failure {
  const err = e as { code?: unknown; name?: unknown; message?: unknown } | null;
  const code = errnoOf(e);
  const message = typeof err?.message === 'string' ? err.message : String(e);
  const detail = code && !message.includes(code) ? `${code}: ${message}` : message;
  if (code && NETWORK_CODES.has(code)) return { kind: 'unreachable', retryable: true, detail };
  if (code && S3_CODES[code]) return { ...S3_CODES[code], detail };
  // Node's http client reports a server that closed mid-request without an errno.
  if (/socket hang up|^aborted$|premature close|Retryable HTTP status/i.test(message)) return { kind: 'unreachable', retryable: true, detail };
  // minio's client-side checks (bucket and object names) throw by class name.
  if (err?.name === 'InvalidBucketNameError' || err?.name === 'InvalidObjectNameError' || err?.name === 'InvalidArgumentError') {
    return { kind: 'invalid', retryable: false, detail };
  }
  return { kind: 'io', retryable: false, detail };
}
