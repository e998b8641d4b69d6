/**
 * In-process data pipeline for `sere train --data_path <folder>`: the epoch's seeded
 * permutation is cut into batches (drop_last, as the reference's loader), and each image is
 * decoded and augmented on a pool of worker threads, a bounded number of batches ahead of
 * the trainer. A file that fails to decode is logged, counted, and replaced by the next
 * image of the epoch's order, so batches stay full and a run stays reproducible.
 */
import * as path from 'path';
import Piscina from 'piscina';
import { epochPermutation } from '@sere/augment';
import type { MultiCropOptions, MultiCropSample, ViewRecipe } from '@sere/augment';
import { EXIT } from '@sere/config';
import { distributedShard, type DatasetIndex } from '@sere/dataset';
import type { AugmentResult, AugmentTask } from './augment-task';
import type { BatchSource, SourceBatch } from './batch-source';
import { TrainingError } from './errors';

export interface LocalSourceOptions {
  index: DatasetIndex;
  batchSize: number;
  recipe: ViewRecipe;
  seed: number;
  workers: number;
  /** Batches prepared ahead of the one being trained on. */
  prefetch: number;
  onBadFile?: (path: string, kind: string, message: string) => void;
  /** This trainer's rank and the world size: it trains on its DistributedSampler share. */
  rank?: number;
  worldSize?: number;
}

export class LocalSource implements BatchSource {
  private readonly pool: Piscina;
  readonly itersPerEpoch: number;
  private readonly bad = new Set<number>();

  constructor(readonly opts: LocalSourceOptions) {
    const n = Math.ceil(opts.index.entries.length / (opts.worldSize ?? 1));
    this.itersPerEpoch = Math.floor(n / opts.batchSize);
    if (this.itersPerEpoch === 0) {
      const share = (opts.worldSize ?? 1) > 1 ? ` per rank (${opts.index.entries.length} images over ${opts.worldSize} ranks)` : '';
      throw new TrainingError(`--data_path ${opts.index.root}: ${n} images${share} is fewer than one batch of --batch_size_per_gpu ${opts.batchSize}`, EXIT.refused);
    }
    this.pool = new Piscina({ filename: path.join(__dirname, 'augment-task-bootstrap.js'), minThreads: opts.workers, maxThreads: opts.workers });
  }

  private async sample(order: Uint32Array, pos: number, epoch: number): Promise<MultiCropSample> {
    const n = order.length;
    for (let k = 0; k < n; k++) {
      const idx = order[(pos + k) % n];
      if (this.bad.has(idx)) continue;
      const entry = this.opts.index.entries[idx];
      const opts: MultiCropOptions = { ...this.opts.recipe, epoch, index: idx, label: entry.label };
      const task: AugmentTask = { path: entry.path, opts, seed: this.opts.seed };
      const r = (await this.pool.run(task)) as AugmentResult;
      if (r.ok) return r.sample;
      this.bad.add(idx);
      this.opts.onBadFile?.(r.path, r.kind, r.message);
    }
    throw new TrainingError(`--data_path ${this.opts.index.root}: no image could be decoded`, EXIT.refused);
  }

  private batch(order: Uint32Array, epoch: number, step: number): Promise<SourceBatch> {
    const b = this.opts.batchSize;
    return Promise.all(Array.from({ length: b }, (_, i) => this.sample(order, step * b + i, epoch))).then((samples) => ({ epoch, step, samples, last: step + 1 === this.itersPerEpoch }));
  }

  /** Batches of `epoch` from batch `startStep` on, `prefetch` ahead. */
  async *epoch(epoch: number, startStep = 0): AsyncGenerator<SourceBatch> {
    const order = distributedShard(epochPermutation(this.opts.seed, epoch, this.opts.index.entries.length), this.opts.rank ?? 0, this.opts.worldSize ?? 1);
    const ahead: Promise<SourceBatch>[] = [];
    let next = startStep;
    const fill = () => {
      while (ahead.length <= this.opts.prefetch && next < this.itersPerEpoch) {
        const p = this.batch(order, epoch, next++);
        // Batches still in flight when the run stops are abandoned; their rejection is not an error.
        p.catch(() => undefined);
        ahead.push(p);
      }
    };
    fill();
    while (ahead.length) {
      const b = await ahead.shift()!;
      fill();
      yield b;
    }
  }

  /** (epoch, step) in the checkpoint say where a folder's epoch order continues. */
  position(): null {
    return null;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
