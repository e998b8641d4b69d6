/**
 * What a run tells the person watching it: one progress line per `every` iterations
 * (epoch, iteration, loss terms, the teacher's entropies that show a collapse coming,
 * schedules, images/s, ETA), a JSON line per iteration in
 * metrics.jsonl, and a JSON line per epoch in log.txt with the reference's fields.
 */
import type { StepMetrics } from '@sere/sere';

export interface ProgressOptions {
  epochs: number;
  itersPerEpoch: number;
  /** Images per iteration on one rank. */
  batchSize: number;
  /** Ranks training together: the line shows the global images/s. */
  worldSize?: number;
  every: number;
  write: (line: string) => void;
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

export class Progress {
  private started = Date.now();
  private startIt = 0;
  private sums = new Map<string, number>();
  private count = 0;

  constructor(readonly o: ProgressOptions) {}

  /**
   * Resets the clock (after resuming at `it`, so images/s and ETA count only this run) and
   * counts the lines this epoch logged before the resume into its averages.
   */
  begin(it: number, epochSoFar: Record<string, number>[] = []): void {
    this.started = Date.now();
    this.startIt = it;
    for (const line of epochSoFar) this.add(line);
  }

  private add(record: Record<string, number>): void {
    for (const k of ['loss', 'cls', 'patch', 'pixel', 'channel'] as const) this.sums.set(k, (this.sums.get(k) ?? 0) + record[k]);
    this.count++;
  }

  step(epoch: number, it: number, m: StepMetrics): Record<string, number> {
    const record = {
      epoch, it, loss: m.loss, ibot: m.ibot, cls: m.ibotCls, patch: m.ibotPatch, pixel: m.pixel, channel: m.channel,
      teacher_entropy: m.teacherEntropy, teacher_batch_entropy: m.teacherBatchEntropy, lr: m.lr, wd: m.wd, momentum: m.momentum,
    };
    this.add(record);
    const done = it + 1 - this.startIt;
    const elapsed = (Date.now() - this.started) / 1000;
    const perIt = elapsed / done;
    const total = this.o.epochs * this.o.itersPerEpoch;
    const i = it % this.o.itersPerEpoch;
    if (done === 1 || (it + 1) % this.o.every === 0 || i === this.o.itersPerEpoch - 1) {
      this.o.write(
        `epoch ${epoch + 1}/${this.o.epochs} it ${i + 1}/${this.o.itersPerEpoch}  loss ${m.loss.toFixed(4)} ` +
          `(cls ${m.ibotCls.toFixed(3)} patch ${m.ibotPatch.toFixed(3)} pixel ${m.pixel.toFixed(3)} channel ${m.channel.toFixed(3)})  ` +
          `H(teacher) ${m.teacherEntropy.toFixed(2)} of batch ${m.teacherBatchEntropy.toFixed(2)}  ` +
          `lr ${m.lr.toExponential(2)} wd ${m.wd.toFixed(3)} m ${m.momentum.toFixed(4)}  ` +
          `${this.rate(perIt)}  ETA ${fmtDuration(perIt * (total - it - 1))}`,
      );
    }
    return record;
  }

  private rate(perIt: number): string {
    const w = this.o.worldSize ?? 1;
    const global = `${((this.o.batchSize * w) / perIt).toFixed(1)} img/s`;
    return w > 1 ? `${global} (${w} ranks)` : global;
  }

  /** Epoch averages in the reference's log.txt fields. */
  epochLog(epoch: number, last: StepMetrics): Record<string, number> {
    const avg = (k: string) => (this.sums.get(k) ?? 0) / Math.max(1, this.count);
    const out = {
      train_loss: avg('loss'),
      train_cls: avg('cls'),
      train_patch: avg('patch'),
      train_sere_pixel: avg('pixel'),
      train_sere_channel: avg('channel'),
      train_lr: last.lr,
      train_wd: last.wd,
      epoch,
    };
    this.sums.clear();
    this.count = 0;
    return out;
  }
}
