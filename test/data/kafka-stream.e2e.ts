/**
 * The data path end to end through a real Kafka broker (KRaft, 3.9, started by
 * scripts/kafka/kafka.sh): data-service replicas decode and augment real JPEGs with
 * @sere/augment, encode with @sere/wire, and trainer-side BatchConsumers read them back.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { augmentImage, VIT_SMALL_VIEWS, type ViewRecipe } from '@sere/augment';
import {
  EpochPlan,
  indexImageFolder,
  synthDataset,
  type DatasetIndex,
} from '@sere/dataset';
import {
  BatchConsumer,
  DataStreamer,
  kafkaClient,
  KafkaConsumerTransport,
  KafkaProducerTransport,
  type Batch,
  type StreamerConfig,
  type StreamerMetrics,
} from '@sere/stream';
import { sampleChecksum } from '@sere/wire';
import { spawn } from 'node:child_process';
import { makeBadFolder } from './bad-folder';
import { BROKERS, ensureKafka, type KafkaHandle } from './kafka-harness';

jest.setTimeout(60_000);

// Small views keep the suite in seconds on two cores; the recipe's logic is unchanged.
const recipe: ViewRecipe = { ...VIT_SMALL_VIEWS, globalSize: 32, localSize: 16, localCropsNumber: 2 };
const SEED = 11;

let kafka: KafkaHandle;
let work: string;
let folder: string;
let index: DatasetIndex;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  kafka = await ensureKafka();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-data-e2e-'));
  folder = path.join(work, 'synth');
  await synthDataset(folder, { classes: 3, perClass: 6, size: 64, seed: 3 });
  index = await indexImageFolder(folder);
});

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await kafka?.stop();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

function settings(prefix: string) {
  return { brokers: BROKERS, prefix, clientId: 'sere-e2e', logLevel: 'nothing' as const };
}

function producer(prefix: string): KafkaProducerTransport {
  const t = new KafkaProducerTransport(kafkaClient(settings(prefix)), settings(prefix));
  open.push(t);
  return t;
}

async function consumer(prefix: string, rank: number, batchSize: number): Promise<BatchConsumer> {
  const transport = await KafkaConsumerTransport.connect(kafkaClient(settings(prefix)), prefix, rank, { topicWaitMs: 30_000 });
  const c = new BatchConsumer(transport, { rank, batchSize });
  open.push(c);
  await c.start();
  return c;
}

function config(over: Partial<StreamerConfig>): StreamerConfig {
  return { replica: 0, replicas: 1, ranks: 1, seed: SEED, slotSize: 4, endEpoch: 1, maxLag: 1000, recipe, encode: { codec: 'raw' }, lagPollMs: 50, ...over };
}

async function take(c: BatchConsumer, images: number, commit = true): Promise<Batch[]> {
  const out: Batch[] = [];
  for (let got = 0; got < images; ) {
    const b = await c.next();
    out.push(b);
    got += b.samples.length;
    if (commit) await c.done(b);
  }
  return out;
}

/** What the producer should have sent for an image, recomputed here from (seed, epoch, index). */
async function expectedChecksum(i: number, epoch: number, pixels = true): Promise<number> {
  const e = index.entries[i];
  const s = await augmentImage(e.path, { ...recipe, epoch, index: i, label: e.label }, SEED);
  return sampleChecksum(s, { pixels });
}

const prefixFor = (name: string) => `sere.e2e.${name}.${randomUUID().slice(0, 8)}`;

