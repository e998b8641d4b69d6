/**
 * The S3 checkpoint store against a real S3 server (SeaweedFS from scripts/s3/s3.sh):
 * round trips, bucket creation, damage detected behind the store's back with the plain
 * minio client, and the server going away in the middle of an upload.
 */
import { Client } from 'minio';
import { RunLog } from '@sere/train';
import { makeTestCa, type TestCa } from '@sere/store/testing';
import {
  checkpointName,
  openStore,
  listCheckpoints,
  loadLatestCheckpoint,
  METADATA_KEY,
  S3Store,
  sha256Hex,
  StoreError,
  type S3StoreOptions,
} from '@sere/store';
import { ACCESS_KEY, emptyBucket, ensureS3, rawClient, S3_PORT, SECRET_KEY, type S3Server } from './s3-harness';
import { TcpRelay } from './tcp-relay';
import { TlsRelay } from './tls-relay';

jest.setTimeout(120_000);

// Unique per run so reruns against a long-lived server start from empty buckets.
const RUN = `${Date.now().toString(36)}-${process.pid}`;
const BUILD_TIMEOUT_MS = 1_260_000;
const FAST_RETRY = { attempts: 3, firstDelayMs: 100, maxDelayMs: 400 };

/** Position-dependent bytes: a mix of two versions cannot pass for either. */
function bytes(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function storeError(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => new Error('expected the call to fail, but it succeeded'),
    (err: unknown) => err,
  );
  if (!(e instanceof StoreError)) throw e;
  return e;
}

