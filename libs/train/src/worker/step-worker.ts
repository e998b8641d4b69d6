/**
 * Runs SereTrainer on a worker thread. Each call returns a promise; batches are transferred,
 * not copied. Errors raised in the worker (including a non-finite loss) reject with the
 * worker's message, error name and exit code.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { MultiCropSample } from '@sere/augment';
import type { ResumeInfo, StepMetrics, TrainerFlags } from '@sere/sere';
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
        const err = Object.assign(new Error(res.error), { exitCode: res.exitCode });
        err.name = res.name;
        throw err;
      }
      return res;
    });
  }

  /** Builds the trainer; with `group`, after joining the other ranks (which blocks the worker until all are there). */
  async init(flags: TrainerFlags, itersPerEpoch: number, group: GroupOptions | null = null, threads: number | null = null): Promise<void> {
    await this.request({ type: 'init', flags, itersPerEpoch, group, threads });
  }

  /**
   * One iteration; the samples' buffers move to the worker (they are unusable here
   * afterwards). `stop`: this rank was asked to stop; the answer's `stop` says whether any
   * rank was, so all stop after the same step.
   */
  async step(samples: MultiCropSample[], it: number, epoch: number, stop = false): Promise<{ metrics: StepMetrics; stop: boolean; liveTensors: number }> {
    const res = await this.request({ type: 'step', samples, it, epoch, stop }, transferables(samples));
    return { metrics: (res as { metrics: StepMetrics }).metrics, stop: !!(res as { stop?: boolean }).stop, liveTensors: res.ok ? res.liveTensors! : -1 };
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

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
