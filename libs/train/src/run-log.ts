/**
 * The run's two logs, kept consistent with its checkpoint: metrics.jsonl (one JSON line
 * per iteration) and log.txt (one per finished epoch, the reference's fields).
 *
 * Lines are written before the checkpoint that covers them, so a run killed in between
 * leaves lines the resumed run will produce again. On resume every line at or past the
 * checkpoint's position is dropped, which makes a killed-and-resumed run's logs equal to
 * those of a run that was never stopped.
 */
import { EXIT } from '@sere/config';
import { TrainingError } from './errors';
import type { RunStore } from './run-store';

export const METRICS = 'metrics.jsonl';
export const EPOCH_LOG = 'log.txt';

/** Per-iteration metrics are flushed at most this often mid-epoch (on S3 each flush rewrites the log's last segment, up to 256 KiB). */
const FLUSH_EVERY_MS = 30_000;

type Line = Record<string, number>;

/** The lines of a log, each with the byte offset just past it (where a cut after it goes). */
function parseLines(text: string, file: string): { line: Line; end: number }[] {
  const raw = text.split('\n');
  const out: { line: Line; end: number }[] = [];
  let end = 0;
  for (const [i, l] of raw.entries()) {
    end += Buffer.byteLength(l) + 1;
    if (!l.trim()) continue;
    try {
      out.push({ line: JSON.parse(l) as Line, end });
    } catch {
      // Only the last line can be cut short (a kill mid-append); it is written again.
      if (raw.slice(i + 1).some((r) => r.trim())) throw new TrainingError(`${file}: line ${i + 1} is not JSON; fix or remove the file to continue`, EXIT.refused);
    }
  }
  return out;
}

export class RunLog {
  private pending: string[] = [];
  private lastFlush = Date.now();

  private constructor(
    private readonly store: RunStore,
    /** This epoch's lines written before a resume, so the epoch average covers the whole epoch. */
    readonly resumedEpochLines: Line[],
  ) {}

  /**
   * Opens the logs of a run that continues at iteration `it` of epoch `epoch` (0, 0 for a
   * new run), dropping lines that belong to work the checkpoint does not hold.
   */
  static async open(store: RunStore, at: { it: number; epoch: number }): Promise<RunLog> {
    const metrics = await RunLog.trim(store, METRICS, (l) => l.it < at.it);
    await RunLog.trim(store, EPOCH_LOG, (l) => l.epoch < at.epoch);
    return new RunLog(store, metrics.filter((l) => l.epoch === at.epoch));
  }

  private static async trim(store: RunStore, name: string, keep: (l: Line) => boolean): Promise<Line[]> {
    const bytes = await store.readLog(name);
    if (!bytes) return [];
    const lines = parseLines(bytes.toString('utf8'), store.describe(name));
    // Lines come in the order of the run, so what the checkpoint covers is a prefix: cut
    // the log after it, which on S3 rewrites one segment rather than the whole log.
    const past = lines.findIndex((l) => !keep(l.line));
    const kept = past < 0 ? lines : lines.slice(0, past);
    const end = kept.at(-1)?.end ?? 0;
    if (end < bytes.length) await store.truncateLog(name, end);
    else if (end > bytes.length) await store.append(name, '\n'); // a whole last line without its newline
    return kept.map((l) => l.line);
  }

  /** Queues one iteration's metrics; written in batches (see FLUSH_EVERY_MS). */
  async iteration(line: Line): Promise<void> {
    this.pending.push(JSON.stringify(line));
    if (Date.now() - this.lastFlush >= FLUSH_EVERY_MS) await this.flush();
  }

  async flush(): Promise<void> {
    this.lastFlush = Date.now();
    if (!this.pending.length) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    await this.store.append(METRICS, text);
  }

  async epoch(line: Line): Promise<void> {
    await this.flush();
    await this.store.append(EPOCH_LOG, JSON.stringify(line) + '\n');
  }
}
