/**
 * `--output_dir` / `--store` values to stores: a local path (or file:// URL) or
 * s3://bucket/prefix, with the S3 endpoint and keys from options or the environment.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCaFile, redactEndpoint } from './endpoint';
import { StoreError } from './errors';
import type { FsLayer } from './fs-layer';
import { LocalStore } from './local-store';
import type { RetryPolicy } from './retry';
import { S3Store } from './s3-store';
import type { CheckpointStore } from './store';

export interface OpenStoreOptions {
  /** S3 API endpoint; default SERE_S3_ENDPOINT. */
  endpoint?: string;
  /** Default SERE_S3_ACCESS_KEY. */
  accessKey?: string;
  /** Default SERE_S3_SECRET_KEY. */
  secretKey?: string;
  /** Default SERE_S3_REGION, else us-east-1. */
  region?: string;
  /** PEM file of the CA that signed an https endpoint's certificate; default SERE_S3_CA_FILE. */
  caFile?: string;
  retry?: Partial<RetryPolicy>;
  requestTimeoutMs?: number;
  partSizeBytes?: number;
  createBucket?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Local stores only: the file-system layer (tests inject failures through it). */
  fs?: FsLayer;
}

// S3's bucket naming rules, which every compatible server also enforces.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function openStore(url: string, options: OpenStoreOptions = {}): CheckpointStore {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new StoreError('invalid', String(url), 'open', 'store location is empty; expected a folder path or s3://bucket/prefix');
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return new LocalStore(path.resolve(url), options.fs);
  if (scheme === 'file') return new LocalStore(fileURLToPath(url), options.fs);
  if (scheme !== 's3') {
    throw new StoreError('invalid', url, 'open', `store '${url}': unsupported scheme '${scheme}://'; expected a folder path or s3://bucket/prefix`);
  }

  const rest = url.slice('s3://'.length);
  if (/^[^/]*@/.test(rest)) {
    throw new StoreError(
      'invalid',
      redactEndpoint(url),
      'open',
      `store '${redactEndpoint(url)}' carries credentials; write s3://bucket/prefix and set SERE_S3_ACCESS_KEY and SERE_S3_SECRET_KEY in the environment`,
    );
  }
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new StoreError(
      'invalid',
      url,
      'open',
      `store '${url}': '${bucket}' is not a valid bucket name (3-63 characters: lower-case letters, digits, '.' and '-', starting and ending with a letter or digit)`,
    );
  }
  const env = options.env ?? process.env;
  const setting = (value: string | undefined, variable: string): string => {
    const v = value ?? env[variable];
    if (!v) throw new StoreError('invalid', url, 'open', `store '${url}' needs ${variable} (or the matching option); it is not set`);
    return v;
  };
  const endpoint = setting(options.endpoint, 'SERE_S3_ENDPOINT');
  const caFile = options.caFile ?? (env.SERE_S3_CA_FILE || undefined);
  return new S3Store({
    bucket,
    prefix,
    endpoint,
    ca: caFile === undefined ? undefined : readCaFile(caFile, endpoint),
    accessKey: setting(options.accessKey, 'SERE_S3_ACCESS_KEY'),
    secretKey: setting(options.secretKey, 'SERE_S3_SECRET_KEY'),
    region: options.region ?? env.SERE_S3_REGION,
    retry: options.retry,
    requestTimeoutMs: options.requestTimeoutMs,
    partSizeBytes: options.partSizeBytes,
    createBucket: options.createBucket,
  });
}
