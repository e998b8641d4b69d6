import * as fs from 'fs';
import * as path from 'path';
import { buildSchedules, cosineSchedule, linspace, scaledLr, teacherTempSchedule } from './schedules';

// The reference fixtures kept in the repository; SERE_FIXTURES_DIR points at another set (e.g. an acceptance set).
const fixturesDir = process.env.SERE_FIXTURES_DIR ?? path.resolve(__dirname, '../../../../test/fixtures/reference');

interface Tensor1d {
  dtype: string;
  shape: number[];
  data: number[];
}
interface RecipeFixture {
  name: string;
  params: Record<string, number>;
  iterations: number[];
  lr: Tensor1d;
  wd: Tensor1d;
  momentum: Tensor1d;
  teacher_temp_per_epoch: Tensor1d;
  teacher_patch_temp_per_epoch: Tensor1d;
}
interface SmallExact {
  base_value: number;
  final_value: number;
  epochs: number;
  niter_per_ep: number;
  warmup_epochs: number;
  start_warmup_value: number;
  values: Tensor1d;
}
interface TemperatureSmall {
  warmup_teacher_temp: number;
  teacher_temp: number;
  warmup_teacher_patch_temp: number;
  teacher_patch_temp: number;
  warmup_teacher_temp_epochs: number;
  nepochs: number;
  mim_start_epoch: number;
  teacher_temp_per_epoch: Tensor1d;
  teacher_patch_temp_per_epoch: Tensor1d;
}
interface SchedulesFixture {
  recipes: RecipeFixture[];
  small_exact: SmallExact[];
  temperature_small: TemperatureSmall;
}

const fixture: SchedulesFixture = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'schedules.json'), 'utf8'));

const REL = 1e-12;

/** Largest relative deviation |a−b|/|b| (an exact match is required where b is 0). */
function worstRelative(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    const dev = a === b ? 0 : Math.abs(a - b) / Math.abs(b);
    if (!(dev <= worst)) worst = dev; // NaN also lands here and fails the check
  }
  return worst;
}

function tensor(t: Tensor1d): number[] {
  expect(t.dtype).toBe('float64');
  expect(t.shape).toEqual([t.data.length]);
  return t.data;
}

describe('linspace (NumPy semantics)', () => {
  it('includes both ends and sets the last point to stop exactly', () => {
    const v = linspace(0.04, 0.07, 4);
    expect(Array.from(v)).toEqual([0.04, 0.04 + (0.07 - 0.04) / 3, 0.04 + 2 * ((0.07 - 0.04) / 3), 0.07]);
  });
  it('gives [start] for one point and nothing for zero points', () => {
    expect(Array.from(linspace(0.3, 0.9, 1))).toEqual([0.3]);
    expect(linspace(0.3, 0.9, 0).length).toBe(0);
  });
  it('handles a constant range', () => {
    expect(Array.from(linspace(0.04, 0.04, 3))).toEqual([0.04, 0.04, 0.04]);
  });
});

describe('cosineSchedule against schedules.json small_exact', () => {
  it.each(fixture.small_exact.map((s, i) => [i, s] as const))('case %i matches in full', (_i, s) => {
    const v = cosineSchedule(s.base_value, s.final_value, s.epochs, s.niter_per_ep, s.warmup_epochs, s.start_warmup_value);
    expect(worstRelative(v, tensor(s.values))).toBeLessThanOrEqual(REL);
  });

  it('never reaches the final value and starts the cosine at the peak', () => {
    const v = cosineSchedule(1, 0, 3, 4, 1);
    expect(v[4]).toBe(1);
    expect(v[v.length - 1]).toBeGreaterThan(0);
    expect(Array.from(v.slice(0, 4))).toEqual(Array.from(linspace(0, 1, 4)));
  });

  it('rejects a warm-up longer than the run', () => {
    expect(() => cosineSchedule(1, 0, 2, 5, 3)).toThrow(/warmupEpochs \(3\) exceeds epochs \(2\)/);
  });
});

describe('teacherTempSchedule against schedules.json temperature_small', () => {
  const t = fixture.temperature_small;
  it('CLS temperature', () => {
    const v = teacherTempSchedule(t.warmup_teacher_temp, t.teacher_temp, t.warmup_teacher_temp_epochs, t.nepochs);
    expect(worstRelative(v, tensor(t.teacher_temp_per_epoch))).toBeLessThanOrEqual(REL);
  });
  it('patch temperature waits at the warm-up value until masking starts', () => {
    expect(t.mim_start_epoch).toBeGreaterThan(0);
    const v = teacherTempSchedule(
      t.warmup_teacher_patch_temp,
      t.teacher_patch_temp,
      t.warmup_teacher_temp_epochs,
      t.nepochs,
      t.mim_start_epoch,
    );
    expect(worstRelative(v, tensor(t.teacher_patch_temp_per_epoch))).toBeLessThanOrEqual(REL);
  });
  it('rejects ramps that do not fit in the run', () => {
    expect(() => teacherTempSchedule(0.04, 0.07, 30, 10)).toThrow(/exceeds epochs \(10\)/);
    expect(() => teacherTempSchedule(0.04, 0.07, 8, 10, 3)).toThrow(/startEpoch \(3\) \+ warmupEpochs \(8\)/);
  });
});