describe('S3Store against SeaweedFS', () => {
  let s3: S3Server;
  let raw: Client;
  const bucket = `sere-e2e-${RUN}`;
  const options = (extra: Partial<S3StoreOptions> = {}): S3StoreOptions => ({
    bucket,
    prefix: 'runs/vit-s',
    endpoint: s3.endpoint,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    retry: FAST_RETRY,
    // Small parts so a 12 MiB checkpoint takes the multipart path, as a ViT-B one does.
    partSizeBytes: 5 * 1024 * 1024,
    ...extra,
  });

  // The first start on a machine fetches the server (seconds), or builds it from source with
  // SERE_S3_FROM=source (about 12 minutes on 2 cores), hence the long timeout.
  beforeAll(async () => {
    s3 = await ensureS3(S3_PORT);
    raw = rawClient(s3.port);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (raw) await emptyBucket(raw, bucket);
    await s3?.release();
  });

  it('creates the bucket on the first write', async () => {
    expect(await raw.bucketExists(bucket)).toBe(false);
    const store = new S3Store(options());
    expect(await store.list()).toEqual([]); // reading does not create it
    expect(await raw.bucketExists(bucket)).toBe(false);
    await store.put('config.json', Buffer.from('{}'));
    expect(await raw.bucketExists(bucket)).toBe(true);
  });

  it('round-trips a multi-MB checkpoint (multipart) and a small one, with the checksum as metadata', async () => {
    const store = new S3Store(options());
    const big = bytes(12 * 1024 * 1024 + 123, 1);
    const small = bytes(1000, 2);
    await store.put('checkpoint.pth', big);
    await store.put(checkpointName(40), small);
    expect((await store.get('checkpoint.pth')).equals(big)).toBe(true);
    expect((await store.get('checkpoint0040.pth')).equals(small)).toBe(true);
    const stat = await raw.statObject(bucket, 'runs/vit-s/checkpoint.pth');
    expect(stat.size).toBe(big.length);
    expect(stat.metaData[METADATA_KEY]).toBe(sha256Hex(big));
    expect(await store.list()).toEqual(['checkpoint.pth', 'checkpoint0040.pth', 'config.json']);
    expect(await store.exists('checkpoint.pth')).toBe(true);
    expect(await store.exists('checkpoint9999.pth')).toBe(false);

    // Overwrite in place, then delete.
    await store.put('checkpoint.pth', small);
    expect((await store.get('checkpoint.pth')).equals(small)).toBe(true);
    await store.delete('checkpoint0040.pth');
    await store.delete('checkpoint0040.pth');
    expect(await store.list()).toEqual(['checkpoint.pth', 'config.json']);
  });

  it('finds the resume checkpoint and lists by prefix', async () => {
    const store = new S3Store(options({ prefix: 'runs/listing' }));
    await store.put('checkpoint0020.pth', Buffer.from('20'));
    await store.put('checkpoint0100.pth', Buffer.from('100'));
    await store.put('eval/knn.json', Buffer.from('{}'));
    expect(await store.list('eval/')).toEqual(['eval/knn.json']);
    const listing = await listCheckpoints(store);
    expect(listing.resume).toBeNull();
    expect(listing.numbered.map((c) => c.epoch)).toEqual([20, 100]);
    expect(listing.latest).toBe('checkpoint0100.pth');
    await store.put('checkpoint.pth', Buffer.from('latest'));
    const loaded = await loadLatestCheckpoint(store);
    expect(loaded?.name).toBe('checkpoint.pth');
    expect(loaded?.bytes.toString()).toBe('latest');
  });

  it('says which bytes an object holds without reading them: the recorded sha256, else the ETag', async () => {
    const store = new S3Store(options({ prefix: 'runs/version' }));
    expect(await store.version('checkpoint.pth')).toBeNull();
    const data = bytes(1024, 5);
    await store.put('checkpoint.pth', data);
    expect(await store.version('checkpoint.pth')).toBe(`sha256:${sha256Hex(data)}`);
    await raw.putObject(bucket, 'runs/version/foreign.pth', data, data.length);
    expect(await store.version('foreign.pth')).toMatch(/^etag:[0-9a-f]+:size:1024$/);
  });

  it('detects an object damaged behind its back', async () => {
    const store = new S3Store(options({ prefix: 'runs/damage' }));
    const data = bytes(3 * 1024 * 1024, 3);
    await store.put('checkpoint.pth', data);
    const key = 'runs/damage/checkpoint.pth';
    const meta = { [`x-amz-meta-${METADATA_KEY}`]: sha256Hex(data) };

    const flipped = Buffer.from(data);
    flipped[1_000_000] ^= 0x80;
    await raw.putObject(bucket, key, flipped, flipped.length, meta);
    const e1 = await storeError(store.get('checkpoint.pth'));
    expect(e1.kind).toBe('corrupt');
    expect(e1.location).toBe(`s3://${bucket}/${key}`);
    expect(e1.message).toMatch(/damaged or truncated/);

    const truncated = data.subarray(0, 2 * 1024 * 1024);
    await raw.putObject(bucket, key, truncated, truncated.length, meta);
    const e2 = await storeError(store.get('checkpoint.pth'));
    expect(e2.kind).toBe('corrupt');
    expect(e2.message).toContain(`${truncated.length} bytes`);

    await raw.putObject(bucket, key, data, data.length);
    const e3 = await storeError(store.get('checkpoint.pth'));
    expect(e3.kind).toBe('corrupt');
    expect(e3.message).toMatch(/no x-amz-meta-sha256 metadata/);
    expect(e3.message).not.toMatch(/verify:|if-present/);
    const hinted = await storeError(store.get('checkpoint.pth', { uncheckedHint: 'resume from it unchecked with --load_from checkpoint.pth' }));
    expect(hinted.message).toMatch(/so it was not written by a checkpoint store; resume from it unchecked with --load_from checkpoint\.pth$/);
    expect((await store.get('checkpoint.pth', { verify: 'if-present' })).equals(data)).toBe(true);
  });

  it('appends to logs', async () => {
    const store = new S3Store(options({ prefix: 'runs/logs' }));
    await store.append('log.txt', '{"epoch": 0}\n');
    await store.append('log.txt', '{"epoch": 1}\n');
    expect((await store.get('log.txt')).toString()).toBe('{"epoch": 0}\n{"epoch": 1}\n');
  });

  it('reports missing objects, missing buckets and wrong keys clearly, without retrying them', async () => {
    const store = new S3Store(options());
    const missing = await storeError(store.get('checkpoint0001.pth'));
    expect(missing.kind).toBe('not-found');
    expect(missing.message).toContain(`s3://${bucket}/runs/vit-s/checkpoint0001.pth`);

    const noBucket = new S3Store(options({ bucket: `sere-e2e-absent-${RUN}`, createBucket: false }));
    expect((await storeError(noBucket.get('checkpoint.pth'))).kind).toBe('not-found');
    expect(await noBucket.list()).toEqual([]);

    const wrongKey = new S3Store(options({ secretKey: 'not-the-secret', retry: { attempts: 5, firstDelayMs: 2000, maxDelayMs: 2000 } }));
    const started = Date.now();
    const denied = await storeError(wrongKey.put('checkpoint.pth', Buffer.from('x')));
    expect(denied.kind).toBe('permission');
    expect(denied.message).toMatch(/SERE_S3_SECRET_KEY/);
    expect(Date.now() - started).toBeLessThan(2000); // not retried
  });
});

