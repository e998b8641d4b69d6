/**
 * The service without its HTTP shell: list the run's store at an interval, evaluate each new
 * checkpoint once (newest first when it falls behind), store each result beside the run and
 * keep the summary eval/index.json, so a restarted service re-evaluates nothing.
 *
 * - What a checkpoint is: a numbered checkpointNNNN.pth, or checkpoint.pth when it holds
 *   bytes not evaluated yet (the trainer rewrites it every epoch; when its bytes equal a
 *   numbered copy's, that copy's result stands for it).
 * - Identity: the store's version of the file (the sha256 recorded at put, else its ETag),
 *   read without downloading; a file is evaluated again only when its bytes change.
 * - Failures: a checkpoint that cannot be read (truncated, damaged, of another architecture)
 *   is recorded in the index with its version and not retried until its bytes change; a
 *   store that cannot be reached is retried at the next listing, and /ready says so.
 */
import { checkpointEpoch, listCheckpoints, StoreError, type CheckpointStore } from '@sere/store';
import type { EvalReport } from '@sere/eval';
import type { EvalServiceConfig } from './config';
import type { Evaluator } from './eval-worker/eval-worker';
import type { EvalMetrics } from './metrics';
import { reportPage, type IterationLine } from './report/report-page';

export const INDEX = 'eval/index.json';
export const resultName = (checkpoint: string) => `eval/${checkpoint}.json`;

/** One evaluated checkpoint, as eval/index.json lists it. */
export interface EvalEntry {
  file: string;
  /** Epochs trained, as the checkpoint records them (null where it does not say). */
  epoch: number | null;
  version: string;
  result: string;
  knn: EvalReport['knn'];
  linear: { top1: number; top5: number } | null;
  seconds: number;
  evaluated_at: string;
}

export interface FailedEntry {
  file: string;
  version: string;
  kind: 'checkpoint' | 'eval';
  error: string;
  at: string;
}

export interface EvalIndex {
  run: string;
  store: string;
  evals: EvalEntry[];
  failed: FailedEntry[];
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface Readiness {
  ready: boolean;
  listedAt: string | null;
  lastError: string | null;
}

interface Candidate {
  file: string;
  version: string;
  /** From the name (numbered checkpoints); checkpoint.pth sorts first, as the newest. */
  order: number;
}

export class EvalService {
  private index: EvalIndex;
  private queue: Candidate[] = [];
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private stopped = false;
  private listedAt: Date | null = null;
  private lastError: string | null = null;
  private current: string | null = null;

  constructor(
    private readonly cfg: EvalServiceConfig,
    private readonly store: CheckpointStore,
    private readonly evaluator: Evaluator,
    readonly metrics: EvalMetrics,
    private readonly log: Logger,
  ) {
    this.index = { run: cfg.run, store: store.describe(''), evals: [], failed: [] };
  }

  /** Reads what earlier runs of the service stored, then lists the store now and every interval. */
  async start(): Promise<void> {
    await this.loadIndex();
    for (const e of this.index.evals) this.publish(e);
    this.log.info('watching', { run: this.cfg.run, store: this.index.store, evaluated: this.index.evals.length, failed: this.index.failed.length, interval_s: this.cfg.interval });
    void this.scan();
    this.timer = setInterval(() => void this.scan(), this.cfg.interval * 1000);
  }

  /** Lists the store and evaluates what is new; concurrent calls share one pass. */
  scan(): Promise<void> {
    return (this.scanning ??= this.pass().finally(() => (this.scanning = null)));
  }

  evals(): EvalIndex {
    return this.index;
  }

  ready(): Readiness {
    return { ready: this.listedAt !== null && this.lastError === null, listedAt: this.listedAt?.toISOString() ?? null, lastError: this.lastError };
  }

  summary() {
    return {
      run: this.cfg.run,
      store: this.index.store,
      evaluated: this.index.evals.length,
      failed: this.index.failed.length,
      queue: this.queue.length,
      evaluating: this.current,
      last_epoch: this.lastEpoch(),
    };
  }

  /** The newest epoch with a result; null before the first. */
  private lastEpoch(): number | null {
    const epochs = this.index.evals.flatMap((e) => (e.epoch === null ? [] : [e.epoch]));
    return epochs.length ? Math.max(...epochs) : null;
  }

