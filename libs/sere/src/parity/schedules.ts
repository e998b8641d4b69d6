/** Parity of the cosine and temperature schedules with schedules.json (relative 1e-12, float64). */
import { cosineSchedule, scaledLr, teacherTempSchedule } from '../schedules';
import { Check } from './compare';
import { FixtureTensor, flatValues } from './fixture-tensor';

function checkRelative(name: string, actual: (i: number) => number, expected: FixtureTensor, rel = 1e-12): Check {
  const e = flatValues(expected, name);
  let maxAbs = 0;
  let worst = 0;
  let bound = 0;
  for (let i = 0; i < e.length; i++) {
    const a = actual(i);
    const dev = Math.abs(a - e[i]);
    const b = rel * Math.abs(e[i]);
    if (Number.isNaN(dev) || dev > maxAbs) {
      maxAbs = Number.isNaN(dev) ? Infinity : dev;
    }
    const excess = dev - b;
    if (excess > worst || Number.isNaN(dev)) worst = Number.isNaN(dev) ? Infinity : excess;
    bound = Math.max(bound, b);
  }
  return { name, maxAbs, bound, ok: worst <= 0 };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function checkSchedules(fx: any): Check[] {
  const checks: Check[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for (const r of fx.recipes as any[]) {
    const p = r.params;
    const peak = scaledLr(p.lr, p.batch_size_per_gpu, 1, p.world_size);
    const lr = cosineSchedule(peak, p.min_lr, p.epochs, p.niter_per_ep, p.warmup_epochs);
    const wd = cosineSchedule(p.weight_decay, p.weight_decay_end, p.epochs, p.niter_per_ep);
    const mom = cosineSchedule(p.momentum_teacher, 1, p.epochs, p.niter_per_ep);
    const its: number[] = r.iterations;
    checks.push(checkRelative(`schedules/${r.name}/lr`, (i) => lr[its[i]], r.lr));
    checks.push(checkRelative(`schedules/${r.name}/wd`, (i) => wd[its[i]], r.wd));
    checks.push(checkRelative(`schedules/${r.name}/momentum`, (i) => mom[its[i]], r.momentum));
    const tt = teacherTempSchedule(p.warmup_teacher_temp, p.teacher_temp, p.warmup_teacher_temp_epochs, p.epochs);
    const tp = teacherTempSchedule(p.warmup_teacher_patch_temp, p.teacher_patch_temp, p.warmup_teacher_temp_epochs, p.epochs, p.pred_start_epoch ?? 0);
    checks.push(checkRelative(`schedules/${r.name}/teacher_temp`, (i) => tt[i], r.teacher_temp_per_epoch));
    checks.push(checkRelative(`schedules/${r.name}/teacher_patch_temp`, (i) => tp[i], r.teacher_patch_temp_per_epoch));
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (fx.small_exact as any[]).forEach((s, k) => {
    const v = cosineSchedule(s.base_value, s.final_value, s.epochs, s.niter_per_ep, s.warmup_epochs, s.start_warmup_value);
    checks.push(checkRelative(`schedules/small_exact[${k}]`, (i) => v[i], s.values));
  });
  const t = fx.temperature_small;
  if (t) {
    const tt = teacherTempSchedule(t.warmup_teacher_temp, t.teacher_temp, t.warmup_teacher_temp_epochs, t.nepochs);
    const tp = teacherTempSchedule(t.warmup_teacher_patch_temp, t.teacher_patch_temp, t.warmup_teacher_temp_epochs, t.nepochs, t.mim_start_epoch);
    checks.push(checkRelative('schedules/temperature_small/teacher_temp', (i) => tt[i], t.teacher_temp_per_epoch));
    checks.push(checkRelative('schedules/temperature_small/teacher_patch_temp', (i) => tp[i], t.teacher_patch_temp_per_epoch));
  }
  return checks;
}
