/**
 * The Kafka source's part of a checkpoint's data position, and where a run starts reading.
 *
 * Saved: the rank topic, its images per epoch (so a resumed run knows its epoch length
 * without waiting for a batch), and per partition what a commit after the last batch handed
 * out records (offset, and the cursor in its metadata). A resumed run starts its consumer
 * exactly there, whatever the group committed after the checkpoint: those commits only
 * tell the producers how far the trainer got before it stopped.
 */
import { encodeCursor, type CommitRequest, type CommittedPosition } from '@sere/stream';
import { EXIT } from '@sere/config';
import type { PthValue } from '@sere/torch';
import type { StartPosition } from './batch-source';
import { TrainingError } from './errors';

export interface StreamPosition {
  topic: string;
  imagesPerEpoch: number;
  partitions: CommitRequest[];
}

export function streamPositionToPth(p: StreamPosition): PthValue {
  return {
    topic: p.topic,
    images_per_epoch: p.imagesPerEpoch,
    partitions: p.partitions.map((c) => ({ partition: c.partition, offset: c.offset, metadata: c.metadata })),
  };
}

const count = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The stream position a checkpoint holds; null when it holds none (a new run, or a run that read a folder). */
export function parseStreamPosition(v: PthValue | undefined): StreamPosition | null {
  if (v === null || v === undefined) return null;
  const o = v as Record<string, PthValue>;
  const parts = o.partitions as Record<string, PthValue>[];
  const valid =
    typeof o.topic === 'string' &&
    count(o.images_per_epoch) &&
    Array.isArray(parts) &&
    parts.every((p) => p && count(p.partition) && count(p.offset) && typeof p.metadata === 'string');
  if (!valid) throw new TrainingError('the checkpoint\'s data position is not a stream position this version can read; continue the run with the version that wrote it', EXIT.refused);
  return {
    topic: o.topic as string,
    imagesPerEpoch: o.images_per_epoch as number,
    partitions: parts.map((p) => ({ partition: p.partition as number, offset: p.offset as number, metadata: p.metadata as string })),
  };
}

export interface ReadFrom {
  /** Where each partition is read from (offset -1: the earliest retained message). */
  from: Map<number, CommittedPosition>;
  /** Known from the checkpoint; null where the first batch must tell. */
  imagesPerEpoch: number | null;
}

/**
 * Where the consumer starts for a run continuing at `start`: the saved position when the
 * checkpoint read this topic, else the beginning of the retained stream with the cursor at
 * the start of the run's epoch (earlier epochs' messages are passed over). Only an
 * epoch boundary can be continued from another source.
 */
export function readFrom(start: StartPosition, topic: string, partitions: number): ReadFrom {
  const saved = parseStreamPosition(start.source);
  const all = saved !== null && saved.topic === topic && saved.partitions.length === partitions && saved.partitions.every((p) => p.partition < partitions);
  if (saved && all) {
    return { from: new Map(saved.partitions.map((p) => [p.partition, { offset: p.offset, metadata: p.metadata }])), imagesPerEpoch: saved.imagesPerEpoch };
  }
  if (start.step !== 0) {
    const was = saved ? `topic ${saved.topic} (${saved.partitions.length} partitions)` : 'a local folder';
    throw new TrainingError(
      `the checkpoint stopped inside epoch ${start.epoch + 1} reading ${was}, and this run reads topic ${topic} (${partitions} partitions); ` +
        'continue it with the data it was reading, or start from a checkpoint saved at the end of an epoch',
      EXIT.refused,
    );
  }
  const metadata = encodeCursor({ epoch: start.epoch, slot: 0, skip: 0 });
  return { from: new Map(Array.from({ length: partitions }, (_, p) => [p, { offset: -1, metadata }])), imagesPerEpoch: null };
}
