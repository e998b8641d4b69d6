/**
 * Runs SereTrainer on a worker thread. Each call returns a promise; batches are transferred,
 * not copied. Errors raised in the worker (including a non-finite loss) reject with the
 * worker's message, error name and exit code.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { MultiCropSample } from '@sere/augment';
import type { ResumeInfo, StepMetrics, TrainerFlags } from '@sere/sere';
import { GroupFailure } from '../errors';
import { Request, Response, transferables, type GroupOptions, type ResumePosition } from './protocol';

type Pending = { resolve: (r: Response) => void; reject: (e: Error) => void };

export class StepWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor() {
    this.worker = new Worker(path.join(__dirname, 'bootstrap.js'));
    this.worker.on('message', (res: Response) => {
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      p.resolve(res);
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => this.failAll(new Error(`the training worker exited (code ${code})`)));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request(body: DistributiveOmit<Request, 'id'>, transfer: ArrayBuffer[] = []): Promise<Response> {
    const id = this.nextId++;
    return new Promise<Response>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ ...body, id }, transfer);
      } catch {
        // Buffers backed by external memory (e.g. from the image decoder) cannot move; copy instead.
        this.worker.postMessage({ ...body, id });
      }
    }).then((res) => {
      if (!res.ok) {
        const err = Object.assign(res.groupFailed ? new GroupFailure(res.error) : new Error(res.error), { exitCode: res.exitCode });
        err.name = res.name;
        throw err;
      }
      return res;
    });
  }

  /** Builds the trainer; with `group`, after joining the other ranks (which blocks the worker until all are there). */
  /**
   * Builds the trainer; with `group`, after joining the other ranks (which blocks the worker
   * until all are there). Resolves to the iterations per epoch the schedules use: the least
   * any rank can run.
   */
  async init(flags: TrainerFlags, itersPerEpoch: number, group: GroupOptions | null = null, threads: number | null = null): Promise<number> {
    const res = await this.request({ type: 'init', flags, itersPerEpoch, group, threads });
    return (res as { itersPerEpoch: number }).itersPerEpoch;
  }

  /**
   * One iteration; the samples' buffers move to the worker (they are unusable here
   * afterwards). `stop`: this rank was asked to stop; the answer's `stop` says whether any
   * rank was, so all stop after the same step. `last`: no batch of the epoch follows here;
   * the answer's `last` says whether that holds on any rank.
   */
  async step(samples: MultiCropSample[], it: number, epoch: number, stop = false, last = false): Promise<StepAnswer> {
    return (await this.stepAgreed(samples, it, epoch, stop, last, false))!;
  }

  /**
   * step(), after the ranks agree that each has a batch (`samples` null: this rank has
   * none, its epoch ended early); null when one had none, and no rank trained.
   */
  async stepAgreed(samples: MultiCropSample[] | null, it: number, epoch: number, stop: boolean, last: boolean, agree = true): Promise<StepAnswer | null> {
    const res = await this.request({ type: 'step', samples, it, epoch, stop, last, agree }, samples ? transferables(samples) : []);
    if (!res.ok || res.skipped) return null;
    return { metrics: res.metrics!, stop: !!res.stop, last: !!res.last, liveTensors: res.liveTensors ?? -1, deviceMemory: res.deviceMemory ?? null };
  }

  /** Every rank's `text`, in rank order; a collective, so every rank calls it at the same point. */
  async gather(text: string): Promise<string[]> {
    const res = await this.request({ type: 'gather', text });
    return (res as { texts: string[] }).texts;
  }

  /** The full training state as .pth bytes (see training-state.ts). */
  async save(info: ResumeInfo): Promise<Buffer> {
    const res = await this.request({ type: 'save', info });
    const f = (res as { file: Uint8Array }).file;
    return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  }

  /**
   * Parses a checkpoint written by save() on the worker, once, and keeps it there for
   * restore(); the position it returns is known before init (a stream source needs it to
   * learn the epoch length that sizes the schedules). `source` names the file in errors.
   */
  async load(file: Buffer, source: string): Promise<ResumePosition> {
    const copy = new Uint8Array(file);
    const res = await this.request({ type: 'load', file: copy, source }, [copy.buffer]);
    return (res as { position: ResumePosition }).position;
  }

  /** Applies the checkpoint load() parsed to the networks init() built. */
  async restore(): Promise<ResumeInfo> {
    const res = await this.request({ type: 'restore' });
    return (res as { info: ResumeInfo }).info;
  }

  async liveTensors(): Promise<number> {
    const res = await this.request({ type: 'liveTensors' });
    return res.ok ? res.liveTensors! : -1;
  }

  async close(): Promise<void> {
    await this.request({ type: 'dispose' }).catch(() => undefined);
    await this.worker.terminate();
  }
}

export interface StepAnswer {
  metrics: StepMetrics;
  stop: boolean;
  last: boolean;
  liveTensors: number;
  deviceMemory: { allocated: number; reserved: number } | null;
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
