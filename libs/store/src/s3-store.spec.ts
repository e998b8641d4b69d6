import * as net from 'node:net';
import { StoreError } from './errors';
import { classifyS3 } from './s3-errors';
import { S3Store } from './s3-store';

describe('classifyS3', () => {
  const err = (code: string, message = code) => Object.assign(new Error(message), { code });
  it('treats network failures and 5xx answers as transient', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'SlowDown', 'InternalError']) {
      expect(classifyS3(err(code))).toMatchObject({ kind: 'unreachable', retryable: true });
    }
    expect(classifyS3(new Error('socket hang up'))).toMatchObject({ kind: 'unreachable', retryable: true });
  });
  it('maps S3 error codes to kinds that are not retried', () => {
    expect(classifyS3(err('NoSuchKey'))).toMatchObject({ kind: 'not-found', retryable: false });
    expect(classifyS3(err('SignatureDoesNotMatch'))).toMatchObject({ kind: 'permission', retryable: false });
    expect(classifyS3(err('XMinioStorageFull'))).toMatchObject({ kind: 'no-space', retryable: false });
    expect(classifyS3(err('Weird'))).toMatchObject({ kind: 'io', retryable: false });
  });
});

describe('S3Store against a port nobody listens on', () => {
  it('fails with unreachable after the retry budget, naming endpoint and attempts', async () => {
    // A real refused connection: bind a port, release it, and point the store at it.
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const store = new S3Store({
      bucket: 'sere-test',
      prefix: 'run',
      endpoint: `http://127.0.0.1:${port}`,
      accessKey: 'a',
      secretKey: 'b',
      retry: { attempts: 3, firstDelayMs: 20, maxDelayMs: 40 },
    });
    const started = Date.now();
    const e = (await store.put('checkpoint.pth', Buffer.from('x')).catch((err: unknown) => err)) as StoreError;
    expect(e).toBeInstanceOf(StoreError);
    expect(e.kind).toBe('unreachable');
    expect(e.location).toBe('s3://sere-test/run/checkpoint.pth');
    expect(e.message).toContain(`http://127.0.0.1:${port} did not answer usefully in 3 attempts`);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    const g = (await store.get('checkpoint.pth').catch((err: unknown) => err)) as StoreError;
    expect(g.kind).toBe('unreachable');
  });
});

describe('S3Store against a server that accepts connections and never answers', () => {
  it('abandons each request after the request timeout and reports unreachable', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((s) => held.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const store = new S3Store({
        bucket: 'sere-test',
        endpoint: `http://127.0.0.1:${port}`,
        accessKey: 'a',
        secretKey: 'b',
        requestTimeoutMs: 150,
        retry: { attempts: 2, firstDelayMs: 10, maxDelayMs: 10 },
      });
      const started = Date.now();
      const e = (await store.get('checkpoint.pth').catch((err: unknown) => err)) as StoreError;
      expect(e).toBeInstanceOf(StoreError);
      expect(e.kind).toBe('unreachable');
      expect(e.message).toMatch(/in 2 attempts .*no answer for 150 ms/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      held.forEach((s) => s.destroy());
      await new Promise((r) => silent.close(r));
    }
  });
});
