/**
 * Per-iteration and per-epoch schedules of a SERE run (spec §3.3, §6): learning rate,
 * weight decay, teacher EMA momentum, and the teacher's CLS and patch temperatures.
 *
 * Everything is float64 and follows NumPy's arithmetic step by step (linspace with both
 * endpoints, the cosine expression evaluated in the same order), so values match the
 * reference to the last bit or two; the fixtures are checked at relative 1e-12.
 */

/**
 * NumPy's `linspace(start, stop, num)` with endpoint: start + i·step, the last entry set
 * to `stop` exactly. One point gives [start]; a zero step falls back to (i/div)·delta,
 * as NumPy does.
 */
export function linspace(start: number, stop: number, num: number): Float64Array {
  checkCount('linspace num', num);
  const out = new Float64Array(num);
  const div = num - 1;
  const delta = stop - start;
  if (div > 0) {
    const step = delta / div;
    for (let i = 0; i < num; i++) out[i] = (step === 0 ? (i / div) * delta : i * step) + start;
    out[num - 1] = stop;
  } else if (num === 1) {
    out[0] = 0 * delta + start;
  }
  return out;
}

/**
 * Cosine schedule over epochs × itersPerEpoch iterations: a linear warm-up from
 * `startWarmupValue` to `base` (both ends included) over warmupEpochs × itersPerEpoch
 * iterations, then final + ½(base − final)(1 + cos(π·i/n)) for i = 0..n−1. The last value
 * approaches `final` without reaching it, exactly like the reference.
 */
export function cosineSchedule(
  base: number,
  final: number,
  epochs: number,
  itersPerEpoch: number,
  warmupEpochs = 0,
  startWarmupValue = 0,
): Float64Array {
  checkCount('epochs', epochs);
  checkCount('itersPerEpoch', itersPerEpoch);
  checkCount('warmupEpochs', warmupEpochs);
  if (warmupEpochs > epochs) {
    throw new RangeError(`cosineSchedule: warmupEpochs (${warmupEpochs}) exceeds epochs (${epochs})`);
  }
  const total = epochs * itersPerEpoch;
  const warmup = warmupEpochs * itersPerEpoch;
  const out = new Float64Array(total);
  if (warmup > 0) out.set(linspace(startWarmupValue, base, warmup));
  const n = total - warmup;
  const half = 0.5 * (base - final);
  for (let i = 0; i < n; i++) out[warmup + i] = final + half * (1 + Math.cos((Math.PI * i) / n));
  return out;
}

/**
 * Per-epoch teacher temperature: `startEpoch` epochs held at `warmupTemp` (the patch
 * temperature waits for masking to start, `pred_start_epoch`), then a linear ramp of
 * `warmupEpochs` values from warmupTemp to temp (both ends included, so the last ramp
 * epoch already uses temp), then temp until `epochs`.
 */
export function teacherTempSchedule(
  warmupTemp: number,
  temp: number,
  warmupEpochs: number,
  epochs: number,
  startEpoch = 0,
): Float64Array {
  checkCount('warmupEpochs', warmupEpochs);
  checkCount('epochs', epochs);
  checkCount('startEpoch', startEpoch);
  if (startEpoch + warmupEpochs > epochs) {
    throw new RangeError(
      `teacherTempSchedule: startEpoch (${startEpoch}) + warmupEpochs (${warmupEpochs}) exceeds epochs (${epochs})`,
    );
  }
  const out = new Float64Array(epochs);
  out.fill(warmupTemp, 0, startEpoch);
  out.set(linspace(warmupTemp, temp, warmupEpochs), startEpoch);
  out.fill(temp, startEpoch + warmupEpochs);
  return out;
}

/** Peak learning rate: `lr` is per 256 images of total batch (per-GPU batch × accumulation × GPUs). */
export function scaledLr(lr: number, batchSizePerGpu: number, accumIter: number, worldSize: number): number {
  return (lr * (batchSizePerGpu * accumIter * worldSize)) / 256;
}

/** The training flags the schedules read (names as on the command line; a SereConfig fits). */
export interface ScheduleFlags {
  lr: number;
  min_lr: number;
  warmup_epochs: number;
  epochs: number;
  batch_size_per_gpu: number;
  accum_iter: number;
  weight_decay: number;
  weight_decay_end: number;
  momentum_teacher: number;
  /** Where the momentum's cosine ends (ours; the reference's 1 when absent). */
  momentum_teacher_end?: number;
  warmup_teacher_temp: number;
  teacher_temp: number;
  warmup_teacher_patch_temp: number;
  teacher_patch_temp: number;
  warmup_teacher_temp_epochs: number;
  pred_start_epoch: number;
}

export interface Schedules {
  itersPerEpoch: number;
  /** Peak lr after scaling by the total batch. */
  peakLr: number;
  /** Indexed by global iteration epoch·itersPerEpoch + i. */
  lr: Float64Array;
  weightDecay: Float64Array;
  teacherMomentum: Float64Array;
  /** Indexed by epoch. */
  teacherTemp: Float64Array;
  teacherPatchTemp: Float64Array;
}

/** All schedules of a run, as the reference builds them before its first iteration. */
export function buildSchedules(flags: ScheduleFlags, itersPerEpoch: number, worldSize: number): Schedules {
  const peakLr = scaledLr(flags.lr, flags.batch_size_per_gpu, flags.accum_iter, worldSize);
  return {
    itersPerEpoch,
    peakLr,
    lr: cosineSchedule(peakLr, flags.min_lr, flags.epochs, itersPerEpoch, flags.warmup_epochs),
    weightDecay: cosineSchedule(flags.weight_decay, flags.weight_decay_end, flags.epochs, itersPerEpoch),
    teacherMomentum: cosineSchedule(flags.momentum_teacher, flags.momentum_teacher_end ?? 1, flags.epochs, itersPerEpoch),
    teacherTemp: teacherTempSchedule(
      flags.warmup_teacher_temp,
      flags.teacher_temp,
      flags.warmup_teacher_temp_epochs,
      flags.epochs,
    ),
    teacherPatchTemp: teacherTempSchedule(
      flags.warmup_teacher_patch_temp,
      flags.teacher_patch_temp,
      flags.warmup_teacher_temp_epochs,
      flags.epochs,
      flags.pred_start_epoch,
    ),
  };
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}
