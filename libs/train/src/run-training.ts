/**
 * A training run, in the order of the reference's training script: data, student and
 * teacher, loss, optimiser and schedules, resume, then the loop with logging and
 * checkpoints. The networks live on a worker thread (StepWorker); this thread feeds data,
 * prints progress and writes checkpoints.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXIT, type DataSource, type SereConfig } from '@sere/config';
import { NonFiniteLossError, type ResumeInfo, type StepMetrics } from '@sere/sere';
import { checkpointName, RESUME_CHECKPOINT } from '@sere/store';
import type { PthValue } from '@sere/torch';
import type { BatchSource, SourceFactory, StartPosition } from './batch-source';
import { GroupFailure, TrainingError } from './errors';
import { Progress } from './progress';
import { RunLog } from './run-log';
import { rendezvousFrom, type Rendezvous } from './rendezvous';
import { sourceOf } from './sources';
import type { ResumePosition } from './worker/protocol';
import { StepWorker, type StepAnswer } from './worker/step-worker';
import type { RunTelemetry } from './telemetry';
import type { RunStore } from './run-store';

export interface RunOptions {
  config: SereConfig;
  /** Where checkpoints, config.json, log.txt and metrics.jsonl go. */
  store: RunStore;
  /** Where the images are, as the caller resolved it; without it, --data / --data_path (a folder or kafka://). */
  data?: DataSource;
  /** Overrides it: where batches come from (tests use a stream on an in-memory broker). */
  source?: SourceFactory;
  write: (line: string) => void;
  /** Set by a signal handler: finish the current step, save, and return. */
  stopRequested?: () => boolean;
  /** Where this process stands among several (default: from the environment, rendezvous.ts). */
  rendezvous?: Rendezvous | null;
  /** Where each iteration and checkpoint is reported (the --metrics_port endpoint). */
  telemetry?: RunTelemetry | null;
}

export interface RunResult {
  epochsDone: number;
  iterations: number;
  stoppedEarly: boolean;
  imagesPerSecond: number;
  last: StepMetrics | null;
}

export { TrainingError };

function args(c: SereConfig): Record<string, PthValue> {
  const out: Record<string, PthValue> = {};
  for (const [k, v] of Object.entries(c)) out[k] = Array.isArray(v) ? [...v] : (v as PthValue);
  return out;
}

