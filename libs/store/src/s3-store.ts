/**
 * Checkpoints in an S3 bucket (any S3-compatible server) through the `minio` client.
 *
 * An object PUT is atomic: the name shows the old object until the new one is complete, and
 * an upload cut short leaves nothing under the name. The SHA-256 travels in the same PUT as
 * object metadata (x-amz-meta-sha256), so data and checksum can never disagree because of
 * an interruption; after the PUT a HEAD confirms size and checksum.
 *
 * minio's own retry is switched off: it retries only 5xx answers and logs to the console.
 * Ours also covers refused and reset connections, with a bounded budget and a clear error.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { Client } from 'minio';
import { sha256Hex } from './checksum';
import { parseEndpoint } from './endpoint';
import { StoreError, verb, type StoreOperation } from './errors';
import { isStoreInternal, nameProblem } from './names';
import { DEFAULT_RETRY, RetriesExhausted, withRetry, type RetryPolicy } from './retry';
import { classifyS3 } from './s3-errors';
import type { CheckpointStore, GetOptions } from './store';

export interface S3StoreOptions {
  bucket: string;
  /** Folder inside the bucket; '' or 'runs/vit-s' (a trailing '/' is added). */
  prefix?: string;
  /** http(s)://host:port of the S3 API, without credentials (see endpoint.ts). */
  endpoint: string;
  /**
   * PEM certificates of the CA that signed an https endpoint's certificate (say, a cluster's
   * private CA). They replace Node's default trust store for this client only.
   */
  ca?: string | Buffer;
  accessKey: string;
  secretKey: string;
  /** Default us-east-1; set it so the client skips a bucket-location request per bucket. */
  region?: string;
  retry?: Partial<RetryPolicy>;
  /** A request with no traffic for this long is abandoned and retried (default 60 s). */
  requestTimeoutMs?: number;
  /** Uploads larger than this go in parts (default 64 MiB, minio's; at least 5 MiB). */
  partSizeBytes?: number;
  /** Create the bucket on the first write if it is missing (default true). */
  createBucket?: boolean;
}

export const METADATA_KEY = 'sha256';
const METADATA_HEADER = `x-amz-meta-${METADATA_KEY}`;

/** A transport whose requests give up after `timeoutMs` without traffic: a hung server is unreachable too. */
function timedTransport(secure: boolean, timeoutMs: number): Pick<typeof http, 'request'> {
  const base = secure ? https : http;
  const request = ((options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void) => {
    const req = base.request(options, callback);
    req.setTimeout(timeoutMs, () => {
      const err = new Error(`no answer for ${timeoutMs} ms`) as NodeJS.ErrnoException;
      err.code = 'ETIMEDOUT';
      req.destroy(err);
    });
    return req;
  }) as typeof http.request;
  return { request };
}

export class S3Store implements CheckpointStore {
  readonly root: string;
  readonly bucket: string;
  readonly endpoint: string;
  private readonly keyPrefix: string;
  private readonly client: Client;
  private readonly retry: RetryPolicy;
  private readonly partSize: number;
  private readonly createBucket: boolean;
  private readonly region: string;
  private bucketReady: Promise<void> | null = null;

  constructor(options: S3StoreOptions) {
    const { host, port, useSSL } = parseEndpoint(options.endpoint);
    if (options.ca !== undefined && !useSSL) {
      throw new StoreError('invalid', options.endpoint, 'open', `S3 endpoint '${options.endpoint}' is http://; a CA certificate applies only to https:// endpoints`);
    }
    this.bucket = options.bucket;
    this.keyPrefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (this.keyPrefix) this.keyPrefix += '/';
    this.root = `s3://${this.bucket}/${this.keyPrefix}`;
    this.endpoint = options.endpoint;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.partSize = options.partSizeBytes ?? 64 * 1024 * 1024;
    this.createBucket = options.createBucket ?? true;
    this.region = options.region ?? 'us-east-1';
    try {
      this.client = new Client({
        endPoint: host,
        port,
        useSSL,
        accessKey: options.accessKey,
        secretKey: options.secretKey,
        region: this.region,
        partSize: this.partSize,
        transport: timedTransport(useSSL, options.requestTimeoutMs ?? 60_000),
        // minio passes its agent into every request's options, so the CA reaches the TLS handshake.
        ...(options.ca !== undefined ? { transportAgent: new https.Agent({ ca: options.ca, keepAlive: true }) } : {}),
        retryOptions: { disableRetry: true },
      });
    } catch (e) {
      throw new StoreError('invalid', this.root, 'open', `cannot open store ${this.root} at ${options.endpoint}: ${(e as Error).message}`, { cause: e });
    }
  }

  describe(name: string): string {
    return `${this.root}${name}`;
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    const key = this.key(name, 'put');
    const location = this.describe(name);
    const body = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const hex = sha256Hex(body);
    await this.ensureBucket('put', location);
    try {
      await this.run('put', location, async () => {
        await this.client.putObject(this.bucket, key, body, body.length, {
          'Content-Type': 'application/octet-stream',
          [METADATA_HEADER]: hex,
        });
        const stat = await this.client.statObject(this.bucket, key);
        const stored = stat.metaData?.[METADATA_KEY];
        if (stat.size !== body.length || stored !== hex) {
          throw new StoreError(
            'io',
            location,
            'put',
            `${location}: after the upload the server reports ${stat.size} bytes with sha256 ${String(stored).slice(0, 16)}..., ` +
              `expected ${body.length} bytes with ${hex.slice(0, 16)}... (another writer on the same name?)`,
          );
        }
      });
    } catch (e) {
      // A multipart upload cut short keeps its parts on the server (invisible, but billed).
      if (body.length > this.partSize) await this.client.removeIncompleteUpload(this.bucket, key).catch(() => undefined);
      throw e;
    }
  }