describe('buildSchedules against the recipes of schedules.json', () => {
  it.each(fixture.recipes.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    const p = r.params;
    const flags = {
      lr: p.lr,
      min_lr: p.min_lr,
      warmup_epochs: p.warmup_epochs,
      epochs: p.epochs,
      batch_size_per_gpu: p.batch_size_per_gpu,
      accum_iter: 1,
      weight_decay: p.weight_decay,
      weight_decay_end: p.weight_decay_end,
      momentum_teacher: p.momentum_teacher,
      warmup_teacher_temp: p.warmup_teacher_temp,
      teacher_temp: p.teacher_temp,
      warmup_teacher_patch_temp: p.warmup_teacher_patch_temp,
      teacher_patch_temp: p.teacher_patch_temp,
      warmup_teacher_temp_epochs: p.warmup_teacher_temp_epochs,
      pred_start_epoch: p.pred_start_epoch,
    };
    const s = buildSchedules(flags, p.niter_per_ep, p.world_size);

    expect(Math.abs(s.peakLr - p.base_lr_scaled)).toBeLessThanOrEqual(REL * p.base_lr_scaled);
    const total = p.epochs * p.niter_per_ep;
    expect(s.lr.length).toBe(total);
    expect(s.weightDecay.length).toBe(total);
    expect(s.teacherMomentum.length).toBe(total);

    const at = (v: Float64Array) => r.iterations.map((it) => v[it]);
    expect(r.iterations.length).toBe(r.lr.data.length);
    expect(Math.max(...r.iterations)).toBeLessThan(total);
    expect(worstRelative(at(s.lr), tensor(r.lr))).toBeLessThanOrEqual(REL);
    expect(worstRelative(at(s.weightDecay), tensor(r.wd))).toBeLessThanOrEqual(REL);
    expect(worstRelative(at(s.teacherMomentum), tensor(r.momentum))).toBeLessThanOrEqual(REL);
    expect(worstRelative(s.teacherTemp, tensor(r.teacher_temp_per_epoch))).toBeLessThanOrEqual(REL);
    expect(worstRelative(s.teacherPatchTemp, tensor(r.teacher_patch_temp_per_epoch))).toBeLessThanOrEqual(REL);
  });

  it('ends the teacher momentum at --momentum_teacher_end when given (ours), at 1 otherwise', () => {
    const flags = {
      lr: 0.005, min_lr: 1e-6, warmup_epochs: 1, epochs: 3, batch_size_per_gpu: 16, accum_iter: 1, weight_decay: 0.04, weight_decay_end: 0.4,
      momentum_teacher: 0.98, warmup_teacher_temp: 0.04, teacher_temp: 0.07, warmup_teacher_patch_temp: 0.04, teacher_patch_temp: 0.07,
      warmup_teacher_temp_epochs: 1, pred_start_epoch: 0,
    };
    const reference = buildSchedules(flags, 75, 1).teacherMomentum;
    const ending = buildSchedules({ ...flags, momentum_teacher_end: 0.99 }, 75, 1).teacherMomentum;
    const flat = buildSchedules({ ...flags, momentum_teacher_end: 0.98 }, 75, 1).teacherMomentum;
    expect(buildSchedules({ ...flags, momentum_teacher_end: 1 }, 75, 1).teacherMomentum).toEqual(reference);
    expect([reference[0], ending[0]]).toEqual([0.98, 0.98]);
    expect(reference[224]).toBeGreaterThan(0.99999);
    expect(ending[224]).toBeCloseTo(0.99, 6);
    expect(ending[112]).toBeCloseTo(0.985, 4); // half-way along the cosine
    expect(new Set(flat)).toEqual(new Set([0.98]));
  });

  it('scales the peak lr by per-GPU batch × accumulation × GPUs / 256', () => {
    expect(scaledLr(0.0005, 128, 1, 8)).toBeCloseTo(0.002, 15);
    expect(scaledLr(0.0005, 64, 2, 8)).toBe(scaledLr(0.0005, 128, 1, 8));
    expect(scaledLr(0.001, 32, 1, 1)).toBeCloseTo(0.000125, 15);
  });
});
