/**
 * A forged message (valid checksum, a slot 4e9 ahead) written into a real topic between two
 * real slots: the trainer's consumer drops it as malformed, names its partition and offset,
 * and reads every real image in order.
 */
import { randomUUID } from 'node:crypto';
import { BatchConsumer, kafkaClient, KafkaConsumerTransport, KafkaProducerTransport, type ConsumerEvent } from '@sere/stream';
import { encodeBatch, standInSample, type BatchHeader } from '@sere/wire';
import { BROKERS, ensureKafka, type KafkaHandle } from './kafka-harness';

jest.setTimeout(60_000);

const tiny = { globalSize: 32, localSize: 16, locals: 2 };
let kafka: KafkaHandle;

beforeAll(async () => {
  kafka = await ensureKafka();
});

afterAll(async () => {
  await kafka?.stop();
});

it('drops a forged slot far ahead and delivers the real slots around it', async () => {
  const prefix = `sere.e2e.forged.${randomUUID().slice(0, 8)}`;
  const settings = { brokers: BROKERS, prefix, clientId: 'sere-e2e', logLevel: 'nothing' as const };
  const producer = new KafkaProducerTransport(kafkaClient(settings), settings);
  const events: ConsumerEvent[] = [];
  let consumer: BatchConsumer | null = null;
  try {
    await producer.ensureTopics(1, 1);
    const slot = (seq: number): BatchHeader => ({ epoch: 0, rank: 0, replica: 0, seq, slotsInEpoch: 3, rankEpochSize: 6, firstPosition: 2 * seq });
    const real = (seq: number) => encodeBatch(slot(seq), [standInSample(2 * seq, 0, tiny), standInSample(2 * seq + 1, 0, tiny)], { codec: 'raw' });
    const lie = await encodeBatch({ ...slot(4e9), slotsInEpoch: 4e9 + 1, rankEpochSize: 4e9 + 1, firstPosition: 4e9 }, [standInSample(99, 0, tiny)], { codec: 'raw' });
    for (const value of [await real(0), lie, await real(1), await real(2)]) await producer.send(0, 0, 'k', value);

    const transport = await KafkaConsumerTransport.connect(kafkaClient(settings), prefix, 0, { topicWaitMs: 30_000 });
    consumer = new BatchConsumer(transport, { rank: 0, batchSize: 6, onEvent: (e) => events.push(e) });
    await consumer.start();
    const batch = await consumer.next();
    expect(batch.samples.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(batch.endOfEpoch).toBe(true);
    expect(events).toEqual([{ type: 'wire-error', kind: 'malformed', partition: 0, offset: 1, message: expect.stringMatching(/slot 4000000000/) }]);
    expect(consumer.stats).toMatchObject({ wireErrors: { malformed: 1 }, missingSlots: 0 });
  } finally {
    await consumer?.close();
    await producer.close();
  }
});
