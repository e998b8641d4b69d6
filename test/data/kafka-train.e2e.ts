/**
 * Training from the data service's stream through the real broker: a DataStreamer decodes
 * and augments a synthetic dataset into Kafka while runTraining reads it with --data
 * kafka://. A run stopped part-way and continued gives the losses of one that was not,
 * even after the consumer group's commits moved elsewhere; and `sere train` against a
 * broker that does not answer ends with exit 69 and one line saying what to do.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VIT_SMALL_VIEWS } from '@sere/augment';
import { parseFlags } from '@sere/config';
import { indexImageFolder, synthDataset, type DatasetIndex } from '@sere/dataset';
import { DataStreamer, kafkaClient, KafkaProducerTransport, rankGroup, rankTopic } from '@sere/stream';
import { openStore } from '@sere/store';
import { runTraining } from '@sere/train';
import { closedPort } from '@sere/stream/testing';
import { BROKERS, ensureKafka, type KafkaHandle } from './kafka-harness';

jest.setTimeout(300_000);

const FLAGS = [
  '--arch', 'vit_tiny', '--batch_size_per_gpu', '4', '--epochs', '2', '--warmup_epochs', '1', '--warmup_teacher_temp_epochs', '1',
  '--local_crops_number', '2', '--global_size', '32', '--local_size', '16', '--out_dim', '64', '--head_hidden_dim', '64',
  '--head_bottleneck_dim', '32', '--threads', '1', '--saveckp_freq', '1',
];
// What the data service would make for these flags (its --global-size 32 --local-size 16 --local-crops 2).
const recipe = { ...VIT_SMALL_VIEWS, globalSize: 32, localSize: 16, localCropsNumber: 2 };

const read = (dir: string, name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
const losses = (dir: string) => read(dir, 'metrics.jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l).loss as number);

let kafka: KafkaHandle;
let root: string;
let index: DatasetIndex;

beforeAll(async () => {
  kafka = await ensureKafka();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-kafka-train-'));
  // 14 images in batches of 4: 3 iterations per epoch, and a short batch of 2 to drop.
  await synthDataset(path.join(root, 'data'), { classes: 2, perClass: 7, size: 48, seed: 3 });
  index = await indexImageFolder(path.join(root, 'data'));
});

afterAll(async () => {
  await kafka?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('sere train --data kafka://', () => {
  it('trains from the stream; stopped and continued, it gives the losses of an uninterrupted run', async () => {
    const prefix = `sere.e2e.train.${randomUUID().slice(0, 8)}`;
    const settings = { brokers: BROKERS, prefix, clientId: 'sere-e2e', logLevel: 'nothing' as const };
    const producer = new KafkaProducerTransport(kafkaClient(settings), settings);
    // Three messages of three images ahead of the trainer's commits: the producer runs
    // alongside the first run, held back by its back-pressure.
    const streamer = new DataStreamer(index, producer, { replica: 0, replicas: 1, ranks: 1, seed: 11, slotSize: 3, endEpoch: 2, maxLag: 3, lagPollMs: 50, recipe });
    const producing = streamer.run();

    const lines: string[] = [];
    const train = (out: string, extra: string[] = []) => {
      const config = parseFlags([...FLAGS, '--data', `kafka://${BROKERS[0]}/${prefix}`, '--output_dir', out, ...extra]);
      return runTraining({ config, store: openStore(out), write: (l) => lines.push(l) });
    };
    try {
      const straight = path.join(root, 'straight');
      const r = await train(straight);
      await producing;
      expect(r.iterations).toBe(6);
      expect(lines).toContain(`data: ${rankTopic(prefix, 0)} at ${BROKERS[0]}, 14 images per epoch for this trainer; 3 iterations per epoch`);
      expect(streamer.status()).toMatchObject({ state: 'finished', imagesSent: 28 });

      // A new run starts at the beginning of the stream although the group committed its end.
      const stopped = path.join(root, 'stopped');
      const first = await train(stopped, ['--steps', '2']);
      expect(first.stoppedEarly).toBe(true);

      // The group's commits run ahead of a checkpoint when a trainer is killed between two;
      // move them to the end of the topic: the continued run must start from its checkpoint.
      const admin = kafkaClient(settings).admin();
      await admin.connect();
      try {
        const [end] = await admin.fetchTopicOffsets(rankTopic(prefix, 0));
        await admin.setOffsets({ groupId: rankGroup(prefix, 0), topic: rankTopic(prefix, 0), partitions: [{ partition: 0, offset: end.high }] });
      } finally {
        await admin.disconnect();
      }

      const second = await train(stopped);
      expect(second.iterations).toBe(4);
      expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^resumed from .*checkpoint\.pth: epoch 1, iteration 3$/)]));
      expect(losses(straight)).toHaveLength(6);
      expect(losses(stopped)).toEqual(losses(straight));
      expect(read(stopped, 'log.txt')).toBe(read(straight, 'log.txt'));
    } finally {
      await streamer.stop();
      await producer.close();
    }
  });

  it('ends with exit 69 and the broker\'s address when no broker answers', async () => {
    const port = await closedPort();
    const r = spawnSync(
      process.execPath,
      [path.resolve(__dirname, '../../apps/cli/bin/sere.js'), 'train', ...FLAGS, '--data', `kafka://127.0.0.1:${port}/sere.nowhere`, '--output_dir', path.join(root, 'nowhere')],
      { encoding: 'utf8' },
    );
    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 69, stderr: expect.stringMatching(/^sere train: .+\n$/) });
    expect(r.stderr).toMatch(new RegExp(`--data kafka://127\\.0\\.0\\.1:${port}/sere\\.nowhere: cannot reach the Kafka broker 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\)`));
    expect(r.stderr).toMatch(/Start the broker or correct the address, then run the same command again/);
    expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
