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

// Node's names for a certificate the client does not trust (or that names another host).
const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function classifyS3(e: unknown): S3Failure {
  const err = e as { code?: unknown; name?: unknown; message?: unknown } | null;
  const code = errnoOf(e);
  const message = typeof err?.message === 'string' ? err.message : String(e);
  const detail = code && !message.includes(code) ? `${code}: ${message}` : message;
  if (code && NETWORK_CODES.has(code)) return { kind: 'unreachable', retryable: true, detail };
  // Trying again meets the same certificate.
  if (code && TLS_CODES.has(code)) {
    const hint = 'the server\'s TLS certificate is not trusted; if a private CA signed it, set SERE_S3_CA_FILE to that CA\'s PEM file';
    return { kind: 'unreachable', retryable: false, detail: `${detail} (${hint})` };
  }
  if (code && S3_CODES[code]) return { ...S3_CODES[code], detail };
  // Node's http client reports a server that closed mid-request without an errno.
  if (/socket hang up|^aborted$|premature close|Retryable HTTP status/i.test(message)) return { kind: 'unreachable', retryable: true, detail };
  // minio's client-side checks (bucket and object names) throw by class name.
  if (err?.name === 'InvalidBucketNameError' || err?.name === 'InvalidObjectNameError' || err?.name === 'InvalidArgumentError') {
    return { kind: 'invalid', retryable: false, detail };
  }
  return { kind: 'io', retryable: false, detail };
}