describe('logs on S3', () => {
  let s3: S3Server;
  let relay: TcpRelay;
  const bucket = `sere-logs-${RUN}`;
  const storeAt = (port: number, prefix: string, logSegmentBytes: number) =>
    new S3Store({ bucket, prefix, endpoint: `http://127.0.0.1:${port}`, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, retry: FAST_RETRY, logSegmentBytes });

  beforeAll(async () => {
    s3 = await ensureS3(S3_PORT);
    relay = new TcpRelay(s3.port);
    await relay.listen();
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    if (s3) await emptyBucket(rawClient(s3.port), bucket);
    await relay?.close();
    await s3?.release();
  });

  it('an append sends what was appended plus at most one segment, however long the log grows', async () => {
    const segment = 32 * 1024;
    const store = storeAt(relay.port, 'traffic', segment);
    const line = (i: number) => `${JSON.stringify({ epoch: 0, it: i, loss: 10 - i / 1000, pad: 'x'.repeat(950) })}\n`;
    await store.put('config.json', Buffer.from('{}')); // the bucket exists before counting
    const sent: number[] = [];
    let text = '';
    for (let i = 0; i < 300; i++) {
      const before = relay.bytesUp;
      await store.append('metrics.jsonl', line(i));
      sent.push(relay.bytesUp - before);
      text += line(i);
    }
    // The log is 300 KB; rewriting it whole on every append would send 45 MB in all.
    const overhead = 8 * 1024; // the request lines and headers of a put and its check
    for (const [i, n] of sent.entries()) expect({ i, n, ok: n <= segment + line(i).length + overhead }).toEqual({ i, n, ok: true });
    expect(sent.reduce((a, b) => a + b, 0)).toBeLessThan(300 * (segment / 2 + 1000 + overhead));

    expect((await store.readLog('metrics.jsonl'))?.toString()).toBe(text);
    expect(await store.list()).toEqual(['config.json', 'metrics.jsonl']);
    const keys: string[] = [];
    for await (const o of rawClient(s3.port).listObjectsV2(bucket, 'traffic/', true)) keys.push((o as { name: string }).name);
    expect(keys.length).toBeGreaterThan(8); // about 300 KB in 32 KiB segments
    expect(keys).toContain('traffic/metrics.jsonl~000001');
  });

  it("a resumed run's metrics read back as the run that was never stopped wrote them", async () => {
    const store = () => storeAt(s3.port, 'resume', 2 * 1024);
    const metric = (it: number) => ({ epoch: Math.floor(it / 50), it, loss: 10 - it / 100 });
    const run = async (log: RunLog, from: number, to: number) => {
      for (let it = from; it < to; it++) {
        await log.iteration(metric(it));
        if (it % 10 === 9) await log.flush();
        if (it % 50 === 49) await log.epoch({ epoch: Math.floor(it / 50), train_loss: 10 - it / 100 });
      }
      await log.flush();
    };
    // Killed after logging iteration 149, with its last checkpoint at iteration 120 (epoch 2, step 20).
    await run(await RunLog.open(store(), { it: 0, epoch: 0 }), 0, 150);
    const resumed = await RunLog.open(store(), { it: 120, epoch: 2 });
    expect(resumed.resumedEpochLines).toEqual([...Array(20).keys()].map((k) => metric(100 + k)));
    expect((await store().readLog('metrics.jsonl'))!.toString().trim().split('\n').map((l) => JSON.parse(l).it)).toEqual([...Array(120).keys()]);
    await run(resumed, 120, 200);

    const lines = (await store().readLog('metrics.jsonl'))!.toString();
    expect(lines).toBe([...Array(200).keys()].map((it) => JSON.stringify(metric(it)) + '\n').join(''));
    const epochs = (await store().readLog('log.txt'))!.toString().trim().split('\n').map((l) => JSON.parse(l).epoch);
    expect(epochs).toEqual([0, 1, 2, 3]);
  });
});

