/**
 * For tests of https endpoints: a throw-away certificate authority and a server certificate
 * for 127.0.0.1 signed by it, made with the `openssl` command line (Node can verify
 * certificates but not issue them). Nothing here is used outside tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface TestCa {
  /** Folder holding the files below; remove it with `dispose`. */
  dir: string;
  /** The CA's certificate: what a client is told to trust (SERE_S3_CA_FILE). */
  caFile: string;
  caPem: string;
  /** The server's key and certificate (CN and subjectAltName 127.0.0.1). */
  key: string;
  cert: string;
  dispose(): void;
}

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'sere-tls-'));
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      throw new Error(`this test makes its certificates with openssl, which failed: openssl ${args.join(' ')}: ${err.stderr?.toString().trim() || err.message}`);
    }
  };
  // P-256 keys: generated in milliseconds, unlike RSA.
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=sere test CA');
  openssl('req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext'));
  return {
    dir,
    caFile: f('ca.pem'),
    caPem: readFileSync(f('ca.pem'), 'utf8'),
    key: readFileSync(f('server.key'), 'utf8'),
    cert: readFileSync(f('server.pem'), 'utf8'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
