/**
 * The Kafka source on the in-memory broker: epoch length from the stream, drop_last, exact
 * resume from a saved position while the group's commits ran ahead, back-pressure, and the
 * errors a person running `sere train` sees. test/data/kafka-train.e2e.ts runs it against a
 * real broker inside a training run.
 */
import { DecodeError, VIT_SMALL_VIEWS } from '@sere/augment';
import { EpochPlan, type DatasetIndex } from '@sere/dataset';
import { DataStreamer, decodeCursor, StreamUnavailableError, type StreamerConfig } from '@sere/stream';
import { closedPort, FakeBroker } from '@sere/stream/testing';
import { encodeBatch, standInSample } from '@sere/wire';
import type { PthValue } from '@sere/torch';
import type { SourceBatch, StartPosition } from './batch-source';
import { KafkaSource, type KafkaSourceOptions } from './kafka-source';

// A wait that never ends (a lost batch, producer and trainer waiting on each other) fails fast.
jest.setTimeout(20_000);

const SEED = 5;
const tiny = { globalSize: 32, localSize: 16, locals: 2, maskGrid: 2 };
const GROUP = 'test.trainer.rank0';

function fakeIndex(n: number): DatasetIndex {
  return {
    root: '/data',
    classes: ['a', 'b'],
    entries: Array.from({ length: n }, (_, i) => ({ path: `/data/img${i}.jpg`, label: i % 2 })),
    emptyClasses: [],
    strayFiles: [],
    repeats: [],
  };
}

/** Samples carry index + 1000 · epoch, so a batch says which epoch it came from. */
const maker = (bad: Set<number>) => async (entry: { label: number }, index: number, epoch: number) => {
  if (bad.has(index)) throw new DecodeError('corrupt', `/data/img${index}.jpg`, 'test');
  return standInSample(index + 1000 * epoch, entry.label, tiny);
};

function streamer(broker: FakeBroker, n: number, over: Partial<StreamerConfig> = {}, bad = new Set<number>()): DataStreamer {
  const cfg: StreamerConfig = { replica: 0, replicas: 1, ranks: 1, seed: SEED, slotSize: 3, endEpoch: 2, maxLag: 1000, encode: { codec: 'raw' }, recipe: VIT_SMALL_VIEWS, ...over };
  return new DataStreamer(fakeIndex(n), broker.producer(), cfg, { makeSample: maker(bad) });
}

async function produce(broker: FakeBroker, n: number, replicas = 1, bad = new Set<number>()): Promise<void> {
  await Promise.all(Array.from({ length: replicas }, (_, replica) => streamer(broker, n, { replica, replicas }, bad).run()));
}

function options(lines: string[] = [], over: Partial<KafkaSourceOptions> = {}): KafkaSourceOptions {
  return { brokers: ['127.0.0.1:19092'], prefix: 'test', batchSize: 4, views: { globalSize: 32, localSize: 16, localCrops: 2, maskGrid: 2 }, write: (l) => lines.push(l), ...over };
}

const at = (epoch: number, step: number, source: PthValue) => async (): Promise<StartPosition> => ({ epoch, step, source });
const fresh = at(0, 0, null);

async function collect(gen: AsyncGenerator<SourceBatch>): Promise<SourceBatch[]> {
  const out: SourceBatch[] = [];
  for await (const b of gen) out.push(b);
  return out;
}

const indices = (batches: SourceBatch[]) => batches.map((b) => b.samples.map((s) => s.index));
const stream = (n: number, epoch: number, replicas = 1) => new EpochPlan({ size: n, seed: SEED, epoch, ranks: 1, replicas, slotSize: 3 }).rankStream(0).map((i) => i + 1000 * epoch);
const chunks = (xs: number[], b: number) => Array.from({ length: Math.floor(xs.length / b) }, (_, k) => xs.slice(k * b, (k + 1) * b));

