/**
 * One forward pass of the whole SERE objective (spec §4.6, steps 2–5): teacher on the two
 * global crops, student on the masked global crops and on the local crops, then the iBOT,
 * spatial and channel self-relation losses and their weighted sum.
 */
import * as T from '@sere/torch';
import { IBOTLoss, MaskedRows } from './ibot-loss';
import { Networks } from '../model/networks';
import { lossWeights, OverlapGrids, sereLoss, SereLossConfig } from './sere-loss';

export interface ObjectiveConfig extends SereLossConfig {
  alpha: number;
  beta: number;
  /**
   * Reproduce the reference's local-head selection (spec §9.1): with ≤ 2 local crops the
   * student's local crops go through the global SERE heads. Off by default (fixed).
   */
  compatLocalHeads: boolean;
}

export interface ObjectiveBatch {
  globalCrops: T.Tensor; // [2B, 3, S, S], crop-major, normalised
  localCrops: T.Tensor | null; // [L·B, 3, s, s]
  masks: T.Tensor; // bool [2B, G, G]
  rows: MaskedRows; // masked rows of the [2B·N] patch grid
  grids: OverlapGrids;
}

export interface ObjectiveOutput {
  total: T.Tensor;
  ibot: T.Tensor;
  ibotCls: T.Tensor;
  ibotPatch: T.Tensor;
  pixel: T.Tensor;
  channel: T.Tensor;
  /** See IBOTLossOutput: the collapse monitor. */
  teacherEntropy: T.Tensor;
  teacherBatchEntropy: T.Tensor;
  teacherCls: T.Tensor;
  teacherPatchMean: T.Tensor;
  studentCls: T.Tensor;
  studentLocalCls: T.Tensor | null;
}

export function computeObjective(
  nets: Networks,
  loss: IBOTLoss,
  cfg: ObjectiveConfig,
  batch: ObjectiveBatch,
  temps: { teacherTemp: number; teacherPatchTemp: number },
  dropPath = true,
): ObjectiveOutput {
  const { student, teacher } = nets;
  const twoB = batch.globalCrops.shape[0];

  // ---- teacher: unmasked global crops, projection-branch relations ----
  const t = T.noGrad(() => {
    const out = teacher.backbone.forward(batch.globalCrops, { branches: ['z'] });
    const z = teacher.head.bottleneck(out.tokens); // [2B, 1+N, bottleneck]
    const n = z.shape[1] - 1;
    const zPatch = z.slice(1, 1, n + 1);
    return {
      cls: teacher.head.cls(z.select(1, 0)),
      // The last layer is linear, so the mean of patch logits is the logits of the mean feature.
      patchMean: teacher.head.patch(zPatch.mean([1])),
      patchMasked: teacher.head.patch(T.indexSelect(zPatch.reshape(twoB * n, -1), 0, batch.rows.index)),
      relations: out.relations.z!,
    };
  });

  // ---- student: masked global crops, predictor-branch relations ----
  const s = student.backbone.forward(batch.globalCrops, { mask: batch.masks, branches: ['p'], dropPath });
  const d = s.tokens.shape[2];
  const n = s.tokens.shape[1] - 1;
  // Only the CLS tokens and the masked patch tokens reach any loss term.
  const headIn = T.cat([s.tokens.select(1, 0), T.indexSelect(s.tokens.slice(1, 1, n + 1).reshape(twoB * n, d), 0, batch.rows.index)], 0);
  const z = student.head.bottleneck(headIn);
  const studentCls = student.head.cls(z.slice(0, 0, twoB));
  const studentPatch = student.head.patch(z.slice(0, twoB, z.shape[0]));

  // ---- student: local crops ----
  let local: { cls: T.Tensor; channel: T.Tensor; pixel: T.Tensor } | null = null;
  if (batch.localCrops) {
    const nLocal = batch.localCrops.shape[0] / (twoB / 2);
    const useLocalHeads = !(cfg.compatLocalHeads && nLocal <= 2);
    const out = student.backbone.forward(batch.localCrops, { localHeads: useLocalHeads, branches: ['p'], dropPath });
    local = {
      cls: student.head.cls(student.head.bottleneck(out.tokens.select(1, 0))),
      channel: out.relations.p!.channel,
      pixel: out.relations.p!.pixel,
    };
  }

  // ---- losses ----
  const ibot = loss.forward({
    studentCls,
    studentLocalCls: local?.cls ?? null,
    teacherCls: t.cls,
    studentPatch,
    teacherPatch: t.patchMasked,
    rows: batch.rows,
    teacherPatchMean: t.patchMean,
    ...temps,
  });
  // Like the reference, relations are resampled and soft-maxed in float32 even under autocast.
  const f32 = (x: T.Tensor | null | undefined) => (x ? x.float() : null);
  const sere = T.fullPrecision(() =>
    sereLoss(cfg, {
      teacherPixel: f32(t.relations.pixel)!,
      studentPixel: f32(s.relations.p!.pixel)!,
      studentPixelLocal: f32(local?.pixel),
      teacherChannel: f32(t.relations.channel)!,
      studentChannel: f32(s.relations.p!.channel)!,
      studentChannelLocal: f32(local?.channel),
      grids: batch.grids,
    }),
  );
  const w = lossWeights(cfg.alpha, cfg.beta);
  const total = ibot.total.mul(w.ibot).add(sere.pixel.mul(w.pixel)).add(sere.channel.mul(w.channel));
  return {
    total,
    ibot: ibot.total,
    ibotCls: ibot.cls,
    ibotPatch: ibot.patch,
    pixel: sere.pixel,
    channel: sere.channel,
    teacherEntropy: ibot.teacherEntropy,
    teacherBatchEntropy: ibot.teacherBatchEntropy,
    teacherCls: t.cls,
    teacherPatchMean: t.patchMean,
    studentCls,
    studentLocalCls: local?.cls ?? null,
  };
}