async function readOutside(file: string): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (e) {
    throw new TrainingError(`--load_from ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, EXIT.refused);
  }
}

/** A --load_from name inside the output location: a missing one is a bad flag, not a store fault. */
async function readInside(store: RunStore, name: string): Promise<Buffer> {
  try {
    return await store.get(name, { verify: 'if-present' });
  } catch (e) {
    if ((e as { kind?: unknown }).kind !== 'not-found') throw e;
    throw new TrainingError(`--load_from ${name}: no such checkpoint (looked for ${store.describe(name)}; give a file name inside --output_dir or --store, or a path)`, EXIT.refused);
  }
}

/**
 * A collective that failed (a rank died or never came, the rendezvous broke): the run cannot
 * go on here, but a restart of the group from the last checkpoint can.
 */
function lostRank(e: unknown): unknown {
  if (e instanceof GroupFailure) return new TrainingError(`${e.message} — the run stopped; its last checkpoint is intact`, EXIT.unavailable);
  return e;
}

/**
 * Where a checkpoint continues for `rank`: its data position, or the start of the epoch it
 * records. A run of several ranks on a stream saves every rank's position (`by_rank`).
 */
function continuesAt(saved: Pick<ResumePosition, 'epoch' | 'dataPosition'>, rank: number): StartPosition {
  const pos = saved.dataPosition as { epoch?: number; step?: number; source?: PthValue } | null;
  const source = pos?.source as { by_rank?: PthValue[] } | null | undefined;
  const mine = source && Array.isArray(source.by_rank) ? (source.by_rank[rank] ?? null) : (source ?? null);
  return { epoch: pos?.epoch ?? saved.epoch, step: pos?.step ?? 0, source: mine as PthValue };
}

interface Checkpoint {
  bytes: Buffer;
  /** How errors about its contents name it. */
  name: string;
  /** How the "resumed from" line names it. */
  where: string;
}

/** The checkpoint a run continues from, read from the store, or null for a fresh run. */
async function readCheckpoint(o: RunOptions): Promise<Checkpoint | null> {
  const c = o.config;
  const resumeFrom = c.load_from ?? ((await o.store.exists(RESUME_CHECKPOINT)) ? RESUME_CHECKPOINT : null);
  if (!resumeFrom) return null;
  // --load_from names a file in the output location, as in the reference, or any path;
  // such a file may come from elsewhere, without our checksum alongside it.
  const outside = c.load_from !== null && (path.isAbsolute(resumeFrom) || resumeFrom.includes('/'));
  const bytes = outside ? await readOutside(resumeFrom) : c.load_from ? await readInside(o.store, resumeFrom) : await o.store.get(resumeFrom, { verify: 'required', uncheckedHint: `if you trust it, resume from it unchecked with --load_from ${resumeFrom}` });
  return { bytes, name: outside ? resumeFrom : o.store.describe(resumeFrom), where: o.store.describe(resumeFrom) };
}

export async function runTraining(run: RunOptions): Promise<RunResult> {
  const dist = run.rendezvous !== undefined ? run.rendezvous : rendezvousFrom(process.env, os.hostname(), run.config.dist_url);
  if (!dist) return runRanks(run, null);
  // Rank 0 writes checkpoints and logs and prints progress; the other ranks train, read the
  // checkpoint they resume from, and print only errors.
  const lead = dist.rank === 0;
  const quiet = async () => undefined;
  const store: RunStore = lead ? run.store : Object.assign(Object.create(run.store) as RunStore, { put: quiet, append: quiet, truncateLog: quiet });
  return runRanks({ ...run, store, write: lead ? run.write : () => undefined }, dist);
}

async function runRanks(o: RunOptions, dist: Rendezvous | null): Promise<RunResult> {
  const c = o.config;
  const worldSize = dist?.worldSize ?? 1;
  const rank = dist?.rank ?? 0;

  // The worker comes first: it parses the checkpoint to resume from, and a stream source
  // needs the position saved in it before the networks can be built.
  const worker = new StepWorker();
  let opened: BatchSource | null = null;
  try {
    // The checkpoint is read and parsed once, when first needed: by the source, or to resume.
    let resume: Promise<{ ck: Checkpoint; saved: ResumePosition } | null> | null = null;
    const resumeFrom = () =>
      (resume ??= readCheckpoint(o).then(async (ck) => (ck ? { ck, saved: await worker.load(ck.bytes, ck.name) } : null)));

    // ============ data ============
    const startAt = async (): Promise<StartPosition> => {
      const r = await resumeFrom();
      if (r && r.saved.worldSize !== worldSize) {
        // Batches, shards and the lr scale all follow the world size: the run would not continue as it began.
        throw new TrainingError(`${r.ck.name} was written by a run of world size ${r.saved.worldSize}; this run has world size ${worldSize} (start it with ${r.saved.worldSize} ranks, or start a new run in another output folder)`, EXIT.refused);
      }
      return r ? continuesAt(r.saved, rank) : { epoch: 0, step: 0, source: null };
    };
    // A folder source asks only at its first epoch; the world size is checked before the group forms.
    await startAt();
    const source = (opened = await sourceOf(o.config, { data: o.data, source: o.source, write: o.write, rank, worldSize })(startAt));

    // ============ student, teacher, loss, optimiser, schedules (on the worker) ============
    const group = dist ? { rank, worldSize, masterAddr: dist.masterAddr, masterPort: dist.masterPort, timeoutSeconds: c.dist_timeout } : null;
    const itersPerEpoch = await worker.init(c, source.itersPerEpoch, group, c.threads).catch((e) => {
      throw lostRank(e);
    });
    if (itersPerEpoch !== source.itersPerEpoch) {
      if (!source.runFor) throw new Error(`the ranks agreed on ${itersPerEpoch} iterations per epoch, and this rank's source holds ${source.itersPerEpoch} and cannot run fewer`);
      source.runFor(itersPerEpoch);
    }
    // Every rank must have a batch before any trains: a stream's epoch may end early on one.
    const agreeOnBatches = worldSize > 1 && source.mayEndEarly === true;

    // ============ resume ============
    let startEpoch = 0;
    let startStep = 0;
    const r = await resumeFrom();
    if (r) {
      ({ epoch: startEpoch, step: startStep } = continuesAt(await worker.restore(), rank));
      o.write(`resumed from ${r.ck.where}: epoch ${startEpoch + 1}, iteration ${startStep + 1}`);
    }
    await o.store.put('config.json', Buffer.from(JSON.stringify(c, null, 2) + '\n'));

    // ============ training loop ============
    const progress = new Progress({ epochs: c.epochs, itersPerEpoch, batchSize: c.batch_size_per_gpu, worldSize, every: 10, write: o.write });
    let it = startEpoch * itersPerEpoch + startStep;
    const log = await RunLog.open(o.store, { it, epoch: startEpoch });
    progress.begin(it, log.resumedEpochLines);
    const limit = c.steps ?? Infinity;
    const t0 = Date.now();
    let done = 0;
    let last: StepMetrics | null = null;
    const result = (epochsDone: number, stoppedEarly: boolean): RunResult => ({
      epochsDone,
      iterations: done,
      stoppedEarly,
      imagesPerSecond: (done * c.batch_size_per_gpu * worldSize) / Math.max(1e-9, (Date.now() - t0) / 1000),
      last,
    });
    // (epoch, step) place a folder's batches; a stream adds where its consumer stands, every
    // rank's (a collective: every rank saves at the same points).
    const dataPosition = async (epoch: number, step: number): Promise<PthValue> => {
      const at = source.position();
      if (at === null) return { epoch, step };
      if (worldSize === 1) return { epoch, step, source: at };
      const all = await worker.gather(JSON.stringify(at)).catch((e) => {
        throw lostRank(e);
      });
      return { epoch, step, source: { by_rank: all.map((t) => JSON.parse(t) as PthValue) } };
    };
    const save = async (info: Omit<ResumeInfo, 'dataPosition'>, at: { epoch: number; step: number }, numbered: string | null) => {
      const started = Date.now();
      const bytes = await worker.save({ ...info, dataPosition: await dataPosition(at.epoch, at.step) } as ResumeInfo);
      // The numbered copy first: once checkpoint.pth moves on, the epoch is not run again,
      // so a kill between the two writes must not be able to skip the numbered one.
      if (numbered) await o.store.put(numbered, bytes);
      await o.store.put(RESUME_CHECKPOINT, bytes);
      o.telemetry?.checkpoint((Date.now() - started) / 1000);
    };
    let stopAll = false;
    for (let epoch = startEpoch; epoch < c.epochs; epoch++) {
      const batches = source.epoch(epoch, epoch === startEpoch ? startStep : 0);
      let step = epoch === startEpoch ? startStep : 0;
      for (;;) {
        const waitStart = performance.now();
        const next = await batches.next();
        const stepStart = performance.now();
        const batch = next.done ? null : next.value;
        if (!batch && !agreeOnBatches) break;
        // A stream's epoch may end early (images the data service left out); the schedules
        // then skip the missing iterations rather than shift the next epoch.
        if (batch) step = batch.step;
        it = epoch * itersPerEpoch + step;
        let answer: StepAnswer | null;
        try {
          const stopAsked = !!o.stopRequested?.();
          answer = agreeOnBatches ? await worker.stepAgreed(batch?.samples ?? null, it, epoch, stopAsked, batch?.last ?? true) : await worker.step(batch!.samples, it, epoch, stopAsked, batch!.last);
        } catch (e) {
          if ((e as Error).name === NonFiniteLossError.name) {
            throw new TrainingError(`${(e as Error).message}`, EXIT.diverged);
          }
          throw lostRank(e);
        }
        if (!answer) {
          // Some rank's epoch ended here: all end it; what is left of it here is passed over.
          await batches.return(undefined);
          break;
        }
        const m = answer.metrics;
        stopAll = answer.stop;
        last = m;
        const seconds = { wait: (stepStart - waitStart) / 1000, step: (performance.now() - stepStart) / 1000 };
        o.telemetry?.step({ epoch, iteration: it, metrics: m, images: c.batch_size_per_gpu, waitSeconds: seconds.wait, stepSeconds: seconds.step, liveTensors: answer.liveTensors, deviceMemory: answer.deviceMemory });
        // Global images/s of this iteration (its wait for data included), for the report's plot.
        const imagesPerSecond = (c.batch_size_per_gpu * worldSize) / Math.max(1e-9, seconds.wait + seconds.step);
        await log.iteration({ ...progress.step(epoch, it, m), images_per_second: Math.round(imagesPerSecond * 100) / 100 });
        it++;
        done++;
        const stop = done >= limit || stopAll;
        if (stop && !answer.last) {
          await log.flush();
          await save({ epoch, iteration: it, args: args(c) }, { epoch, step: step + 1 }, null);
          o.write(`stopped at epoch ${epoch + 1}, iteration ${step + 1}; checkpoint saved, run again to continue`);
          return result(epoch, true);
        }
        if (stop) {
          await batches.return(undefined);
          break;
        }
      }
      await log.epoch(progress.epochLog(epoch, last!));
      it = (epoch + 1) * itersPerEpoch;
      const numbered = c.saveckp_freq && epoch % c.saveckp_freq === 0 && epoch > 0 ? checkpointName(epoch) : null;
      await save({ epoch: epoch + 1, iteration: it, args: args(c) }, { epoch: epoch + 1, step: 0 }, numbered);
      if (done >= limit || stopAll) {
        return result(epoch + 1, epoch + 1 < c.epochs);
      }
    }
    return result(c.epochs, false);
  } finally {
    await worker.close();
    await opened?.close();
  }
}