describe('KafkaSource', () => {
  it('learns the epoch length from the stream and drops the short last batch of each epoch', async () => {
    const broker = new FakeBroker();
    await produce(broker, 11);
    const lines: string[] = [];
    const source = await KafkaSource.open(broker.consumer(0, 1), fresh, options(lines));
    expect(source.itersPerEpoch).toBe(2); // 11 images, batches of 4: the last 3 are dropped
    expect(lines).toEqual(['data: test.rank0 at 127.0.0.1:19092, 11 images per epoch for this trainer; 2 iterations per epoch']);

    const e0 = await collect(source.epoch(0, 0));
    expect(indices(e0)).toEqual(chunks(stream(11, 0), 4));
    expect(e0.map((b) => [b.epoch, b.step, b.last])).toEqual([[0, 0, false], [0, 1, true]]);
    // The saved position is past the dropped batch: the next epoch starts clean.
    const pos = source.position() as { topic: string; images_per_epoch: number; partitions: { partition: number; offset: number; metadata: string }[] };
    expect(pos).toMatchObject({ topic: 'test.rank0', images_per_epoch: 11 });
    expect(pos.partitions.map((p) => [p.partition, p.offset, decodeCursor(p.metadata)])).toEqual([[0, 4, { epoch: 1, slot: 0, skip: 0 }]]);

    expect(indices(await collect(source.epoch(1, 0)))).toEqual(chunks(stream(11, 1), 4));
    await source.close();
  });

  it('resumes exactly at the saved position, though the group committed further before the stop', async () => {
    const broker = new FakeBroker();
    await produce(broker, 23, 2);
    const straight = await KafkaSource.open(broker.consumer(0, 2), fresh, options());
    const all = [...(await collect(straight.epoch(0, 0))), ...(await collect(straight.epoch(1, 0)))];
    await straight.close();
    expect(indices(all)).toEqual([...chunks(stream(23, 0, 2), 4), ...chunks(stream(23, 1, 2), 4)]);

    // A run that checkpoints after its second batch, trains two more, and is killed.
    const first = await KafkaSource.open(broker.consumer(0, 2), fresh, options());
    const gen = first.epoch(0, 0);
    await gen.next();
    await gen.next();
    const saved = first.position();
    await gen.next();
    await gen.next();
    await first.close();
    const savedOffsets = (saved as { partitions: { offset: number }[] }).partitions.map((p) => p.offset);
    const committed = [0, 1].map((p) => broker.committed(GROUP, p).offset);
    expect(committed.some((c, p) => c > savedOffsets[p])).toBe(true);

    const lines: string[] = [];
    const second = await KafkaSource.open(broker.consumer(0, 2), at(0, 2, saved), options(lines));
    expect(second.itersPerEpoch).toBe(5); // from the checkpoint, without waiting for a batch
    const rest = [...(await collect(second.epoch(0, 2))), ...(await collect(second.epoch(1, 0)))];
    await second.close();
    expect(rest.map((b) => [b.epoch, b.step])).toEqual(all.slice(2).map((b) => [b.epoch, b.step]));
    expect(indices(rest)).toEqual(indices(all.slice(2)));
  });

  it('keeps pace with a producer held back by its lag limit (commits at hand-out leave it room)', async () => {
    const broker = new FakeBroker();
    // 2 messages of 3 images ahead of the commit: room for one batch of 4 and the one read ahead.
    const producing = streamer(broker, 14, { maxLag: 2, lagPollMs: 1 }).run();
    const source = await KafkaSource.open(broker.consumer(0, 1), fresh, options());
    const got = [...(await collect(source.epoch(0, 0))), ...(await collect(source.epoch(1, 0)))];
    await producing;
    await source.close();
    expect(indices(got)).toEqual([...chunks(stream(14, 0), 4), ...chunks(stream(14, 1), 4)]);
  });

  it('continues at an epoch boundary saved while reading a folder, passing over the earlier epoch', async () => {
    const broker = new FakeBroker();
    await produce(broker, 11);
    const source = await KafkaSource.open(broker.consumer(0, 1), at(1, 0, null), options());
    expect(indices(await collect(source.epoch(1, 0)))).toEqual(chunks(stream(11, 1), 4));
    await source.close();
  });

  it('refuses to continue inside an epoch that was read from somewhere else', async () => {
    const broker = new FakeBroker();
    await produce(broker, 11);
    await expect(KafkaSource.open(broker.consumer(0, 1), at(0, 1, null), options())).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/stopped inside epoch 1 reading a local folder, and this run reads topic test\.rank0.*end of an epoch/),
    });
  });

  it('ends an epoch early, with a warning, when the producer left images out', async () => {
    const broker = new FakeBroker();
    const bad = new Set([0, 1, 2, 3]);
    await produce(broker, 11, 1, bad);
    const lines: string[] = [];
    const source = await KafkaSource.open(broker.consumer(0, 1), fresh, options(lines));
    const e0 = await collect(source.epoch(0, 0));
    expect(e0.map((b) => [b.step, b.last])).toEqual([[0, true]]); // 7 images: one batch, 3 dropped
    expect(lines.join('\n')).toMatch(/epoch 1 of the stream ended after 1 of 2 iterations/);
    const e1 = await collect(source.epoch(1, 0));
    expect(e1.map((b) => b.epoch)).toEqual([1]);
    expect(indices(e1)).toEqual([stream(11, 1).filter((i) => !bad.has(i - 1000)).slice(0, 4)]);
    await source.close();
  });

  it('refuses a stream whose epoch length differs from the one the run was sized for', async () => {
    const broker = new FakeBroker();
    await produce(broker, 11);
    const first = await KafkaSource.open(broker.consumer(0, 1), fresh, options());
    await collect(first.epoch(0, 0));
    const saved = { ...(first.position() as Record<string, PthValue>), images_per_epoch: 20 };
    await first.close();
    const second = await KafkaSource.open(broker.consumer(0, 1), at(1, 0, saved), options());
    await expect(collect(second.epoch(1, 0))).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/epoch 2 of the stream holds 11 images for this trainer, the run was sized for 20/),
    });
    await second.close();
  });

  it('passes over a forged message far ahead in the stream, naming where it was, and trains on every real batch', async () => {
    const broker = new FakeBroker();
    await produce(broker, 11);
    const h = { epoch: 0, rank: 0, replica: 0, seq: 4e9, slotsInEpoch: 4e9 + 1, rankEpochSize: 4e9 + 1, firstPosition: 4e9 };
    broker.partition('test.rank0', 0).splice(1, 0, await encodeBatch(h, [standInSample(5, 0, tiny)], { codec: 'raw' }));
    const lines: string[] = [];
    const source = await KafkaSource.open(broker.consumer(0, 1), fresh, options(lines));
    expect(indices(await collect(source.epoch(0, 0)))).toEqual(chunks(stream(11, 0), 4));
    expect(indices(await collect(source.epoch(1, 0)))).toEqual(chunks(stream(11, 1), 4));
    expect(lines.filter((l) => l.startsWith('warning'))).toEqual([expect.stringMatching(/^warning: test\.rank0 partition 0 offset 1: unreadable message dropped \(wire: malformed: .*slot 4000000000/)]);
    await source.close();
  });

  it('refuses views of another size than the run\'s flags', async () => {
    const broker = new FakeBroker();
    await produce(broker, 11);
    const views = { globalSize: 224, localSize: 96, localCrops: 10, maskGrid: 14 };
    await expect(KafkaSource.open(broker.consumer(0, 1), fresh, options([], { views }))).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/sends 32\/32 px global and 2 local crops of 16 px with 2×2 masks; this run's flags want 224\/224 px global and 10 local crops of 96 px/),
    });
  });

  it('stops with exit 69, naming the broker, when the broker goes away mid-epoch', async () => {
    const broker = new FakeBroker();
    await produce(broker, 11);
    const transport = broker.consumer(0, 1);
    const source = await KafkaSource.open(transport, fresh, options());
    const gen = source.epoch(0, 0);
    await gen.next();
    transport.fail(new StreamUnavailableError('broker-lost', 'reading test.rank0: Connection error: connect ECONNREFUSED 127.0.0.1:19092'));
    await expect(collect(gen)).rejects.toMatchObject({
      exitCode: 69,
      message: expect.stringMatching(/^--data kafka:\/\/127\.0\.0\.1:19092\/test: lost the Kafka broker 127\.0\.0\.1:19092 \(.*ECONNREFUSED.*\)\. .*run the same command again/),
    });
    await source.close();
  });

  it('stops with exit 69, naming the broker and what to do, when no broker answers', async () => {
    const port = await closedPort();
    const o = options([], { brokers: [`127.0.0.1:${port}`], prefix: 'job' });
    await expect(KafkaSource.connect(o, fresh, { retries: 0 })).rejects.toMatchObject({
      exitCode: 69,
      message: expect.stringMatching(new RegExp(`cannot reach the Kafka broker 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\)\\. Start the broker or correct the address`)),
    });
  });

  describe('on several ranks', () => {
    it("reads its own rank's topic, and refuses a stream made for another rank count, naming both", async () => {
      const broker = new FakeBroker();
      await streamer(broker, 12, { ranks: 2 }).run();
      const lines: string[] = [];
      const one = await KafkaSource.open(broker.consumer(1, 1), fresh, options(lines, { rank: 1, worldSize: 2, batchSize: 2 }));
      expect(lines).toEqual(['data: test.rank1 at 127.0.0.1:19092, 6 images per epoch for this trainer (rank 1 of 2); 3 iterations per epoch']);
      const plan = new EpochPlan({ size: 12, seed: SEED, epoch: 0, ranks: 2, replicas: 1, slotSize: 3 });
      expect(indices(await collect(one.epoch(0, 0)))).toEqual(chunks(plan.rankStream(1), 2));
      await one.close();
      await expect(KafkaSource.open(broker.consumer(0, 1), fresh, options([], { rank: 0, worldSize: 3 }))).rejects.toThrow(
        /the data service shares each epoch between 2 trainer ranks \(its --ranks 2\); this run has world size 3/,
      );
    });

    it('runs the iterations the ranks agreed on, passing over later batches and what is left of an epoch the ranks ended early', async () => {
      const broker = new FakeBroker();
      await streamer(broker, 16, { ranks: 2, endEpoch: 3 }).run();
      const lines: string[] = [];
      const source = await KafkaSource.open(broker.consumer(0, 1), fresh, options(lines, { rank: 0, worldSize: 2, batchSize: 2 }));
      expect(source.itersPerEpoch).toBe(4);
      source.runFor(3);
      expect(lines).toContain('test.rank0 holds 4 full batches per epoch; every rank runs 3, the rest is passed over');
      const e0 = await collect(source.epoch(0, 0));
      expect(e0.map((b) => [b.step, b.last])).toEqual([[0, false], [1, false], [2, true]]);
      // Epoch 1 ended by the ranks after its first batch: the loop returns the generator there.
      const e1 = source.epoch(1, 0);
      const first = await e1.next();
      expect((first.value as SourceBatch).step).toBe(0);
      await e1.return(undefined);
      const e2 = await collect(source.epoch(2, 0));
      expect(lines).toContain('passed over 6 images left of epoch 2 on test.rank0: the ranks ended that epoch together when one ran out');
      expect(e2.map((b) => [b.epoch, b.step])).toEqual([[2, 0], [2, 1], [2, 2]]);
      expect(() => source.runFor(5)).toThrow(/holds 4 full batches/);
      await source.close();
      const plan1 = new EpochPlan({ size: 16, seed: SEED, epoch: 1, ranks: 2, replicas: 1, slotSize: 3 });
      expect((first.value as SourceBatch).samples.map((x) => x.index)).toEqual(plan1.rankStream(0).slice(0, 2).map((i) => i + 1000));
    });
  });
});