  /** The run's report page: accuracy by epoch from the index, losses and entropy from metrics.jsonl, its config.json. */
  async report(): Promise<string> {
    const log = await this.store.readLog('metrics.jsonl');
    const iterations: IterationLine[] = [];
    for (const line of (log?.toString('utf8') ?? '').split('\n')) {
      try {
        const v = JSON.parse(line) as IterationLine;
        if (typeof v.it === 'number') iterations.push(v);
      } catch {
        // A line cut short by a run killed mid-write: the rest of the log still reads.
      }
    }
    let config: Record<string, unknown> | null = null;
    try {
      config = JSON.parse((await this.store.get('config.json', { verify: 'if-present' })).toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      if (!(e instanceof StoreError && e.kind === 'not-found') && !(e instanceof SyntaxError)) throw e;
    }
    return reportPage({ run: this.cfg.run, store: this.index.store, index: this.index, iterations, config });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.scanning;
    await this.evaluator.close();
  }

  private async pass(): Promise<void> {
    try {
      this.queue = await this.candidates();
      this.listedAt = new Date();
      this.lastError = null;
    } catch (e) {
      this.storeTrouble(e, 'listing');
      return;
    }
    this.metrics.queueLength.set(this.queue.length);
    while (this.queue.length > 0 && !this.stopped) {
      const next = this.queue.shift()!;
      this.metrics.queueLength.set(this.queue.length);
      await this.evaluate(next);
    }
  }

  /** Checkpoints whose current bytes have neither a result nor a recorded failure, newest first. */
  private async candidates(): Promise<Candidate[]> {
    const listing = await listCheckpoints(this.store);
    const files = [...(listing.resume ? [{ name: listing.resume, order: Number.POSITIVE_INFINITY }] : []), ...listing.numbered.map((c) => ({ name: c.name, order: c.epoch }))];
    const out: Candidate[] = [];
    for (const f of files) {
      const version = await this.store.version(f.name);
      if (version === null) continue;
      // Bytes evaluated under another name are not evaluated again (evaluate() records them under this one).
      const seen = [...this.index.evals, ...this.index.failed].some((x) => x.file === f.name && x.version === version);
      if (!seen) out.push({ file: f.name, version, order: f.order });
    }
    return out.sort((a, b) => b.order - a.order);
  }

  private async evaluate(c: Candidate): Promise<void> {
    const location = this.store.describe(c.file);
    // The same bytes under another name (checkpoint.pth and the numbered copy of its epoch): one evaluation.
    const same = this.index.evals.find((e) => e.version === c.version);
    if (same && (await this.copyResult(same, c))) return;
    let bytes: Buffer;
    try {
      bytes = await this.store.get(c.file);
    } catch (e) {
      if (e instanceof StoreError && e.kind === 'not-found') return; // removed since the listing
      if (e instanceof StoreError && e.kind === 'corrupt') return this.failed(c, 'checkpoint', e.message);
      return this.storeTrouble(e, `reading ${location}`);
    }
    this.current = c.file;
    const t0 = Date.now();
    this.log.info('evaluating', { checkpoint: location, version: c.version });
    const a = await this.evaluator.evaluate({
      bytes: new Uint8Array(bytes),
      source: location,
      arch: this.cfg.arch,
      patchSize: this.cfg.patchSize,
      checkpointKey: this.cfg.checkpointKey,
      dataPath: this.cfg.dataPath,
      valPath: this.cfg.valPath,
      size: this.cfg.size,
      ks: this.cfg.ks,
      linearEpochs: this.cfg.linearEpochs,
      device: this.cfg.device,
      seed: this.cfg.seed,
    });
    this.current = null;
    if (!a.ok) return this.failed(c, a.kind, a.error);
    const seconds = (Date.now() - t0) / 1000;
    this.metrics.duration.observe(seconds);
    // The layout of `sere eval --output`, with the epoch and the bytes' version beside it.
    const result = { checkpoint: location, checkpoint_key: this.cfg.checkpointKey, arch: this.cfg.arch, patch_size: this.cfg.patchSize, epoch: a.epoch, version: c.version, ...a.report };
    const entry: EvalEntry = {
      file: c.file,
      epoch: a.epoch,
      version: c.version,
      result: resultName(c.file),
      knn: a.report.knn,
      linear: a.report.linear ? { top1: a.report.linear.top1, top5: a.report.linear.top5 } : null,
      seconds,
      evaluated_at: new Date().toISOString(),
    };
    try {
      await this.keep(entry, result);
    } catch (e) {
      return this.storeTrouble(e, `writing ${this.store.describe(entry.result)}`);
    }
    this.metrics.evaluations.inc({ run: this.cfg.run });
    this.log.info('evaluated', { checkpoint: location, epoch: a.epoch, knn: a.report.knn, linear: entry.linear, seconds: Math.round(seconds * 10) / 10 });
  }

  /**
   * Gives `c` the result of the same bytes under another name, if that result file still
   * holds them (checkpoint.pth's is rewritten as it moves on); false: evaluate `c` itself.
   */
  private async copyResult(same: EvalEntry, c: Candidate): Promise<boolean> {
    try {
      const result = JSON.parse((await this.store.get(same.result)).toString('utf8')) as { version?: string };
      if (result.version !== c.version) return false;
      const entry: EvalEntry = { ...same, file: c.file, result: resultName(c.file), evaluated_at: new Date().toISOString() };
      await this.keep(entry, { ...result, checkpoint: this.store.describe(c.file) });
      this.log.info('evaluated', { checkpoint: this.store.describe(c.file), epoch: entry.epoch, same_bytes_as: this.store.describe(same.file) });
      return true;
    } catch (e) {
      if (e instanceof StoreError && (e.kind === 'not-found' || e.kind === 'corrupt')) return false;
      this.storeTrouble(e, `copying ${this.store.describe(same.result)}`);
      return true;
    }
  }

  /** Stores `entry`'s result file, then the index with the entry in it and any earlier failure of its file gone; publishes its figures. */
  private async keep(entry: EvalEntry, result: object): Promise<void> {
    await this.store.put(entry.result, Buffer.from(JSON.stringify(result, null, 2) + '\n'));
    this.record(entry);
    this.index.failed = this.index.failed.filter((x) => x.file !== entry.file);
    await this.saveIndex();
    this.publish(entry);
  }

  /**
   * A numbered checkpoint has one result; checkpoint.pth is rewritten every epoch under one
   * name, so its earlier epochs stay in the index (the result file holds the newest).
   */
  private record(entry: EvalEntry): void {
    const rewritten = checkpointEpoch(entry.file) === null;
    const keep = (e: EvalEntry) => (rewritten ? !(e.file === entry.file && e.epoch === entry.epoch) : e.file !== entry.file);
    this.index.evals = [...this.index.evals.filter(keep), entry].sort(byEpoch);
  }

  private publish(e: EvalEntry): void {
    if (e.epoch === null) return;
    const labels = { run: this.cfg.run, epoch: String(e.epoch) };
    for (const [k, r] of Object.entries(e.knn)) this.metrics.knnTop1.set({ ...labels, k }, r.top1);
    if (e.linear) this.metrics.linearTop1.set(labels, e.linear.top1);
    this.metrics.lastEpoch.set({ run: this.cfg.run }, this.lastEpoch() ?? e.epoch);
  }

  private async failed(c: Candidate, kind: 'checkpoint' | 'eval', error: string): Promise<void> {
    this.metrics.failures.inc({ kind });
    this.log.warn('checkpoint skipped', { checkpoint: this.store.describe(c.file), kind, error });
    this.index.failed = [...this.index.failed.filter((x) => x.file !== c.file), { file: c.file, version: c.version, kind, error, at: new Date().toISOString() }];
    try {
      await this.saveIndex();
    } catch (e) {
      this.storeTrouble(e, `writing ${this.store.describe(INDEX)}`);
    }
  }

  private storeTrouble(e: unknown, doing: string): void {
    this.metrics.failures.inc({ kind: 'store' });
    this.lastError = `${doing}: ${(e as Error).message}`;
    this.log.warn('store unavailable; retrying at the next listing', { error: this.lastError });
  }

  private async saveIndex(): Promise<void> {
    await this.store.put(INDEX, Buffer.from(JSON.stringify(this.index, null, 2) + '\n'));
  }

  private async loadIndex(): Promise<void> {
    let text: string;
    try {
      text = (await this.store.get(INDEX)).toString('utf8');
    } catch (e) {
      if (e instanceof StoreError && e.kind === 'not-found') return;
      if (e instanceof StoreError && e.kind === 'corrupt') {
        this.log.warn('eval/index.json is damaged; starting a new one (checkpoints are evaluated again)', { error: e.message });
        return;
      }
      throw e;
    }
    const saved = JSON.parse(text) as EvalIndex;
    if (!Array.isArray(saved.evals) || !Array.isArray(saved.failed)) {
      this.log.warn('eval/index.json is not an index this version wrote; starting a new one', {});
      return;
    }
    this.index = { ...this.index, evals: saved.evals, failed: saved.failed };
  }
}

function byEpoch(a: EvalEntry, b: EvalEntry): number {
  return (a.epoch ?? -1) - (b.epoch ?? -1) || a.file.localeCompare(b.file);
}
