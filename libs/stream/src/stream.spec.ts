/**
 * Producer replicas and the trainer's consumer together on the in-memory broker: the
 * stream logic without Kafka (test/data runs the same paths against a real broker).
 */
import { DecodeError } from '@sere/augment';
import { encodeBatch, inspectMessage, sampleChecksum, standInSample } from '@sere/wire';
import { EpochPlan, type DatasetIndex } from '@sere/dataset';
import { BatchConsumer, decodeCursor, type Batch } from './batch-consumer';
import { FakeBroker } from './testing';
import { DataStreamer, type StreamerConfig } from './streamer';
import { VIT_SMALL_VIEWS } from '@sere/augment';

const tiny = { globalSize: 32, localSize: 16, locals: 2 };

function fakeIndex(n: number): DatasetIndex {
  return {
    root: '/data',
    classes: ['a', 'b', 'c'],
    entries: Array.from({ length: n }, (_, i) => ({ path: `/data/img${i}.jpg`, label: i % 3 })),
    emptyClasses: [],
    strayFiles: [],
    repeats: [],
  };
}

const config = (over: Partial<StreamerConfig> = {}): StreamerConfig => ({
  replica: 0,
  replicas: 1,
  ranks: 1,
  seed: 5,
  slotSize: 4,
  endEpoch: 1,
  maxLag: 1000,
  encode: { codec: 'raw' },
  recipe: VIT_SMALL_VIEWS,
  ...over,
});

const maker = (bad = new Set<number>()) => async (entry: { label: number }, index: number, epoch: number) => {
  if (bad.has(index)) throw new DecodeError('corrupt', `/data/img${index}.jpg`, 'test');
  return standInSample(index + 1000 * epoch, entry.label, tiny);
};

async function drain(consumer: BatchConsumer, images: number, commit = true): Promise<Batch[]> {
  const out: Batch[] = [];
  let got = 0;
  while (got < images) {
    const b = await consumer.next();
    out.push(b);
    got += b.samples.length;
    if (commit) await consumer.done(b);
  }
  return out;
}