  async get(name: string, options: GetOptions = {}): Promise<Buffer> {
    const key = this.key(name, 'get');
    const location = this.describe(name);
    const { bytes, digest } = await this.run('get', location, async () => {
      // Data and checksum come from one response, so a concurrent overwrite cannot pair
      // the new bytes with the old checksum.
      const res = (await this.client.getObject(this.bucket, key)) as Readable & { headers?: http.IncomingHttpHeaders };
      const declared = Number(res.headers?.['content-length'] ?? NaN);
      const header = res.headers?.[METADATA_HEADER];
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      const got = Buffer.concat(chunks);
      if (Number.isFinite(declared) && got.length !== declared) {
        const err = new Error(`response ended after ${got.length} of ${declared} bytes`) as NodeJS.ErrnoException;
        err.code = 'ECONNRESET';
        throw err;
      }
      return { bytes: got, digest: typeof header === 'string' ? header : undefined };
    });
    const hex = sha256Hex(bytes);
    if (digest === hex) return bytes;
    if (digest === undefined) {
      if (options.verify === 'if-present') return bytes;
      throw new StoreError(
        'corrupt',
        location,
        'get',
        `cannot verify ${location}: the object has no ${METADATA_HEADER} metadata, so it was not written by a checkpoint store ` +
          `(read it with verify: 'if-present' to accept it unchecked)`,
      );
    }
    throw new StoreError(
      'corrupt',
      location,
      'get',
      `${location} is damaged or truncated: its ${bytes.length} bytes hash to sha256 ${hex.slice(0, 16)}..., ` +
        `but the object's ${METADATA_HEADER} records ${digest.slice(0, 16)}...`,
    );
  }

  async list(prefix = ''): Promise<string[]> {
    const location = this.describe(prefix);
    try {
      return await this.run('list', location, async () => {
        const names: string[] = [];
        for await (const item of this.client.listObjectsV2(this.bucket, this.keyPrefix + prefix, true)) {
          const name = (item as { name?: string }).name;
          if (!name?.startsWith(this.keyPrefix)) continue;
          const rel = name.slice(this.keyPrefix.length);
          if (!isStoreInternal(rel.slice(rel.lastIndexOf('/') + 1))) names.push(rel);
        }
        return names.sort();
      });
    } catch (e) {
      // A bucket nobody has written to yet holds nothing: a fresh run starts from scratch.
      if (e instanceof StoreError && e.kind === 'not-found') return [];
      throw e;
    }
  }

  async exists(name: string): Promise<boolean> {
    const key = this.key(name, 'exists');
    try {
      await this.run('exists', this.describe(name), () => this.client.statObject(this.bucket, key));
      return true;
    } catch (e) {
      if (e instanceof StoreError && e.kind === 'not-found') return false;
      throw e;
    }
  }

  async delete(name: string): Promise<void> {
    const key = this.key(name, 'delete');
    try {
      await this.run('delete', this.describe(name), () => this.client.removeObject(this.bucket, key));
    } catch (e) {
      if (e instanceof StoreError && e.kind === 'not-found') return;
      throw e;
    }
  }

  async append(name: string, text: string): Promise<void> {
    let current: Buffer;
    try {
      current = await this.get(name, { verify: 'if-present' });
    } catch (e) {
      if (!(e instanceof StoreError && e.kind === 'not-found')) throw e;
      current = Buffer.alloc(0);
    }
    await this.put(name, Buffer.concat([current, Buffer.from(text, 'utf8')]));
  }

  private key(name: string, operation: StoreOperation): string {
    const problem = nameProblem(name);
    if (problem) throw new StoreError('invalid', this.describe(String(name)), operation, `checkpoint name '${name}' ${problem}`);
    return this.keyPrefix + name;
  }

  private ensureBucket(operation: StoreOperation, location: string): Promise<void> {
    if (!this.createBucket) return Promise.resolve();
    this.bucketReady ??= this.run(
      operation,
      location,
      async () => {
        if (await this.client.bucketExists(this.bucket)) return;
        try {
          await this.client.makeBucket(this.bucket, this.region);
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw e;
        }
      },
      ` (making sure bucket '${this.bucket}' exists)`,
    ).catch((e: unknown) => {
      this.bucketReady = null;
      throw e;
    });
    return this.bucketReady;
  }

  /** One request (or a few that belong together) under the retry budget, errors as StoreError. */
  private async run<T>(operation: StoreOperation, location: string, op: () => Promise<T>, context = ''): Promise<T> {
    try {
      return await withRetry(this.retry, op, (e) => !(e instanceof StoreError) && classifyS3(e).retryable);
    } catch (e) {
      if (e instanceof StoreError) throw e;
      const head = `${verb(operation)} ${location}${context}`;
      const after = operation === 'put' ? '; no partial object is left under that name and objects stored before are untouched' : '';
      if (e instanceof RetriesExhausted) {
        const f = classifyS3(e.last);
        throw new StoreError(
          f.kind,
          location,
          operation,
          `${head}: S3 endpoint ${this.endpoint} did not answer usefully in ${e.attempts} attempts over ` +
            `${(e.elapsedMs / 1000).toFixed(1)} s (last error: ${f.detail})${after}`,
          { cause: e.last },
        );
      }
      const f = classifyS3(e);
      let detail = f.detail;
      if (f.kind === 'permission') detail += ` (check SERE_S3_ACCESS_KEY / SERE_S3_SECRET_KEY for ${this.endpoint})`;
      if ((e as { code?: string }).code === 'NoSuchBucket') detail = `bucket '${this.bucket}' does not exist at ${this.endpoint}`;
      throw new StoreError(f.kind, location, operation, `${head}: ${detail}${after}`, { cause: e });
    }
  }
}
