import * as https from 'node:https';
import * as net from 'node:net';
import { StoreError } from './errors';
import { classifyS3 } from './s3-errors';
import { S3Store } from './s3-store';
import { makeTestCa, type TestCa } from './testing/tls';

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

describe('S3Store over https with a private CA', () => {
  // An https server whose certificate a private CA signed; it answers every request the way
  // S3 answers for a missing object, so reaching 'not-found' proves the handshake passed.
  let ca: TestCa;
  let server: https.Server;
  let endpoint: string;
  beforeAll(async () => {
    ca = makeTestCa();
    server = https.createServer({ key: ca.key, cert: ca.cert }, (req, res) => {
      req.resume();
      res.writeHead(404, { 'Content-Type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    ca.dispose();
  });
  const store = (extra: { ca?: string } = {}) =>
    new S3Store({ bucket: 'sere-test', endpoint, accessKey: 'a', secretKey: 'b', retry: { attempts: 2, firstDelayMs: 10, maxDelayMs: 10 }, ...extra });

  it('trusts the server once given the CA', async () => {
    const e = (await store({ ca: ca.caPem }).get('checkpoint.pth').catch((err: unknown) => err)) as StoreError;
    expect(e).toBeInstanceOf(StoreError);
    expect(e.kind).toBe('not-found');
  });

  it('without the CA, refuses the certificate at once and says which setting helps', async () => {
    const started = Date.now();
    const e = (await store().get('checkpoint.pth').catch((err: unknown) => err)) as StoreError;
    expect(e).toBeInstanceOf(StoreError);
    expect(e.kind).toBe('unreachable');
    expect(e.message).toMatch(/certificate/);
    expect(e.message).toMatch(/set SERE_S3_CA_FILE to that CA's PEM file/);
    expect(e.message).not.toMatch(/attempts/); // not retried: the next try meets the same certificate
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
