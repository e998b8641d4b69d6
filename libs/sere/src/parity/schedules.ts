/** Parity of the cosine and temperature schedules with schedules.json (relative 1e-12, float64). */
import { cosineSchedule, scaledLr, teacherTempSchedule } from '../optimisation/schedules';
import { Check } from './compare';
import { FixtureNode, within } from './fixture-node';
import { FixtureTensor } from './fixture-tensor';

function checkRelative(name: string, actual: (i: number) => number, expected: FixtureTensor, rel = 1e-12): Check {
  const e = expected.values;
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

/** A per-iteration or per-epoch series of the file, `count` values long. */
function series(n: FixtureNode, key: string, count: number): FixtureTensor {
  const t = n.tensor(key, { dtype: ['float64', 'float32'], shape: [null] });
  if (t.shape[0] !== count) n.at(key).fail(`${count} values (one per ${key.endsWith('_per_epoch') ? 'epoch' : 'sampled iteration'})`);
  return t;
}

/**
 * The teacher's class and patch temperatures per epoch from a record's warm-up fields (the
 * same names in schedules.json and full_step.json); the patch warm-up starts at `patchStart`.
 */
export function fixtureTeacherTemps(n: FixtureNode, epochs: number, patchStart: number): [Float64Array, Float64Array] {
  return [
    teacherTempSchedule(n.num('warmup_teacher_temp'), n.num('teacher_temp'), n.int('warmup_teacher_temp_epochs'), epochs),
    teacherTempSchedule(n.num('warmup_teacher_patch_temp'), n.num('teacher_patch_temp'), n.int('warmup_teacher_temp_epochs'), epochs, patchStart),
  ];
}

export function checkSchedules(fx: FixtureNode): Check[] {
  const checks: Check[] = [];
  for (const r of fx.list('recipes')) {
    const name = r.str('name');
    const p = r.at('params');
    const epochs = p.dim('epochs');
    const niter = p.dim('niter_per_ep');
    const peak = scaledLr(p.num('lr'), p.dim('batch_size_per_gpu'), 1, p.dim('world_size'));
    const [lr, wd, mom] = within(p, 'the cosine schedules', () => [
      cosineSchedule(peak, p.num('min_lr'), epochs, niter, p.int('warmup_epochs')),
      cosineSchedule(p.num('weight_decay'), p.num('weight_decay_end'), epochs, niter),
      cosineSchedule(p.num('momentum_teacher'), 1, epochs, niter),
    ]);
    const its = r.list('iterations').map((it) => {
      const i = it.int();
      if (i >= epochs * niter) it.fail(`an iteration below epochs × niter_per_ep = ${epochs * niter}`);
      return i;
    });
    checks.push(checkRelative(`schedules/${name}/lr`, (i) => lr[its[i]], series(r, 'lr', its.length)));
    checks.push(checkRelative(`schedules/${name}/wd`, (i) => wd[its[i]], series(r, 'wd', its.length)));
    checks.push(checkRelative(`schedules/${name}/momentum`, (i) => mom[its[i]], series(r, 'momentum', its.length)));
    const start = p.opt('pred_start_epoch')?.int() ?? 0;
    const [tt, tp] = within(p, 'the temperature schedules', () => fixtureTeacherTemps(p, epochs, start));
    checks.push(checkRelative(`schedules/${name}/teacher_temp`, (i) => tt[i], series(r, 'teacher_temp_per_epoch', epochs)));
    checks.push(checkRelative(`schedules/${name}/teacher_patch_temp`, (i) => tp[i], series(r, 'teacher_patch_temp_per_epoch', epochs)));
  }
  fx.list('small_exact').forEach((s, k) => {
    const epochs = s.dim('epochs');
    const niter = s.dim('niter_per_ep');
    const v = within(s, 'the schedule', () => cosineSchedule(s.num('base_value'), s.num('final_value'), epochs, niter, s.int('warmup_epochs'), s.opt('start_warmup_value')?.num() ?? 0));
    checks.push(checkRelative(`schedules/small_exact[${k}]`, (i) => v[i], series(s, 'values', epochs * niter)));
  });
  const t = fx.opt('temperature_small');
  if (t) {
    const epochs = t.dim('nepochs');
    const [tt, tp] = within(t, 'the temperature schedules', () => fixtureTeacherTemps(t, epochs, t.int('mim_start_epoch')));
    checks.push(checkRelative('schedules/temperature_small/teacher_temp', (i) => tt[i], series(t, 'teacher_temp_per_epoch', epochs)));
    checks.push(checkRelative('schedules/temperature_small/teacher_patch_temp', (i) => tp[i], series(t, 'teacher_patch_temp_per_epoch', epochs)));
  }
  return checks;
}
