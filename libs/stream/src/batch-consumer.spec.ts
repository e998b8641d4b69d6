/**
 * Messages whose stream position is forged or damaged (the CRC passes, the header lies): the
 * consumer drops them as malformed, reports where they were, keeps every real image in order,
 * and never spins through the slots such a header claims.
 */
import { VIT_SMALL_VIEWS } from '@sere/augment';
import { encodeBatch, standInSample, type BatchHeader } from '@sere/wire';
import { EpochPlan, type DatasetIndex } from '@sere/dataset';
import { BatchConsumer, type Batch, type ConsumerEvent } from './batch-consumer';
import { FakeBroker } from './testing';
import { DataStreamer } from './streamer';

const tiny = { globalSize: 32, localSize: 16, locals: 2 };
const SEED = 5;

function fakeIndex(n: number): DatasetIndex {
  return { root: '/data', classes: ['a'], entries: Array.from({ length: n }, (_, i) => ({ path: `/data/img${i}.jpg`, label: 0 })), emptyClasses: [], strayFiles: [], repeats: [] };
}

/** A real stream of `images` images in slots of 3 over `replicas` partitions. */
async function produce(broker: FakeBroker, images: number, replicas = 1): Promise<void> {
  await Promise.all(
    Array.from({ length: replicas }, (_, replica) =>
      new DataStreamer(
        fakeIndex(images),
        broker.producer(),
        { replica, replicas, ranks: 1, seed: SEED, slotSize: 3, endEpoch: 2, maxLag: 1000, encode: { codec: 'raw' }, recipe: VIT_SMALL_VIEWS },
        { makeSample: async (e, index, epoch) => standInSample(index + 1000 * epoch, e.label, tiny) },
      ).run(),
    ),
  );
}

/** A message with a valid checksum and whatever header the forger chose. */
function forged(over: Partial<BatchHeader>, samples = [standInSample(999_999, 0, tiny)]): Promise<Buffer> {
  const seq = over.seq ?? 0;
  const header: BatchHeader = { epoch: 0, rank: 0, replica: 0, seq, slotsInEpoch: seq + 1, rankEpochSize: seq + 1, firstPosition: seq, ...over };
  return encodeBatch(header, samples, { codec: 'raw' });
}