describe('S3Store over https (a TLS relay in front of the server) with a private CA', () => {
  let s3: S3Server;
  let ca: TestCa;
  let relay: TlsRelay;
  const bucket = `sere-tls-${RUN}`;

  beforeAll(async () => {
    s3 = await ensureS3(S3_PORT);
    ca = makeTestCa();
    relay = new TlsRelay(s3.port, ca);
    await relay.listen();
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (s3) await emptyBucket(rawClient(s3.port), bucket);
    await relay?.close();
    ca?.dispose();
    await s3?.release();
  });

  it('round-trips a checkpoint with SERE_S3_CA_FILE, and refuses the certificate without it', async () => {
    const env = { SERE_S3_ENDPOINT: `https://127.0.0.1:${relay.port}`, SERE_S3_ACCESS_KEY: ACCESS_KEY, SERE_S3_SECRET_KEY: SECRET_KEY };
    const store = openStore(`s3://${bucket}/run`, { env: { ...env, SERE_S3_CA_FILE: ca.caFile }, retry: FAST_RETRY });
    const data = bytes(6 * 1024 * 1024, 21);
    await store.put('checkpoint.pth', data);
    expect((await store.get('checkpoint.pth')).equals(data)).toBe(true);

    const untrusting = openStore(`s3://${bucket}/run`, { env, retry: FAST_RETRY });
    const e = await storeError(untrusting.get('checkpoint.pth'));
    expect(e.kind).toBe('unreachable');
    expect(e.message).toMatch(/SERE_S3_CA_FILE/);
  });
});

describe('S3Store when the server goes away mid-write', () => {
  // A server of its own (20 ports up), so stopping it cannot disturb other tests.
  const port = S3_PORT + 100;
  let s3: S3Server;
  let relay: TcpRelay;
  const bucket = `sere-outage-${RUN}`;
  const storeVia = (retry: S3StoreOptions['retry']) =>
    new S3Store({ bucket, prefix: 'run', endpoint: `http://127.0.0.1:${relay.port}`, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, retry });

  beforeAll(async () => {
    s3 = await ensureS3(port, { fresh: true });
    relay = new TcpRelay(port);
    await relay.listen();
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await relay?.close();
    await s3?.release();
  });

  it('fails that put as unreachable after retries, loses nothing stored, and a retrying put rides out the restart', async () => {
    const store = storeVia({ attempts: 3, firstDelayMs: 200, maxDelayMs: 400 });
    const kept = bytes(1024 * 1024, 10);
    const numbered = bytes(200_000, 11);
    await store.put('checkpoint.pth', kept);
    await store.put('checkpoint0010.pth', numbered);

    const held = relay.holdUploadAfter(2 * 1024 * 1024);
    const upload = storeError(store.put('checkpoint.pth', bytes(8 * 1024 * 1024, 12)));
    await held; // 2 MiB of 8 are on their way: the server now dies.
    await s3.script('kill');
    const e = await upload;
    expect(e.kind).toBe('unreachable');
    expect(e.location).toBe(`s3://${bucket}/run/checkpoint.pth`);
    expect(e.message).toMatch(/did not answer usefully in 3 attempts/);
    expect(e.message).toMatch(/objects stored before are untouched/);

    // A put with a larger budget, begun while the server is down, completes once it is back.
    // SeaweedFS holds writes for three 5 s heartbeats after a restart: about 20 s of retries.
    const patient = storeVia({ attempts: 9, firstDelayMs: 250, maxDelayMs: 4000 });
    const later = bytes(1024 * 1024, 13);
    const retried = patient.put('checkpoint0020.pth', later);
    await s3.script('start');
    await retried;

    expect((await patient.get('checkpoint.pth')).equals(kept)).toBe(true);
    expect((await patient.get('checkpoint0010.pth')).equals(numbered)).toBe(true);
    expect((await patient.get('checkpoint0020.pth')).equals(later)).toBe(true);
    expect(await patient.list()).toEqual(['checkpoint.pth', 'checkpoint0010.pth', 'checkpoint0020.pth']);
  });
});
