import { writeFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import * as path from 'node:path';
import { StoreError } from './errors';
import { LocalStore } from './local-store';
import { openStore } from './open-store';
import { parseEndpoint } from './endpoint';
import { S3Store } from './s3-store';
import { makeTestCa, type TestCa } from './testing/tls';

const env = { SERE_S3_ENDPOINT: 'http://127.0.0.1:19000', SERE_S3_ACCESS_KEY: 'a', SERE_S3_SECRET_KEY: 'b' };

function openError(url: string, options = {}): StoreError {
  try {
    openStore(url, options);
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return e as StoreError;
  }
  throw new Error(`openStore('${url}') succeeded`);
}

describe('openStore', () => {
  it('opens local paths and file:// URLs as folders', () => {
    const a = openStore('runs/a');
    expect(a).toBeInstanceOf(LocalStore);
    expect(a.root).toBe(path.resolve('runs/a'));
    expect(openStore('file:///tmp/x').root).toBe('/tmp/x');
  });

  it('opens s3://bucket/prefix with endpoint and keys from the environment', () => {
    const s = openStore('s3://sere-runs/vit-s/run1/', { env });
    expect(s).toBeInstanceOf(S3Store);
    expect(s.root).toBe('s3://sere-runs/vit-s/run1/');
    expect(s.describe('checkpoint.pth')).toBe('s3://sere-runs/vit-s/run1/checkpoint.pth');
    expect(openStore('s3://sere-runs', { env }).describe('checkpoint.pth')).toBe('s3://sere-runs/checkpoint.pth');
  });

  it('names the missing setting', () => {
    const e = openError('s3://sere-runs/x', { env: { SERE_S3_ENDPOINT: 'http://h:1', SERE_S3_ACCESS_KEY: 'a' } });
    expect(e.kind).toBe('invalid');
    expect(e.message).toMatch(/needs SERE_S3_SECRET_KEY/);
  });

  it('refuses bad bucket names, schemes and endpoints', () => {
    expect(openError('s3://Bad_Bucket/x', { env }).message).toMatch(/'Bad_Bucket' is not a valid bucket name/);
    expect(openError('s3:///x', { env }).message).toMatch(/not a valid bucket name/);
    expect(openError('gs://b/x').message).toMatch(/unsupported scheme 'gs:\/\/'/);
    expect(openError('  ').message).toMatch(/store location is empty/);
    expect(openError('s3://bucket/x', { env: { ...env, SERE_S3_ENDPOINT: 'ftp://h' } }).message).toMatch(/must use http:\/\/ or https:\/\//);
    expect(openError('s3://bucket/x', { env: { ...env, SERE_S3_ENDPOINT: 'http://h:1/sub' } }).message).toMatch(/must not have a path/);
  });
});

describe('parseEndpoint', () => {
  it('reads scheme, host and port', () => {
    expect(parseEndpoint('http://127.0.0.1:19000')).toEqual({ host: '127.0.0.1', port: 19000, useSSL: false });
    expect(parseEndpoint('https://s3.example.com')).toEqual({ host: 's3.example.com', port: 443, useSSL: true });
    expect(parseEndpoint('http://[::1]:9000')).toEqual({ host: '::1', port: 9000, useSSL: false });
  });
});

describe('the S3 endpoint setting', () => {
  const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCY';

  it('refuses credentials in the endpoint and never repeats them', () => {
    for (const endpoint of [`https://AKIDEXAMPLE:${SECRET}@s3.example.com`, `AKIDEXAMPLE:${SECRET}@127.0.0.1:19000`, `http://${SECRET}@h:1`]) {
      const e = openError('s3://bucket/x', { env: { ...env, SERE_S3_ENDPOINT: endpoint } });
      expect(e.kind).toBe('invalid');
      expect(e.message).toMatch(/carries credentials; .*SERE_S3_ACCESS_KEY and SERE_S3_SECRET_KEY in the environment/);
      expect(`${e.message} ${e.location} ${String(e.stack)}`).not.toContain(SECRET);
      expect(`${e.message} ${e.location}`).not.toContain('AKIDEXAMPLE');
    }
    const direct = (() => {
      try {
        return new S3Store({ bucket: 'bucket', endpoint: `https://AK:${SECRET}@h`, accessKey: 'a', secretKey: 'b' });
      } catch (e) {
        return e as StoreError;
      }
    })();
    expect(direct).toBeInstanceOf(StoreError);
    expect((direct as StoreError).message).toContain("'https://<credentials removed>@h'");
  });

  it('refuses credentials in the s3:// URL and never repeats them', () => {
    const e = openError(`s3://AKIDEXAMPLE:${SECRET}@bucket/x`, { env });
    expect(e.message).toMatch(/^store 's3:\/\/<credentials removed>@bucket\/x' carries credentials; write s3:\/\/bucket\/prefix/);
    expect(`${e.message} ${e.location}`).not.toMatch(new RegExp(`${SECRET}|AKIDEXAMPLE`));
  });

  it('requires a scheme rather than assuming plain http', () => {
    for (const endpoint of ['127.0.0.1:19000', 'minio:9000', 's3.example.com']) {
      const e = openError('s3://bucket/x', { env: { ...env, SERE_S3_ENDPOINT: endpoint } });
      expect(e.message).toBe(`S3 endpoint '${endpoint}' has no scheme; write http://${endpoint} (unencrypted) or https://${endpoint}`);
    }
  });

  describe('SERE_S3_CA_FILE', () => {
    let ca: TestCa;
    beforeAll(() => {
      ca = makeTestCa();
    });
    afterAll(() => ca.dispose());
    const https = { ...env, SERE_S3_ENDPOINT: 'https://127.0.0.1:19443' };

    it("hands the CA to the client's https agent", () => {
      const store = openStore('s3://bucket/x', { env: { ...https, SERE_S3_CA_FILE: ca.caFile } });
      const agent = (store as unknown as { client: { transportAgent: Agent } }).client.transportAgent;
      expect(agent.options.ca).toBe(ca.caPem);
      // Without the setting the client keeps Node's own agent and trust store.
      const plain = openStore('s3://bucket/x', { env: https });
      expect((plain as unknown as { client: { transportAgent: Agent } }).client.transportAgent.options.ca).toBeUndefined();
    });

    it('names a missing, unreadable or non-PEM CA file, and one given for an http endpoint', () => {
      const missing = path.join(ca.dir, 'absent.pem');
      expect(openError('s3://bucket/x', { env: { ...https, SERE_S3_CA_FILE: missing } }).message).toBe(`SERE_S3_CA_FILE ${missing}: no such file`);
      const junk = path.join(ca.dir, 'junk.pem');
      writeFileSync(junk, 'not a certificate\n');
      expect(openError('s3://bucket/x', { env: { ...https, SERE_S3_CA_FILE: junk } }).message).toMatch(
        new RegExp(`^SERE_S3_CA_FILE ${junk} is not a PEM certificate .*expected the CA's certificate`),
      );
      expect(openError('s3://bucket/x', { env: { ...env, SERE_S3_CA_FILE: ca.caFile } }).message).toMatch(
        /is set but S3 endpoint 'http:\/\/127\.0\.0\.1:19000' is http:\/\/; a CA applies only to https:\/\/ endpoints/,
      );
    });
  });
});
