/**
 * The real broker for end-to-end tests. If nothing listens on KAFKA_PORT (default 19092), the
 * test starts one with scripts/kafka/kafka.sh and stops it afterwards; if that fails, the test
 * fails with the script's own words. It never skips.
 */
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const KAFKA_PORT = Number(process.env.KAFKA_PORT ?? 19092);
export const BROKERS = [`127.0.0.1:${KAFKA_PORT}`];
const SCRIPT = path.resolve(__dirname, '../../scripts/kafka/kafka.sh');

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export interface KafkaHandle {
  startedHere: boolean;
  stop(): Promise<void>;
}

export async function ensureKafka(): Promise<KafkaHandle> {
  if (await portOpen(KAFKA_PORT)) return { startedHere: false, stop: async () => undefined };
  try {
    await run('bash', [SCRIPT, 'start'], { env: { ...process.env, KAFKA_PORT: String(KAFKA_PORT) }, timeout: 300_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `Kafka is not listening on 127.0.0.1:${KAFKA_PORT} and '${SCRIPT} start' failed:\n${err.stderr || err.stdout || err.message}\n` +
        'Start it by hand with `bash scripts/kafka/kafka.sh start` (needs java 17 and mvn reaching Maven Central) and rerun.',
    );
  }
  return {
    startedHere: true,
    stop: async () => {
      await run('bash', [SCRIPT, 'stop'], { env: { ...process.env, KAFKA_PORT: String(KAFKA_PORT) }, timeout: 60_000 });
    },
  };
}
