/**
 * Teacher update θ_t ← m·θ_t + (1 − m)·θ_s for every parameter name the two networks share
 * (all but the student's mask token). Buffers are not averaged: the teacher keeps its own
 * BatchNorm statistics (spec §6).
 */
import * as T from '@sere/torch';
import { namedParameters, Network } from '../model/networks';

export function emaPairs(student: Network, teacher: Network): { student: T.Tensor[]; teacher: T.Tensor[] } {
  const t = new Map(namedParameters(teacher));
  const pairs = { student: [] as T.Tensor[], teacher: [] as T.Tensor[] };
  for (const [name, s] of namedParameters(student)) {
    const tt = t.get(name);
    if (tt) {
      pairs.student.push(s);
      pairs.teacher.push(tt);
    }
  }
  return pairs;
}

export function emaUpdate(pairs: { student: T.Tensor[]; teacher: T.Tensor[] }, momentum: number): void {
  T.noGrad(() => {
    T.call('aten::_foreach_mul_', 'Scalar', [pairs.teacher, momentum]);
    T.call('aten::_foreach_add_', 'List', [pairs.teacher, pairs.student, 1 - momentum]);
  });
}
