/**
 * A training run, in the order of the reference's training script: data, student and
 * teacher, loss, optimiser and schedules, resume, then the loop with logging and
 * checkpoints. The networks live on a worker thread (StepWorker); this thread feeds data,
 * prints progress and writes checkpoints.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { SereConfig } from '@sere/config';
import { indexImageFolder } from '@sere/data';
import type { ViewRecipe } from '@sere/augment';
import { NonFiniteLossError, StepWorker, type ResumeInfo, type StepMetrics } from '@sere/sere';
import type { PthValue } from '@sere/torch';
import { LocalSource } from './local-source';
import { Progress } from './progress';
import type { RunStore } from './run-store';

export interface RunOptions {
  config: SereConfig;
  /** Where checkpoints, config.json, log.txt and metrics.jsonl go. */
  store: RunStore;
  dataDir: string;
  write: (line: string) => void;
  /** Set by a signal handler: finish the current step, save, and return. */
  stopRequested?: () => boolean;
}

export interface RunResult {
  epochsDone: number;
  iterations: number;
  stoppedEarly: boolean;
  imagesPerSecond: number;
  last: StepMetrics | null;
}

export class TrainingError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'TrainingError';
  }
}

function viewRecipe(c: SereConfig): ViewRecipe {
  for (const [flag, px] of [['--global_size', c.global_size], ['--local_size', c.local_size]] as const) {
    if (px % c.patch_size !== 0) throw new TrainingError(`${flag}: ${px} px is not a multiple of --patch_size ${c.patch_size}`, 2);
  }
  return {
    globalCropsScale: [c.global_crops_scale[0], c.global_crops_scale[1]],
    localCropsScale: [c.local_crops_scale[0], c.local_crops_scale[1]],
    localCropsNumber: c.local_crops_number,
    overlapSize: [c.overlap_size[0], c.overlap_size[1]],
    globalSize: c.global_size,
    localSize: c.local_size,
    patchSize: c.patch_size,
    predRatio: [...c.pred_ratio],
    predRatioVar: [...c.pred_ratio_var],
    predShape: c.pred_shape,
    predStartEpoch: c.pred_start_epoch,
    useMaskedImModeling: c.use_masked_im_modeling,
  };
}

function args(c: SereConfig): Record<string, PthValue> {
  const out: Record<string, PthValue> = {};
  for (const [k, v] of Object.entries(c)) out[k] = Array.isArray(v) ? [...v] : (v as PthValue);
  return out;
}

async function readOutside(file: string): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (e) {
    throw new TrainingError(`--load_from ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 2);
  }
}

export async function runTraining(o: RunOptions): Promise<RunResult> {
  const c = o.config;

  // ============ data ============
  const index = await indexImageFolder(o.dataDir);
  for (const empty of index.emptyClasses) o.write(`warning: class folder '${empty}' holds no images (its label is kept)`);
  const workers = c.data_workers ?? Math.max(1, os.cpus().length - 1);
  const source = new LocalSource({
    index,
    batchSize: c.batch_size_per_gpu,
    recipe: viewRecipe(c),
    seed: c.seed,
    workers,
    prefetch: 2,
    onBadFile: (p, kind, msg) => o.write(`skipped ${p} (${kind}): ${msg}`),
  });
  o.write(`data: ${index.entries.length} images in ${index.classes.length} classes from ${index.root}; ${source.itersPerEpoch} iterations per epoch`);

  // ============ student, teacher, loss, optimiser, schedules (on the worker) ============
  const worker = new StepWorker();
  try {
    await worker.init(c, source.itersPerEpoch, 1, c.threads);

    // ============ resume ============
    let startEpoch = 0;
    let startStep = 0;
    const resumeFrom = c.load_from ?? ((await o.store.exists('checkpoint.pth')) ? 'checkpoint.pth' : null);
    if (resumeFrom) {
      // --load_from names a file in the output location, as in the reference, or any path;
      // such a file may come from elsewhere, without our checksum alongside it.
      const outside = c.load_from !== null && (path.isAbsolute(resumeFrom) || resumeFrom.includes('/'));
      const bytes = outside ? await readOutside(resumeFrom) : await o.store.get(resumeFrom, { verify: c.load_from ? 'if-present' : 'required' });
      const info = await worker.restore(bytes, outside ? resumeFrom : o.store.describe(resumeFrom));
      const pos = info.dataPosition as { epoch?: number; step?: number } | null;
      startEpoch = pos?.epoch ?? info.epoch;
      startStep = pos?.step ?? 0;
      o.write(`resumed from ${o.store.describe(resumeFrom)}: epoch ${startEpoch + 1}, iteration ${startStep + 1}`);
    }
    await o.store.put('config.json', Buffer.from(JSON.stringify(c, null, 2) + '\n'));

    // ============ training loop ============
    const progress = new Progress({ epochs: c.epochs, itersPerEpoch: source.itersPerEpoch, batchSize: c.batch_size_per_gpu, every: 10, write: o.write });
    let it = startEpoch * source.itersPerEpoch + startStep;
    progress.begin(it);
    const limit = c.steps ?? Infinity;
    const t0 = Date.now();
    let done = 0;
    let last: StepMetrics | null = null;
    const result = (epochsDone: number, stoppedEarly: boolean): RunResult => ({
      epochsDone,
      iterations: done,
      stoppedEarly,
      imagesPerSecond: (done * c.batch_size_per_gpu) / Math.max(1e-9, (Date.now() - t0) / 1000),
      last,
    });
    const save = async (info: ResumeInfo, numbered: string | null) => {
      const bytes = await worker.save(info);
      await o.store.put('checkpoint.pth', bytes);
      if (numbered) await o.store.put(numbered, bytes);
    };
    for (let epoch = startEpoch; epoch < c.epochs; epoch++) {
      const metricsLines: string[] = [];
      for await (const batch of source.epoch(epoch, epoch === startEpoch ? startStep : 0)) {
        let m: StepMetrics;
        try {
          m = (await worker.step(batch.samples, it, epoch)).metrics;
        } catch (e) {
          if ((e as Error).name === NonFiniteLossError.name) {
            throw new TrainingError(`${(e as Error).message}`, 3);
          }
          throw e;
        }
        last = m;
        metricsLines.push(JSON.stringify(progress.step(epoch, it, m)));
        it++;
        done++;
        const stop = done >= limit || !!o.stopRequested?.();
        if (stop && batch.step + 1 < source.itersPerEpoch) {
          await o.store.append('metrics.jsonl', metricsLines.join('\n') + '\n');
          await save({ epoch, iteration: it, dataPosition: { epoch, step: batch.step + 1 }, args: args(c) }, null);
          o.write(`stopped at epoch ${epoch + 1}, iteration ${batch.step + 1}; checkpoint saved, run again to continue`);
          return result(epoch, true);
        }
      }
      await o.store.append('metrics.jsonl', metricsLines.join('\n') + '\n');
      await o.store.append('log.txt', JSON.stringify(progress.epochLog(epoch, last!)) + '\n');
      const numbered = c.saveckp_freq && epoch % c.saveckp_freq === 0 && epoch > 0 ? `checkpoint${String(epoch).padStart(4, '0')}.pth` : null;
      await save({ epoch: epoch + 1, iteration: it, dataPosition: { epoch: epoch + 1, step: 0 }, args: args(c) }, numbered);
      if (done >= limit || o.stopRequested?.()) {
        return result(epoch + 1, epoch + 1 < c.epochs);
      }
    }
    return result(c.epochs, false);
  } finally {
    await worker.close();
    await source.close();
  }
}
