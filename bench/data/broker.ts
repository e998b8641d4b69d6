/**
 * Producer-to-consumer throughput through the real Kafka broker with the default wire
 * encoding (JPEG q90 4:4:4 views, deflated grids), without the cost of making the views:
 *
 *   npx tsx bench/data/broker.ts [--json] [--messages 200] [--slot 16] [--batch 64] [--prefetch 8] [--codec jpeg|raw|deflate]
 *
 * Views are made once by @sere/augment from photo-like 500×375 JPEGs and encoded once; each
 * message is that encoding with its slot number patched in (and its CRC redone). Phase 1
 * sends every message (acks from all in-sync replicas, idempotent producer); phase 2 reads
 * them back with BatchConsumer (fetch, CRC check, JPEG decode, slot merge, commit per batch).
 * Starts the broker with scripts/kafka/kafka.sh when none is running, and stops it after.
 */
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { decodeImage, makeMultiCropSample, Rng, VIT_SMALL_VIEWS } from '@sere/augment';
import { drawPicture } from '@sere/dataset';
import { BatchConsumer, kafkaClient, KafkaConsumerTransport, KafkaProducerTransport } from '@sere/stream';
import { DEFAULT_ENCODE_OPTIONS, encodeBatch } from '@sere/wire';
import { BROKERS, ensureKafka } from '../../test/data/kafka-harness';

const args = process.argv.slice(2);
const num = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const messages = num('messages', 200);
const slot = num('slot', 16);
const batchSize = num('batch', 64);
const codec = (args[args.indexOf('--codec') + 1] ?? 'jpeg') as 'jpeg' | 'raw' | 'deflate';
const encodeOptions = args.includes('--codec') ? { ...DEFAULT_ENCODE_OPTIONS, codec } : DEFAULT_ENCODE_OPTIONS;

function withSlot(template: Buffer, seq: number, slots: number): Buffer {
  const b = Buffer.from(template);
  b.writeUInt32LE(seq, 20);
  b.writeUInt32LE(slots, 24);
  b.writeUInt32LE(seq * slot, 32);
  b.writeUInt32LE(zlib.crc32(b.subarray(0, b.length - 4)), b.length - 4);
  return b;
}

async function main(): Promise<void> {
  const kafka = await ensureKafka();
  try {
    const samples = [];
    for (let i = 0; i < slot; i++) {
      const jpeg = await sharp(Buffer.from(drawPicture(500, 375, i % 10, 10, Rng.fromKey([9, i]))), { raw: { width: 500, height: 375, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
      samples.push(makeMultiCropSample(await decodeImage(jpeg), { ...VIT_SMALL_VIEWS, epoch: 0, index: i, label: i % 10 }, Rng.forImage(0, 0, i)));
    }
    const template = await encodeBatch({ epoch: 0, rank: 0, replica: 0, seq: 0, slotsInEpoch: messages, rankEpochSize: messages * slot, firstPosition: 0 }, samples, encodeOptions);
    const payloads = Array.from({ length: messages }, (_, s) => withSlot(template, s, messages));
    const bytes = payloads.reduce((t, p) => t + p.length, 0);
    const images = messages * slot;

    const prefix = `sere.bench.${Date.now()}`;
    const settings = { brokers: BROKERS, prefix, logLevel: 'nothing' as const };
    const producer = new KafkaProducerTransport(kafkaClient(settings), settings);
    await producer.ensureTopics(1, 1);
    let t = performance.now();
    for (let s = 0; s < messages; s++) await producer.send(0, 0, `0:${s}`, payloads[s]);
    const produceS = (performance.now() - t) / 1000;
    await producer.close();

    const transport = await KafkaConsumerTransport.connect(kafkaClient(settings), prefix, 0);
    const consumer = new BatchConsumer(transport, { rank: 0, batchSize, prefetch: num('prefetch', 8) });
    await consumer.start();
    t = performance.now();
    let got = 0;
    while (got < images) {
      const b = await consumer.next();
      got += b.samples.length;
      await consumer.done(b);
    }
    const consumeS = (performance.now() - t) / 1000;
    await consumer.close();

    const result = {
      encoding: args.includes('--codec') ? `${codec} views, deflated grids` : 'jpeg q90 4:4:4 tiled, deflated grids (default)',
      messages,
      imagesPerMessage: slot,
      bytesPerImage: Math.round(bytes / images),
      producer: { imagesPerS: Math.round(images / produceS), MBPerS: +(bytes / 1e6 / produceS).toFixed(1) },
      consumer: { imagesPerS: Math.round(images / consumeS), MBPerS: +(bytes / 1e6 / consumeS).toFixed(1), batchSize },
      kafka: 'single-node KRaft 3.9.1 on 127.0.0.1, kafkajs 2.2.4',
    };
    if (args.includes('--json')) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`${images} images in ${messages} messages of ${slot} (${result.bytesPerImage} bytes/image, ${result.encoding})`);
      console.log(`producer (send, acks=all):              ${result.producer.imagesPerS} images/s, ${result.producer.MBPerS} MB/s`);
      console.log(`consumer (fetch+check+decode+commit):   ${result.consumer.imagesPerS} images/s, ${result.consumer.MBPerS} MB/s`);
    }
  } finally {
    await kafka.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
