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
import { checkLogCut, StoreError, verb, type StoreOperation } from './errors';
import { isStoreInternal, logSegmentIndex, logSegmentName, nameProblem } from './names';
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
  /** A log's segment is rewritten by appends until it holds this much, then the next begins (default 256 KiB). */
  logSegmentBytes?: number;
}

/** Where a log's last segment stands, as this process last wrote it. */
interface LogTail {
  index: number;
  bytes: Buffer;
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
  private readonly logSegmentBytes: number;
  /** Appends of this process per log name: one writer per log, so no listing per append. */
  private readonly tails = new Map<string, LogTail>();
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
    this.logSegmentBytes = options.logSegmentBytes ?? 256 * 1024;
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
    await this.putKey(this.key(name, 'put'), this.describe(name), bytes);
  }

  private async putKey(key: string, location: string, bytes: Uint8Array): Promise<void> {
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
    return this.getKey(this.key(name, 'get'), this.describe(name), options);
  }

  private async getKey(key: string, location: string, options: GetOptions = {}): Promise<Buffer> {
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
        `cannot verify ${location}: the object has no ${METADATA_HEADER} metadata, so it was not written by a checkpoint store` +
          (options.uncheckedHint ? `; ${options.uncheckedHint}` : ''),
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

  async version(name: string): Promise<string | null> {
    const key = this.key(name, 'exists');
    try {
      const stat = await this.run('exists', this.describe(name), () => this.client.statObject(this.bucket, key));
      const hex = stat.metaData?.[METADATA_KEY];
      return typeof hex === 'string' && /^[0-9a-f]{64}$/.test(hex) ? `sha256:${hex}` : `etag:${stat.etag}:size:${stat.size}`;
    } catch (e) {
      if (e instanceof StoreError && e.kind === 'not-found') return null;
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
    this.tails.delete(name);
    // A log's later segments first, so an interrupted delete leaves a shorter log, not a gap.
    const later = (await this.segments(name, 'delete')).filter((s) => s.index > 0).reverse();
    for (const s of [...later.map((l) => l.key), key]) await this.removeKey(s, this.describe(name));
  }

  async append(name: string, text: string): Promise<void> {
    this.key(name, 'append');
    const add = Buffer.from(text, 'utf8');
    try {
      let tail = this.tails.get(name) ?? null;
      let size = tail?.bytes.length ?? 0;
      let index = tail?.index ?? 0;
      if (!tail) {
        const last = (await this.segments(name, 'append')).at(-1);
        index = last?.index ?? 0;
        size = last?.size ?? 0;
      }
      let next: LogTail;
      if (size > 0 && size + add.length > this.logSegmentBytes) {
        next = { index: index + 1, bytes: add };
      } else {
        // The last segment is small: fetched once per process, then kept here.
        tail ??= { index, bytes: size > 0 ? await this.getKey(this.segmentKey(name, index), this.describe(name), { verify: 'if-present' }) : Buffer.alloc(0) };
        next = { index, bytes: Buffer.concat([tail.bytes, add]) };
      }
      await this.putKey(this.segmentKey(name, next.index), this.describe(logSegmentName(name, next.index)), next.bytes);
      this.tails.set(name, next);
    } catch (e) {
      // After a failed put the segment holds the old or the new text: find out next time.
      this.tails.delete(name);
      throw e;
    }
  }

  async readLog(name: string): Promise<Buffer | null> {
    this.key(name, 'get');
    const segments = await this.segments(name, 'get');
    if (segments.length === 0) return null;
    const parts: Buffer[] = [];
    for (const s of segments) parts.push(await this.getKey(s.key, this.describe(logSegmentName(name, s.index)), { verify: 'if-present' }));
    return Buffer.concat(parts);
  }

  async truncateLog(name: string, length: number): Promise<void> {
    this.key(name, 'append');
    this.tails.delete(name);
    const segments = await this.segments(name, 'append');
    checkLogCut(this.describe(name), length, segments.reduce((n, s) => n + s.size, 0));
    let start = 0;
    const cut = segments.findIndex((s) => (start += s.size) > length);
    if (cut < 0) return;
    const first = segments[cut];
    const keep = length - (start - first.size);
    // Later segments first, last to first: an interruption leaves a longer prefix of the
    // old log, which the next resume cuts again, never a log with a hole in it.
    for (const s of segments.slice(cut + 1).reverse()) await this.removeKey(s.key, this.describe(name));
    const location = this.describe(logSegmentName(name, first.index));
    if (keep === 0 && first.index > 0) await this.removeKey(first.key, location);
    else await this.putKey(first.key, location, (await this.getKey(first.key, location, { verify: 'if-present' })).subarray(0, keep));
  }

  private segmentKey(name: string, index: number): string {
    return this.keyPrefix + logSegmentName(name, index);
  }

  /** The objects of log `name` (the log itself and its segments) in order, with their sizes. */
  private async segments(name: string, operation: StoreOperation): Promise<{ index: number; key: string; size: number }[]> {
    const base = this.keyPrefix + name;
    try {
      return await this.run(operation, this.describe(name), async () => {
        const out: { index: number; key: string; size: number }[] = [];
        for await (const item of this.client.listObjectsV2(this.bucket, base, true)) {
          const { name: key, size } = item as { name?: string; size?: number };
          const index = key === undefined ? null : logSegmentIndex(key, base);
          if (index !== null) out.push({ index, key: key!, size: size ?? 0 });
        }
        return out.sort((a, b) => a.index - b.index);
      });
    } catch (e) {
      if (e instanceof StoreError && e.kind === 'not-found') return [];
      throw e;
    }
  }

  private async removeKey(key: string, location: string): Promise<void> {
    try {
      await this.run('delete', location, () => this.client.removeObject(this.bucket, key));
    } catch (e) {
      if (!(e instanceof StoreError && e.kind === 'not-found')) throw e;
    }
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
