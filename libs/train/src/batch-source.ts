/**
 * What the training loop reads: the batches of one epoch in order, each with its place in
 * the epoch. A local folder (local-source.ts) and the data service's Kafka stream
 * (kafka-source.ts) both provide it, so run-training.ts does not know which it has.
 */
import type { MultiCropSample } from '@sere/augment';
import type { PthValue } from '@sere/torch';

export interface SourceBatch {
  epoch: number;
  /** Position of the batch within its epoch; the schedules' iteration is epoch · itersPerEpoch + step. */
  step: number;
  samples: MultiCropSample[];
  /** No batch of this epoch follows (a stop after it saves at the epoch's end, not inside it). */
  last: boolean;
}

export interface BatchSource {
  /** Full batches per epoch, known before the first step: the schedules are laid out over it. */
  readonly itersPerEpoch: number;
  /**
   * An epoch may end early on one rank and not on another (a stream leaves out images it
   * cannot use): on several ranks the loop then agrees on every step that all have a batch.
   */
  readonly mayEndEarly?: boolean;
  /** Several ranks agreed to run `n` < itersPerEpoch iterations per epoch: later full batches are passed over. */
  runFor?(n: number): void;
  /** Batches of `epoch` from batch `startStep` on. An epoch may end early, never late. */
  epoch(epoch: number, startStep: number): AsyncGenerator<SourceBatch>;
  /**
   * What a checkpoint saved now must hold, beside (epoch, step), to continue exactly after
   * the last batch handed out; null when (epoch, step) say it all.
   */
  position(): PthValue;
  close(): Promise<void>;
}

/** Where a run continues: from a checkpoint (its data position), or from the start. */
export interface StartPosition {
  epoch: number;
  step: number;
  /** What position() returned when the checkpoint was saved; null for a new run. */
  source: PthValue;
}

/**
 * Opens a run's source. `start` reads the checkpoint's position; it is a function because
 * only a stream needs it before the networks are built (a folder starts wherever the loop
 * asks), and reading a checkpoint is not free.
 */
export type SourceFactory = (start: () => Promise<StartPosition>) => Promise<BatchSource>;
