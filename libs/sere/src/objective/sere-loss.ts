/**
 * SERE's self-relation losses (spec §4.3, §4.4): the student's spatial and channel
 * self-relations are trained to match the teacher's, across views.
 *
 * Term structure (L local crops, teacher global crop q ∈ {0, 1}):
 *   global–global: teacher q vs student 1−q (aligned on the overlap of the two crops)
 *   global–local:  teacher q vs student local v (aligned on their overlap, 6×6 samples)
 * Each loss is the plain average of its 2 + 2L terms; non-overlapping pairs still count
 * (spec §9.7).
 */
import * as T from '@sere/torch';
import { bilinearMatrix, resampleRelation } from './alignment';

export interface SereLossConfig {
  temperaturePixel: number; // τ_px of the teacher (0.5)
  temperatureChannel: number; // τ_ch of the teacher (0.1)
}

/** Overlap grids, crop-major, as produced by the data pipeline (spec §5.1). */
export interface OverlapGrids {
  global1: T.Tensor; // [2, B, S1, S1, 2]: grid(g1, g2, S1) as seen from crop 0 and crop 1
  global2: T.Tensor; // [2, B, S2, S2, 2]
  local: T.Tensor | null; // [2L, B, s, s, 2]: local side of pair (q, v) at q·L + v
  globalSide: T.Tensor | null; // [2L, B, s, s, 2]: global side of the same pairs
}

export interface SereLossInputs {
  teacherPixel: T.Tensor; // [2B, H, N, N] teacher z-relations of the global crops
  studentPixel: T.Tensor; // [2B, H, N, N] student p-relations (masked pass)
  studentPixelLocal: T.Tensor | null; // [L·B, H, n, n]
  teacherChannel: T.Tensor; // [2B, D, D]
  studentChannel: T.Tensor; // [2B, D, D]
  studentChannelLocal: T.Tensor | null; // [L·B, D, D]
  grids: OverlapGrids;
}

export interface SereLossOutput {
  pixel: T.Tensor;
  channel: T.Tensor;
  /** Per-term values: [global (q=0), global (q=1), then local (q, v) at 2 + q·L + v]. */
  pixelTerms: T.Tensor;
  channelTerms: T.Tensor;
  /** Aligned global relations [2B, H, S1², S2²] (teacher, student), for inspection. */
  alignedTeacher: T.Tensor;
  alignedStudent: T.Tensor;
}

function side(n: number, what: string): number {
  const g = Math.round(Math.sqrt(n));
  if (g * g !== n) throw new Error(`${what}: ${n} positions do not form a square token grid`);
  return g;
}

/** mean over (B, H, rows) of CE(softmax(t), s) for t, s [..., B, H, R, C] → [...]. */
function relationCE(teacherLogits: T.Tensor, studentLogits: T.Tensor): T.Tensor {
  const q = T.noGrad(() => teacherLogits.float().softmax(-1));
  const ce = q.mul(studentLogits.float().logSoftmax(-1)).sum([-1]).neg();
  return ce.mean([-3, -2, -1]);
}

export function sereLoss(cfg: SereLossConfig, x: SereLossInputs): SereLossOutput {
  const twoB = x.teacherPixel.shape[0];
  const batch = twoB / 2;
  const G = side(x.teacherPixel.shape[2], 'global relation');

  // ---- spatial (pixel) relations ----
  const w1 = bilinearMatrix(x.grids.global1, G); // [2, B, S1², N]
  const w2 = bilinearMatrix(x.grids.global2, G);
  const crops = (t: T.Tensor) => t.view(2, batch, ...t.shape.slice(1));
  const alignedTeacher = T.noGrad(() => resampleRelation(crops(x.teacherPixel), w1, w2));
  const alignedStudent = resampleRelation(crops(x.studentPixel), w1, w2); // [2, B, H, S1², S2²]
  // teacher q against student 1−q
  const globalPixel = relationCE(alignedTeacher.div(cfg.temperaturePixel), T.cat([alignedStudent.select(0, 1).unsqueeze(0), alignedStudent.select(0, 0).unsqueeze(0)], 0)); // [2]
  const pixelTerms: T.Tensor[] = [globalPixel];

  // ---- channel relations ----
  const nGlobal = x.teacherChannel.shape[1];
  const teacherQ = T.noGrad(() => x.teacherChannel.float().div(cfg.temperatureChannel).softmax(-1).view(2, batch, nGlobal, nGlobal));
  const studentLogp = x.studentChannel.float().logSoftmax(-1).view(2, batch, nGlobal, nGlobal);
  // ⟨Q_q, log S_v⟩ for every pair at once, as one matrix product over flattened relations
  const flatQ = teacherQ.reshape(2, -1);
  const rowsPerTerm = batch * nGlobal;
  const globalChannel = flatQ.mul(T.cat([studentLogp.select(0, 1).unsqueeze(0), studentLogp.select(0, 0).unsqueeze(0)], 0).reshape(2, -1)).sum([1]).neg().div(rowsPerTerm);
  const channelTerms: T.Tensor[] = [globalChannel];

  const L = x.studentPixelLocal ? x.studentPixelLocal.shape[0] / batch : 0;
  if (L > 0) {
    if (!x.grids.local || !x.grids.globalSide || !x.studentChannelLocal) throw new Error('sereLoss: local relations given without local grids');
    const g = side(x.studentPixelLocal!.shape[2], 'local relation');
    const wLocal = bilinearMatrix(x.grids.local, g).view(2, L, batch, -1, g * g); // [2, L, B, s², n]
    const wGlobal = bilinearMatrix(x.grids.globalSide, G).view(2, L, batch, -1, G * G); // [2, L, B, s², N]
    const teacher = crops(x.teacherPixel).unsqueeze(1); // [2, 1, B, H, N, N]
    const sampledTeacher = T.noGrad(() => resampleRelation(teacher, wGlobal, wGlobal).div(cfg.temperaturePixel)); // [2, L, B, H, s², s²]
    const local = x.studentPixelLocal!.view(1, L, batch, ...x.studentPixelLocal!.shape.slice(1)); // [1, L, B, H, n, n]
    const sampledStudent = resampleRelation(local, wLocal, wLocal);
    pixelTerms.push(relationCE(sampledTeacher, sampledStudent).reshape(2 * L));

    const studentLocalLogp = x.studentChannelLocal.float().logSoftmax(-1).reshape(L, -1); // [L, B·D·D]
    channelTerms.push(flatQ.matmul(studentLocalLogp.transpose(0, 1)).neg().div(rowsPerTerm).reshape(2 * L));
  }
  const pixelAll = T.cat(pixelTerms, 0);
  const channelAll = T.cat(channelTerms, 0);
  return {
    pixel: pixelAll.mean(),
    channel: channelAll.mean(),
    pixelTerms: pixelAll,
    channelTerms: channelAll,
    alignedTeacher: alignedTeacher.reshape(twoB, ...alignedTeacher.shape.slice(2)),
    alignedStudent: alignedStudent.reshape(twoB, ...alignedStudent.shape.slice(2)),
  };
}

/** L = L_iBOT·(4 − α − β)/2 + α·L_px + β·L_ch (spec §4.5). */
export function lossWeights(alpha: number, beta: number): { ibot: number; pixel: number; channel: number } {
  return { ibot: (4 - alpha - beta) / 2, pixel: alpha, channel: beta };
}
