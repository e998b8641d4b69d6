import * as path from 'node:path';
import { StoreError } from './errors';
import { LocalStore } from './local-store';
import { openStore } from './open-store';
import { parseEndpoint, S3Store } from './s3-store';

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
    expect(parseEndpoint('minio:9000')).toEqual({ host: 'minio', port: 9000, useSSL: false });
  });
});
