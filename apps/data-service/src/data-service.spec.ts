import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BatchConsumer } from '@sere/stream';
import { FakeBroker } from '@sere/stream/testing';
import { standInSample } from '@sere/wire';
import { loadConfig } from './config';
import { DataService } from './data-service';

describe('DataService', () => {
  it('indexes, streams, reports health and stops on request', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-svc-'));
    for (const c of ['a', 'b']) {
      await fs.mkdir(path.join(root, c));
      for (let i = 0; i < 3; i++) await fs.writeFile(path.join(root, c, `${i}.jpg`), 'not decoded in this test');
    }
    await fs.mkdir(path.join(root, 'empty'));
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string, f?: Record<string, unknown>) => lines.push(`warn ${m} ${String(f?.path)}`) };
    const broker = new FakeBroker('job');
    const cfg = loadConfig(['--data-dir', root, '--epochs', 'inf', '--slot-size', '2', '--max-lag', '4', '--codec', 'raw'], {});
    const svc = new DataService(cfg, log, {
      transport: broker.producer(),
      makeSample: async (e, i) => standInSample(i, e.label, { globalSize: 32, localSize: 16, locals: 1 }),
      probe: { check: async () => undefined, close: async () => undefined },
    });
    await svc.start();
    const consumer = new BatchConsumer(broker.consumer(0, 1), { rank: 0, batchSize: 6 });
    await consumer.start();
    const b = await consumer.next();
    expect(b.samples.map((s) => s.index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    await consumer.done(b);
    expect(svc.health()).toMatchObject({ ok: true, images: 6, ranks: 1, streamer: { state: expect.stringMatching(/running|waiting-for-consumers/) } });
    expect(svc.ready()).toMatchObject({ ready: true, broker: { brokers: ['127.0.0.1:19092'], reachable: true, lastError: null } });
    expect(lines).toContain(`warn empty class folder (label kept, no images) ${root}/empty`);
    await svc.stop();
    expect(svc.health().streamer.state).toBe('stopped');
    expect(await svc.metrics.text()).toMatch(/^sere_data_images_total\{replica="0"\} \d+/m);
    await fs.rm(root, { recursive: true, force: true });
  });
});

describe('DataService readiness', () => {
  it('is alive but not ready while the broker does not answer, and says since when and why', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-svc-'));
    await fs.mkdir(path.join(root, 'a'));
    await fs.writeFile(path.join(root, 'a', '0.jpg'), 'not decoded in this test');
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string, f?: Record<string, unknown>) => lines.push(`warn ${m} ${String(f?.error)}`) };
    const broker = new FakeBroker('job');
    let answer: Error | null = new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1');
    const cfg = loadConfig(['--data-dir', root, '--brokers', '127.0.0.1:1', '--epochs', '1', '--codec', 'raw'], {});
    const svc = new DataService(cfg, log, {
      transport: broker.producer(),
      makeSample: async (e, i) => standInSample(i, e.label, { globalSize: 32, localSize: 16, locals: 1 }),
      probe: { check: async () => { if (answer) throw answer; }, close: async () => undefined },
      probeIntervalMs: 5,
    });
    await svc.start();
    try {
      expect(svc.health().ok).toBe(true);
      const down = svc.ready();
      expect(down).toMatchObject({ ready: false, broker: { brokers: ['127.0.0.1:1'], reachable: false, lastError: expect.stringContaining('ECONNREFUSED 127.0.0.1:1') } });
      expect(Date.parse(down.broker.since)).not.toBeNaN();
      expect(lines).toContain('warn Kafka broker not reachable; /ready answers 503 until it is Connection error: connect ECONNREFUSED 127.0.0.1:1');
      answer = null;
      const deadline = Date.now() + 2000;
      while (!svc.ready().ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const up = svc.ready();
      expect(up).toMatchObject({ ready: true, broker: { reachable: true, lastError: expect.stringContaining('ECONNREFUSED') } });
      expect(Date.parse(up.broker.since)).toBeGreaterThanOrEqual(Date.parse(down.broker.since));
    } finally {
      await svc.stop();
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