/** Reads `images` samples, failing (instead of waiting for ever) when the stream stops giving them. */
async function drain(consumer: BatchConsumer, images: number, ms = 3000): Promise<Batch[]> {
  const out: Batch[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stream stopped after ${out.flatMap((b) => b.samples).length} of ${images} images`)), ms);
  });
  try {
    for (let got = 0; got < images; ) {
      const b = await Promise.race([consumer.next(), deadline]);
      out.push(b);
      got += b.samples.length;
      await consumer.done(b);
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

const indices = (batches: Batch[]) => batches.flatMap((b) => b.samples.map((s) => s.index));
const stream = (n: number, epoch: number, replicas = 1) => new EpochPlan({ size: n, seed: SEED, epoch, ranks: 1, replicas, slotSize: 3 }).rankStream(0).map((i) => i + 1000 * epoch);

async function consumerOn(broker: FakeBroker, partitions: number, events: ConsumerEvent[]): Promise<BatchConsumer> {
  const consumer = new BatchConsumer(broker.consumer(0, partitions), { rank: 0, batchSize: 3, onEvent: (e) => events.push(e) });
  await consumer.start();
  return consumer;
}

describe('BatchConsumer and forged stream positions', () => {
  it.each<[string, Partial<BatchHeader>]>([
    ['a slot 100,000 ahead', { seq: 100_000 }],
    ['a slot 4e9 ahead', { seq: 4e9 }],
    ['a slot ahead that its epoch cannot hold', { seq: 9, slotsInEpoch: 4, rankEpochSize: 12, firstPosition: 27 }],
    ['an epoch 4e9 ahead', { epoch: 4e9, seq: 0, slotsInEpoch: 4, rankEpochSize: 12, firstPosition: 0 }],
    ['the next epoch, too early', { epoch: 1, seq: 0, slotsInEpoch: 4, rankEpochSize: 12, firstPosition: 0 }],
  ])('drops %s as malformed, naming partition and offset, and delivers every real image in order', async (_name, header) => {
    const broker = new FakeBroker();
    await produce(broker, 12);
    // Between the real slots 1 and 2 of epoch 0.
    broker.partition('test.rank0', 0).splice(2, 0, await forged(header));
    const events: ConsumerEvent[] = [];
    const consumer = await consumerOn(broker, 1, events);
    const batches = await drain(consumer, 24);
    expect(indices(batches)).toEqual([...stream(12, 0), ...stream(12, 1)]);
    expect(consumer.stats).toMatchObject({ wireErrors: { malformed: 1 }, missingSlots: 0 });
    expect(events).toEqual([{ type: 'wire-error', kind: 'malformed', partition: 0, offset: 2, message: expect.stringMatching(/slot|epoch/) }]);
    await consumer.close();
  });

  it.each<[string, Partial<BatchHeader>, RegExp]>([
    ['a slot beyond its own epoch length', { seq: 7, slotsInEpoch: 4, rankEpochSize: 12, firstPosition: 21 }, /slot 7 .*4 slots/],
    ['more slots than images', { seq: 2, slotsInEpoch: 40, rankEpochSize: 12, firstPosition: 6 }, /40 slots .*12 images/],
    ['samples past the end of its epoch', { seq: 2, slotsInEpoch: 4, rankEpochSize: 12, firstPosition: 12 }, /position 12/],
    ['a slot of another partition', { seq: 3, replica: 1, slotsInEpoch: 4, rankEpochSize: 12, firstPosition: 9 }, /partition 1/],
  ])('refuses a header with %s', async (_name, header, reason) => {
    const broker = new FakeBroker();
    await produce(broker, 12, 2);
    broker.partition('test.rank0', 0).splice(1, 0, await forged(header));
    const events: ConsumerEvent[] = [];
    const consumer = await consumerOn(broker, 2, events);
    expect(indices(await drain(consumer, 24))).toEqual([...stream(12, 0, 2), ...stream(12, 1, 2)]);
    expect(events).toEqual([{ type: 'wire-error', kind: 'malformed', partition: 0, offset: 1, message: expect.stringMatching(reason) }]);
    await consumer.close();
  });

  it('refuses a message that disagrees with its epoch\'s length', async () => {
    const broker = new FakeBroker();
    await produce(broker, 12);
    // Slot 2 as the producer would send it, but claiming 5 slots and 15 images in epoch 0.
    const part = broker.partition('test.rank0', 0);
    part.splice(2, 0, await forged({ seq: 2, slotsInEpoch: 5, rankEpochSize: 15, firstPosition: 6 }));
    const events: ConsumerEvent[] = [];
    const consumer = await consumerOn(broker, 1, events);
    expect(indices(await drain(consumer, 24))).toEqual([...stream(12, 0), ...stream(12, 1)]);
    expect(events).toEqual([{ type: 'wire-error', kind: 'malformed', partition: 0, offset: 2, message: expect.stringMatching(/5 slots and 15 images.*4 slots and 12 images/) }]);
    await consumer.close();
  });

  it('passes over a gap the first message opens in one step', async () => {
    // Where a partition starts is whatever its first message says (retention, a producer
    // started at a later slot); the gap is counted once, not walked slot by slot.
    const broker = new FakeBroker();
    broker.createTopic('test.rank0', 1);
    const gap = 1_000_000;
    broker.append('test.rank0', 0, await forged({ seq: gap }, [standInSample(7, 0, tiny)]));
    const events: ConsumerEvent[] = [];
    const consumer = await consumerOn(broker, 1, events);
    const started = Date.now();
    expect(indices(await drain(consumer, 1))).toEqual([7]);
    expect(Date.now() - started).toBeLessThan(500);
    expect(events).toEqual([{ type: 'missing-slot', epoch: 0, slot: 0, count: gap }]);
    expect(consumer.stats.missingSlots).toBe(gap);
    await consumer.close();
  });

  it('passes over a 4e9-slot gap as quickly', async () => {
    const broker = new FakeBroker();
    broker.createTopic('test.rank0', 1);
    broker.append('test.rank0', 0, await forged({ seq: 4e9 }, [standInSample(8, 0, tiny)]));
    const events: ConsumerEvent[] = [];
    const consumer = await consumerOn(broker, 1, events);
    expect(indices(await drain(consumer, 1, 1000))).toEqual([8]);
    expect(events).toEqual([{ type: 'missing-slot', epoch: 0, slot: 0, count: 4e9 }]);
    await consumer.close();
  });

  it('skips only the slots no partition can still deliver, and waits for a silent partition', async () => {
    // Two partitions: partition 0 starts at slot 10 of a 20-slot epoch, partition 1 says nothing yet.
    const broker = new FakeBroker();
    broker.createTopic('test.rank0', 2);
    const h = { slotsInEpoch: 20, rankEpochSize: 20 };
    broker.append('test.rank0', 0, await forged({ ...h, seq: 10, firstPosition: 10 }, [standInSample(10, 0, tiny)]));
    const events: ConsumerEvent[] = [];
    const consumer = new BatchConsumer(broker.consumer(0, 2), { rank: 0, batchSize: 2, onEvent: (e) => events.push(e) });
    await consumer.start();
    const waiting = consumer.next();
    await new Promise((r) => setTimeout(r, 20));
    // Slot 0 cannot come any more (partition 0 is past it); slot 1 (partition 1) still can.
    expect(events).toEqual([{ type: 'missing-slot', epoch: 0, slot: 0, count: 1 }]);
    broker.append('test.rank0', 1, await forged({ ...h, seq: 11, replica: 1, firstPosition: 11 }, [standInSample(11, 0, tiny)]));
    expect((await waiting).samples.map((s) => s.index)).toEqual([10, 11]);
    expect(events).toEqual([
      { type: 'missing-slot', epoch: 0, slot: 0, count: 1 },
      { type: 'missing-slot', epoch: 0, slot: 1, count: 9 },
    ]);
    expect(consumer.stats.missingSlots).toBe(10);
    await consumer.close();
  });
});
