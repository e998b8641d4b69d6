/**
 * The S3 endpoint setting (SERE_S3_ENDPOINT): where the S3 API answers and whether the
 * connection is encrypted, and nothing else. Keys never travel in it: they come from
 * SERE_S3_ACCESS_KEY / SERE_S3_SECRET_KEY, so an endpoint can be printed in any message.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { StoreError } from './errors';

export interface Endpoint {
  host: string;
  port: number;
  useSSL: boolean;
}

// `user:password@` (or `key@`) before the host, with or without a scheme in front.
const USERINFO = /^(?:[a-z][a-z0-9+.-]*:\/\/)?[^/?#]*@/i;
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The text with any `user:password@` part replaced, safe to print. */
export function redactEndpoint(text: string): string {
  return String(text).replace(USERINFO, (m) => `${SCHEME.exec(m)?.[0] ?? ''}<credentials removed>@`);
}

function refuse(endpoint: string, message: string): StoreError {
  return new StoreError('invalid', redactEndpoint(endpoint), 'open', message);
}

export function parseEndpoint(endpoint: string): Endpoint {
  if (USERINFO.test(endpoint)) {
    // Not even the access key is echoed: people paste key and secret in either order.
    throw refuse(
      endpoint,
      `S3 endpoint '${redactEndpoint(endpoint)}' carries credentials; remove them from the URL and set ` +
        'SERE_S3_ACCESS_KEY and SERE_S3_SECRET_KEY in the environment instead',
    );
  }
  if (!SCHEME.test(endpoint)) {
    // A bare host:port used to mean plain http: a secret sent unencrypted by omission.
    throw refuse(endpoint, `S3 endpoint '${endpoint}' has no scheme; write http://${endpoint} (unencrypted) or https://${endpoint}`);
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw refuse(endpoint, `S3 endpoint '${endpoint}' is not a URL; expected http://host:port or https://host`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refuse(endpoint, `S3 endpoint '${endpoint}' must use http:// or https://`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw refuse(endpoint, `S3 endpoint '${endpoint}' must not have a path; put the folder in the s3:// URL instead`);
  }
  const useSSL = url.protocol === 'https:';
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : useSSL ? 443 : 80, useSSL };
}

/**
 * The PEM certificates of a private certificate authority (SERE_S3_CA_FILE), checked here
 * so that a wrong file is named at start rather than reported as a failed TLS handshake.
 */
export function readCaFile(file: string, endpoint: string): string {
  if (!parseEndpoint(endpoint).useSSL) {
    throw refuse(endpoint, `SERE_S3_CA_FILE ${file} is set but S3 endpoint '${endpoint}' is http://; a CA applies only to https:// endpoints`);
  }
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw refuse(endpoint, `SERE_S3_CA_FILE ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no BEGIN CERTIFICATE line');
    new X509Certificate(pem);
  } catch (e) {
    throw refuse(endpoint, `SERE_S3_CA_FILE ${file} is not a PEM certificate (${(e as Error).message}); expected the CA's certificate, '-----BEGIN CERTIFICATE-----' ...`);
  }
  return pem;
}
