/** Runs evaluations on a worker thread, one at a time; each call resolves with the worker's answer. */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { EvalAnswer, EvalJob } from './protocol';

export type EvalRequest = Omit<EvalJob, 'id'>;

/** What evaluates a checkpoint: the worker here, a fake in unit tests. */
export interface Evaluator {
  evaluate(job: EvalRequest): Promise<EvalAnswer>;
  close(): Promise<void>;
}

export class EvalWorker implements Evaluator {
  private readonly worker = new Worker(path.join(__dirname, 'bootstrap.js'));
  private readonly pending = new Map<number, (a: EvalAnswer) => void>();
  private nextId = 1;

  constructor() {
    this.worker.on('message', (a: EvalAnswer) => {
      this.pending.get(a.id)?.(a);
      this.pending.delete(a.id);
    });
    const fail = (error: string) => {
      for (const [id, resolve] of this.pending) resolve({ id, ok: false, kind: 'eval', error });
      this.pending.clear();
    };
    this.worker.on('error', (e) => fail(`the evaluation worker failed: ${e.message}`));
    this.worker.on('exit', (code) => fail(`the evaluation worker exited (code ${code})`));
  }

  evaluate(job: EvalRequest): Promise<EvalAnswer> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ ...job, id }, [job.bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
