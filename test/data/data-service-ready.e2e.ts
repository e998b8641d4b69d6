/**
 * The data service process's liveness and readiness: against a broker address where nothing
 * listens it is alive (/health 200) but not ready (/ready 503, naming the broker and why);
 * against the real broker it is ready. Without --host it listens on loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthDataset } from '@sere/dataset';
import { closedPort } from '@sere/stream/testing';
import { BROKERS, ensureKafka, type KafkaHandle } from './kafka-harness';

jest.setTimeout(90_000);

let kafka: KafkaHandle;
let work: string;
let folder: string;

beforeAll(async () => {
  kafka = await ensureKafka();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-ready-e2e-'));
  folder = path.join(work, 'synth');
  await synthDataset(folder, { classes: 2, perClass: 3, size: 32, seed: 3 });
});

afterAll(async () => {
  await kafka?.stop();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  url: string;
  listening: { host: string; port: number };
  output: () => string;
}

/** Starts the service and waits for its "listening" line. */
async function startService(brokers: string): Promise<Running> {
  const args = ['--data-dir', folder, '--brokers', brokers, '--prefix', `sere.e2e.ready.${randomUUID().slice(0, 8)}`, '--epochs', 'inf', '--global-size', '32', '--local-size', '16', '--local-crops', '2', '--slot-size', '3', '--port', '0'];
  const env = { ...process.env };
  delete env.SERE_HOST;
  // node itself runs the service (tsx as a require hook, not tsx's CLI wrapper), so a SIGKILL
  // reaches the process that holds the pipes; killing the wrapper would orphan its child
  // and keep jest waiting on the pipes.
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), path.resolve(__dirname, '../../apps/data-service/src/main.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
    if (line) {
      const { host, port } = JSON.parse(line) as { host: string; port: number };
      return { child, url: `http://127.0.0.1:${port}`, listening: { host, port }, output: () => out };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`data service did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops the service; SIGKILL where a clean stop is not what the test is about (with no broker it waits for the producer's retries). */
async function stopService(s: Running, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((resolve) => s.child.once('exit', resolve));
  s.child.kill(signal);
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

describe('data service /health and /ready', () => {
  it('is alive but not ready, naming the broker, when nothing listens at the broker address', async () => {
    const broker = `127.0.0.1:${await closedPort()}`;
    const s = await startService(broker);
    try {
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
      const ready = await fetch(`${s.url}/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { ready: boolean; broker: { brokers: string[]; reachable: boolean; since: string; lastError: string } };
      expect(body).toMatchObject({ ready: false, broker: { brokers: [broker], reachable: false, lastError: expect.stringContaining(`ECONNREFUSED ${broker}`) } });
      expect(Date.now() - Date.parse(body.broker.since)).toBeGreaterThanOrEqual(0);
    } finally {
      await stopService(s, 'SIGKILL');
    }
  });

  it('is ready against the real broker, and listens on loopback when no host is given', async () => {
    const s = await startService(BROKERS[0]);
    try {
      expect(s.listening.host).toBe('127.0.0.1');
      const ready = await fetch(`${s.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, broker: { brokers: BROKERS, reachable: true } });
    } finally {
      await stopService(s);
    }
  });
});