describe('DataStreamer + BatchConsumer on the in-memory broker', () => {
  it('delivers every image of every epoch once, in the same order for every run, batches never straddling epochs', async () => {
    const broker = new FakeBroker();
    const index = fakeIndex(23);
    await Promise.all([0, 1].map((replica) => new DataStreamer(index, broker.producer(), config({ replica, replicas: 2, ranks: 2, endEpoch: 2 }), { makeSample: maker() }).run()));
    for (const rank of [0, 1]) {
      const consumer = new BatchConsumer(broker.consumer(rank, 2), { rank, batchSize: 5 });
      await consumer.start();
      const plan0 = new EpochPlan({ size: 23, seed: 5, epoch: 0, ranks: 2, replicas: 2, slotSize: 4 });
      const plan1 = new EpochPlan({ ...plan0.opts, epoch: 1 });
      const batches = await drain(consumer, plan0.rankEpochSize(rank) + plan1.rankEpochSize(rank));
      const e0 = batches.filter((b) => b.epoch === 0);
      expect(e0.flatMap((b) => b.samples.map((s) => s.index))).toEqual(plan0.rankStream(rank));
      expect(batches.filter((b) => b.epoch === 1).flatMap((b) => b.samples.map((s) => s.index - 1000))).toEqual(plan1.rankStream(rank));
      expect(e0.map((b) => b.endOfEpoch)).toEqual(e0.map((_, i) => i === e0.length - 1));
      expect(e0.slice(0, -1).every((b) => b.samples.length === 5)).toBe(true);
      expect(consumer.stats).toMatchObject({ staleMessages: 0, missingSlots: 0, wireErrors: {} });
      await consumer.close();
    }
  });

  it('resumes a restarted consumer mid-slot without losing or repeating a sample', async () => {
    const broker = new FakeBroker();
    const index = fakeIndex(30);
    await Promise.all([0, 1, 2].map((replica) => new DataStreamer(index, broker.producer(), config({ replica, replicas: 3, slotSize: 4 }), { makeSample: maker() }).run()));
    const expected = new EpochPlan({ size: 30, seed: 5, epoch: 0, ranks: 1, replicas: 3, slotSize: 4 }).rankStream(0);

    const first = new BatchConsumer(broker.consumer(0, 3), { rank: 0, batchSize: 7 });
    await first.start();
    const a = await first.next();
    const b = await first.next();
    await first.done(a);
    await first.done(b);
    const lost = await first.next(); // fetched, never marked done: must come again
    await first.close();
    expect(decodeCursor(broker.committed('test.trainer.rank0', 0).metadata)).toEqual({ epoch: 0, slot: 3, skip: 2 });

    const second = new BatchConsumer(broker.consumer(0, 3), { rank: 0, batchSize: 7 });
    expect(await second.start()).toEqual({ epoch: 0, slot: 3, skip: 2 });
    const rest = await drain(second, 30 - 14);
    const seen = [...a.samples, ...b.samples, ...rest.flatMap((x) => x.samples)].map((s) => s.index);
    expect(seen).toEqual(expected);
    expect(rest[0].samples.map((s) => s.index)).toEqual(lost.samples.map((s) => s.index));
    expect(rest[rest.length - 1].endOfEpoch).toBe(true);
  });

  it('commits a position inside the very first slot', async () => {
    const broker = new FakeBroker();
    await new DataStreamer(fakeIndex(8), broker.producer(), config({ slotSize: 4 }), { makeSample: maker() }).run();
    const first = new BatchConsumer(broker.consumer(0, 1), { rank: 0, batchSize: 3 });
    await first.start();
    const a = await first.next();
    await first.done(a);
    await first.close();
    expect(broker.committed('test.trainer.rank0', 0)).toEqual({ offset: 0, metadata: expect.stringContaining('"skip":3') });
    const second = new BatchConsumer(broker.consumer(0, 1), { rank: 0, batchSize: 5 });
    await second.start();
    const b = await second.next();
    const order = new EpochPlan({ size: 8, seed: 5, epoch: 0, ranks: 1, replicas: 1, slotSize: 4 }).rankStream(0);
    expect([...a.samples, ...b.samples].map((s) => s.index)).toEqual(order);
  });

  it('drops redelivered and stale messages, counts corrupt ones and moves past their slot', async () => {
    const broker = new FakeBroker();
    const index = fakeIndex(12);
    await new DataStreamer(index, broker.producer(), config({ slotSize: 3 }), { makeSample: maker() }).run();
    const part = broker.partition('test.rank0', 0);
    part[1] = Buffer.from(part[1]);
    part[1][100] ^= 0xff; // slot 1 corrupt
    const transport = broker.consumer(0, 1);
    const events: string[] = [];
    const consumer = new BatchConsumer(transport, { rank: 0, batchSize: 3, onEvent: (e) => events.push(e.type) });
    await consumer.start();
    const b0 = await consumer.next();
    transport.redeliverFrom(0, 0); // a rebalance replays the partition
    const rest = await drain(consumer, 6);
    const plan = new EpochPlan({ size: 12, seed: 5, epoch: 0, ranks: 1, replicas: 1, slotSize: 3 });
    expect([...b0.samples, ...rest.flatMap((b) => b.samples)].map((s) => s.index)).toEqual([...plan.slot(0, 0).indices, ...plan.slot(0, 2).indices, ...plan.slot(0, 3).indices]);
    expect(consumer.stats.wireErrors).toEqual({ checksum: 1 });
    expect(consumer.stats.missingSlots).toBe(1);
    expect(events).toEqual(['wire-error', 'missing-slot']);
  });

  it('pauses a partition that runs ahead and resumes it when drained', async () => {
    const broker = new FakeBroker();
    await new DataStreamer(fakeIndex(40), broker.producer(), config({ slotSize: 2 }), { makeSample: maker() }).run();
    const transport = broker.consumer(0, 1);
    const consumer = new BatchConsumer(transport, { rank: 0, batchSize: 4, prefetch: 3 });
    await consumer.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(transport.pauses).toBe(1);
    expect(consumer.stats.messages).toBe(3);
    const all = await drain(consumer, 40);
    expect(all.flatMap((b) => b.samples).length).toBe(40);
  });

  it('leaves bad images out, counts them by kind, and sends empty slots so the stream goes on', async () => {
    const broker = new FakeBroker();
    const failures: string[] = [];
    const warnings: unknown[] = [];
    const plan = new EpochPlan({ size: 9, seed: 5, epoch: 0, ranks: 1, replicas: 1, slotSize: 3 });
    const bad = new Set([...plan.slot(0, 1).indices, plan.slot(0, 2).indices[0]]);
    const streamer = new DataStreamer(fakeIndex(9), broker.producer(), config({ slotSize: 3 }), {
      makeSample: maker(bad),
      metrics: { imagesSent() {}, bytesSent() {}, conversion() {}, lag() {}, slotSent() {}, decodeFailure: (k) => failures.push(k) },
      log: { info() {}, warn: (_m, f) => warnings.push(f) },
    });
    await streamer.run();
    expect(streamer.status()).toMatchObject({ state: 'finished', slotsSent: 3, imagesSent: 5, imagesSkipped: 4 });
    expect(failures).toEqual(['corrupt', 'corrupt', 'corrupt', 'corrupt']);
    expect(warnings[0]).toMatchObject({ kind: 'corrupt', path: expect.stringMatching(/^\/data\/img\d+\.jpg$/) });
    const consumer = new BatchConsumer(broker.consumer(0, 1), { rank: 0, batchSize: 10 });
    await consumer.start();
    const only = await consumer.next();
    expect(only.samples.map((s) => s.index)).toEqual(plan.rankStream(0).filter((i) => !bad.has(i)));
    expect(only.endOfEpoch).toBe(true);
  });

  it('resumes a restarted replica after the last slot it wrote', async () => {
    const broker = new FakeBroker();
    const index = fakeIndex(20);
    const producer = broker.producer();
    const first = new DataStreamer(index, producer, config({ slotSize: 2, ranks: 2 }), { makeSample: maker() });
    const sent: string[] = [];
    const original = producer.send.bind(producer);
    producer.send = async (rank, partition, key, value) => {
      await original(rank, partition, key, value);
      sent.push(`${rank}:${key}`);
      if (sent.length === 3) void first.stop();
    };
    await first.run();
    expect(first.status().state).toBe('stopped');
    const again = new DataStreamer(index, broker.producer(), config({ slotSize: 2, ranks: 2 }), { makeSample: maker() });
    await again.run();
    for (const rank of [0, 1]) {
      const slots = broker.partition(`test.rank${rank}`, 0).map((m) => inspectMessage(m).seq);
      expect(slots).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('waits while a partition is maxLag ahead of the committed offset', async () => {
    const broker = new FakeBroker();
    const streamer = new DataStreamer(fakeIndex(16), broker.producer(), config({ slotSize: 2, maxLag: 3, lagPollMs: 5 }), { makeSample: maker() });
    const run = streamer.run();
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(broker.partition('test.rank0', 0).length).toBe(3);
      expect(streamer.status().state).toBe('waiting-for-consumers');
    } catch (e) {
      await streamer.stop();
      throw e;
    }
    const consumer = new BatchConsumer(broker.consumer(0, 1), { rank: 0, batchSize: 2 });
    await consumer.start();
    const got = await drain(consumer, 16);
    await run;
    expect(got.flatMap((b) => b.samples).map((s) => sampleChecksum(s)).length).toBe(16);
  });

  it('starts from given positions instead of the group\'s commits, and commits them at once', async () => {
    const broker = new FakeBroker();
    await new DataStreamer(fakeIndex(12), broker.producer(), config({ slotSize: 3 }), { makeSample: maker() }).run();
    const order = new EpochPlan({ size: 12, seed: 5, epoch: 0, ranks: 1, replicas: 1, slotSize: 3 }).rankStream(0);
    const first = new BatchConsumer(broker.consumer(0, 1), { rank: 0, batchSize: 4 });
    await first.start();
    const a = await first.next();
    await first.done(a);
    await first.done(await first.next()); // the group moves on past `a`
    await first.close();

    const from = new Map(a.commit.map((c) => [c.partition, { offset: c.offset, metadata: c.metadata }]));
    const second = new BatchConsumer(broker.consumer(0, 1), { rank: 0, batchSize: 4, from });
    expect(await second.start()).toEqual(a.after);
    expect(broker.committed('test.trainer.rank0', 0)).toEqual({ offset: a.commit[0].offset, metadata: a.commit[0].metadata });
    const rest = await drain(second, 8);
    expect([...a.samples, ...rest.flatMap((b) => b.samples)].map((s) => s.index)).toEqual(order);
    expect(rest.map((b) => b.rankEpochSize)).toEqual([12, 12]);
  });

  it('fails a waiting next() when the transport loses the broker', async () => {
    const broker = new FakeBroker();
    broker.createTopic('test.rank0', 1);
    const transport = broker.consumer(0, 1);
    const consumer = new BatchConsumer(transport, { rank: 0, batchSize: 2 });
    await consumer.start();
    const waiting = consumer.next();
    transport.fail(new Error('broker gone'));
    await expect(waiting).rejects.toThrow('broker gone');
    await expect(consumer.next()).rejects.toThrow('broker gone');
  });

  it('refuses a message meant for another rank', async () => {
    const broker = new FakeBroker();
    broker.createTopic('test.rank0', 1);
    const h = { epoch: 0, rank: 1, replica: 0, seq: 0, slotsInEpoch: 1, rankEpochSize: 1, firstPosition: 0 };
    broker.append('test.rank0', 0, await encodeBatch(h, [standInSample(1, 1, tiny)], { codec: 'raw' }));
    broker.append('test.rank0', 0, await encodeBatch({ ...h, rank: 0 }, [standInSample(2, 1, tiny)], { codec: 'raw' }));
    const consumer = new BatchConsumer(broker.consumer(0, 1), { rank: 0, batchSize: 1 });
    await consumer.start();
    expect((await consumer.next()).samples[0].index).toBe(2);
    expect(consumer.stats.wireErrors).toEqual({ 'wrong-rank': 1 });
  });
});