describe('Kafka data path', () => {
  it('delivers every image exactly once per epoch to its rank, bit-exact with raw views', async () => {
    const prefix = prefixFor('once');
    await new DataStreamer(index, producer(prefix), config({ ranks: 2, endEpoch: 2 })).run();
    for (const rank of [0, 1]) {
      const c = await consumer(prefix, rank, 3);
      for (const epoch of [0, 1]) {
        const plan = new EpochPlan({ size: 18, seed: SEED, epoch, ranks: 2, replicas: 1, slotSize: 4 });
        const batches = await take(c, plan.rankEpochSize(rank));
        expect(batches.every((b) => b.epoch === epoch)).toBe(true);
        expect(batches[batches.length - 1].endOfEpoch).toBe(true);
        const samples = batches.flatMap((b) => b.samples);
        expect(samples.map((s) => s.index)).toEqual(plan.rankStream(rank));
        expect(samples.map((s) => s.label)).toEqual(plan.rankStream(rank).map((i) => index.entries[i].label));
        const want = await Promise.all(samples.map((s) => expectedChecksum(s.index, epoch)));
        expect(samples.map((s) => sampleChecksum(s))).toEqual(want);
      }
      expect(c.stats).toMatchObject({ wireErrors: {}, missingSlots: 0, staleMessages: 0 });
    }
  });

  it('splits an epoch between two replicas (default JPEG wire encoding) with nothing skipped or doubled', async () => {
    const prefix = prefixFor('replicas');
    const streamers = [0, 1].map((replica) => new DataStreamer(index, producer(prefix), config({ replica, replicas: 2, ranks: 2, slotSize: 2, encode: undefined })));
    await Promise.all(streamers.map((s) => s.run()));
    const plan = new EpochPlan({ size: 18, seed: SEED, epoch: 0, ranks: 2, replicas: 2, slotSize: 2 });
    const slotsOf = (k: number) => [0, 1].reduce((n, r) => n + plan.slotsOf(r, k).length, 0);
    expect(streamers.map((s) => s.status().slotsSent)).toEqual([slotsOf(0), slotsOf(1)]);
    expect(streamers[0].status().imagesSent + streamers[1].status().imagesSent).toBe(18);
    const seen: number[] = [];
    for (const rank of [0, 1]) {
      const c = await consumer(prefix, rank, 4);
      const samples = (await take(c, plan.rankEpochSize(rank))).flatMap((b) => b.samples);
      expect(samples.map((s) => s.index)).toEqual(plan.rankStream(rank));
      // JPEG changes pixels, never geometry, labels, masks or grids.
      const want = await Promise.all(samples.map((s) => expectedChecksum(s.index, 0, false)));
      expect(samples.map((s) => sampleChecksum(s, { pixels: false }))).toEqual(want);
      seen.push(...samples.map((s) => s.index));
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 18 }, (_, i) => i));
  });

  it('resumes a restarted consumer and a restarted producer mid-epoch without loss or repeat', async () => {
    const prefix = prefixFor('restart');
    const transport = producer(prefix);
    const first = new DataStreamer(index, transport, config({ replicas: 1, slotSize: 4 }));
    const send = transport.send.bind(transport);
    let sends = 0;
    transport.send = async (...args) => {
      await send(...args);
      if (++sends === 2) void first.stop();
    };
    await first.run();
    expect(first.status()).toMatchObject({ state: 'stopped', slotsSent: 2 });

    const stream = new EpochPlan({ size: 18, seed: SEED, epoch: 0, ranks: 1, replicas: 1, slotSize: 4 }).rankStream(0);
    const c1 = await consumer(prefix, 0, 3);
    const used = (await take(c1, 3)).flatMap((b) => b.samples.map((s) => s.index));
    const unfinished = await c1.next(); // read (the rest of slot 0 and part of slot 1), never marked done
    await c1.close();

    // The restarted producer finds where it stopped by reading its partitions' last messages.
    const second = new DataStreamer(index, producer(prefix), config({ replicas: 1, slotSize: 4 }));
    await second.run();
    expect(second.status().slotsSent).toBe(3);

    const c2 = await consumer(prefix, 0, 3);
    const rest = await take(c2, 15);
    expect(rest[0].samples.map((s) => s.index)).toEqual(unfinished.samples.map((s) => s.index));
    expect([...used, ...rest.flatMap((b) => b.samples.map((s) => s.index))]).toEqual(stream);
    expect(rest[rest.length - 1].endOfEpoch).toBe(true);
  });

  it('holds a replica at maxLag messages ahead of the trainer and lets it go as the trainer commits', async () => {
    const prefix = prefixFor('lag');
    const t = producer(prefix);
    const streamer = new DataStreamer(index, t, config({ slotSize: 2, maxLag: 2 }));
    const run = streamer.run();
    const deadline = Date.now() + 20_000;
    while (streamer.status().state !== 'waiting-for-consumers' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(streamer.status()).toMatchObject({ state: 'waiting-for-consumers', slotsSent: 2 });
    expect(await t.lag(0, 0)).toBe(2);
    const c = await consumer(prefix, 0, 2);
    const all = await take(c, 18);
    await run;
    expect(all.flatMap((b) => b.samples).length).toBe(18);
    expect(streamer.status().state).toBe('finished');
  });

  it('streams a folder of broken and odd files without stopping, counting each kind', async () => {
    const bad = await makeBadFolder(path.join(work, 'bad'));
    const badIndex = await indexImageFolder(bad.root);
    const failures: Record<string, number> = {};
    const conversions: Record<string, number> = {};
    const metrics: StreamerMetrics = {
      imagesSent() {},
      bytesSent() {},
      lag() {},
      slotSent() {},
      decodeFailure: (k) => void (failures[k] = (failures[k] ?? 0) + 1),
      conversion: (k) => void (conversions[k] = (conversions[k] ?? 0) + 1),
    };
    const skippedPaths: string[] = [];
    const prefix = prefixFor('bad');
    const streamer = new DataStreamer(badIndex, producer(prefix), config({ slotSize: 3 }), {
      metrics,
      log: { info() {}, warn: (_m, f) => void skippedPaths.push(path.relative(bad.root, String(f?.path))) },
    });
    await streamer.run();
    expect(streamer.status().state).toBe('finished');

    const expectFailures: Record<string, number> = {};
    for (const k of Object.values(bad.skipped)) expectFailures[k] = (expectFailures[k] ?? 0) + 1;
    expect(failures).toEqual(expectFailures);
    expect(skippedPaths.sort()).toEqual(Object.keys(bad.skipped).sort());
    const expectConversions: Record<string, number> = {};
    for (const ks of Object.values(bad.converted)) for (const k of ks) expectConversions[k] = (expectConversions[k] ?? 0) + 1;
    expect(conversions).toEqual(expectConversions);

    const c = await consumer(prefix, 0, 4);
    const got = (await take(c, bad.usable.length)).flatMap((b) => b.samples);
    expect(got.map((s) => path.relative(bad.root, badIndex.entries[s.index].path)).sort()).toEqual(bad.usable);
    expect(got.every((s) => s.views.every((v) => v.rgb.length === v.size * v.size * 3))).toBe(true);
  });

  it('runs as a NestJS service: /health, /metrics, and a clean stop on SIGTERM', async () => {
    const prefix = prefixFor('service');
    const args = ['--data-dir', folder, '--brokers', BROKERS[0], '--prefix', prefix, '--epochs', 'inf', '--global-size', '32', '--local-size', '16', '--local-crops', '2', '--max-lag', '3', '--slot-size', '3', '--port', '0', '--host', '127.0.0.1'];
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), path.resolve(__dirname, '../../apps/data-service/src/main.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      let port = 0;
      while (!port) {
        const m = /"msg":"listening".*?"port":(\d+)/.exec(stdout);
        if (m) port = Number(m[1]);
        else if (child.exitCode !== null || Date.now() > deadline) throw new Error(`data service did not start:\n${stdout}\n${stderr}`);
        else await new Promise((r) => setTimeout(r, 100));
      }
      const url = `http://127.0.0.1:${port}`;
      const c = await consumer(prefix, 0, 6);
      const batches = await take(c, 18);
      expect(batches.flatMap((b) => b.samples).length).toBe(18);
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true, replica: 0, images: 18, streamer: { state: expect.stringMatching(/running|waiting-for-consumers/) } });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(Number(/^sere_data_images_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(18);
      expect(metrics).toMatch(/^sere_data_lag_messages\{[^}]*rank="0"[^}]*\} \d+/m);
      expect(metrics).toMatch(/^sere_data_images_per_second/m);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdout).toMatch(/"msg":"data service stopped"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
