/**
 * The iBOT objective (spec §3): CLS self-distillation across all crop pairs and masked
 * patch self-distillation on the two global crops, with centred, sharpened teacher targets.
 *
 * Only masked patch positions enter the patch loss, so callers pass the student and
 * teacher logits of those rows alone (see maskedRows); the teacher's per-image patch mean,
 * needed for the patch centre, is passed separately. This is the reference's arithmetic
 * without computing patch logits that no term reads.
 */
import * as T from '@sere/torch';

export interface IBOTLossConfig {
  studentTemp: number;
  centerMomentum: number;
  centerMomentum2: number;
  lambda1: number;
  lambda2: number;
}

export const IBOT_LOSS_DEFAULTS: IBOTLossConfig = {
  studentTemp: 0.1,
  centerMomentum: 0.9,
  centerMomentum2: 0.9,
  lambda1: 1,
  lambda2: 1,
};

/** Rows of the crop-major [2B·N] patch grid that are masked, each with weight 1/max(1, masked count of its image). */
export interface MaskedRows {
  index: T.Tensor; // int64 [M]
  weight: T.Tensor; // float32 [M]
  count: number; // M
}

/**
 * masks: one Uint8Array per global crop, each [B·N] row-major (1 = masked).
 * Row r = q·B·N + b·N + t, matching [2B, N] crop-major patch tensors.
 */
export function maskedRows(masks: Uint8Array[], batch: number, device: string): MaskedRows {
  const n = masks[0].length / batch;
  const idx: number[] = [];
  const w: number[] = [];
  masks.forEach((m, q) => {
    for (let b = 0; b < batch; b++) {
      let count = 0;
      for (let t = 0; t < n; t++) count += m[b * n + t] ? 1 : 0;
      const weight = 1 / Math.max(1, count);
      for (let t = 0; t < n; t++) {
        if (m[b * n + t]) {
          idx.push(q * batch * n + b * n + t);
          w.push(weight);
        }
      }
    }
  });
  return {
    index: T.tensor(BigInt64Array.from(idx.map(BigInt)), [idx.length], { dtype: 'int64', device }),
    weight: T.tensor(Float32Array.from(w), [w.length], { device }),
    count: idx.length,
  };
}

export interface IBOTLossInputs {
  studentCls: T.Tensor; // [2B, K]
  studentLocalCls: T.Tensor | null; // [L·B, K]
  teacherCls: T.Tensor; // [2B, K]
  studentPatch: T.Tensor; // [M, K] logits at masked rows
  teacherPatch: T.Tensor; // [M, K] logits at the same rows
  rows: MaskedRows;
  teacherPatchMean: T.Tensor; // [2B, K] per-image mean over all patch tokens (centre update)
  teacherTemp: number;
  teacherPatchTemp: number;
}

export interface IBOTLossOutput {
  cls: T.Tensor;
  patch: T.Tensor;
  total: T.Tensor;
  /**
   * Collapse monitor (no gradient), in nats: the mean entropy of the teacher's CLS targets,
   * and the entropy of their batch average. Uniform collapse drives both to ln K, one-hot
   * collapse both to 0; a healthy run has the first well below the second.
   */
  teacherEntropy: T.Tensor;
  teacherBatchEntropy: T.Tensor;
}

export class IBOTLoss {
  /** Centres c [1, K] and c2 [1, 1, K]. */
  center: T.Tensor;
  center2: T.Tensor;

  constructor(
    readonly cfg: IBOTLossConfig,
    outDim: number,
    patchOutDim: number,
    device = 'cpu',
  ) {
    this.center = T.keep(T.zeros([1, outDim], { device }));
    this.center2 = T.keep(T.zeros([1, 1, patchOutDim], { device }));
  }

  forward(x: IBOTLossInputs): IBOTLossOutput {
    const { studentTemp, lambda1, lambda2 } = this.cfg;
    const batch = x.teacherCls.shape[0] / 2;
    const logits = T.noGrad(() => x.teacherCls.float().sub(this.center).div(x.teacherTemp));
    // The targets are a softmax, as the reference computes them; the monitor takes the log
    // from logSoftmax, since a softmax that underflows to 0 has no usable log.
    const probs = T.noGrad(() => logits.softmax(-1));
    const targets = probs.chunk(2, 0);
    const [teacherEntropy, teacherBatchEntropy] = T.noGrad(() => {
      const mean = probs.mean([0]);
      return [probs.mul(logits.logSoftmax(-1)).sum([1]).mean().neg(), mean.mul(mean.add(1e-12).log()).sum().neg()];
    });
    const students = x.studentLocalCls ? T.cat([x.studentCls, x.studentLocalCls], 0) : x.studentCls;
    const logp = students.float().div(studentTemp).logSoftmax(-1); // [(2+L)B, K]
    const nCrops = logp.shape[0] / batch;
    // Σ_{v≠q} CE(P_q, S_v) = −Σ_j P_q,j (Σ_v log S_v − log S_q)_j
    const logpSum = logp.view(nCrops, batch, -1).sum([0]);
    const [lp0, lp1] = logp.slice(0, 0, 2 * batch).chunk(2, 0);
    const clsSum = targets[0].mul(logpSum.sub(lp0)).sum().add(targets[1].mul(logpSum.sub(lp1)).sum());
    const nTerms = 2 * nCrops - 2;
    const cls = clsSum.neg().div(batch * nTerms).mul(lambda1);

    let patch: T.Tensor;
    if (x.rows.count > 0) {
      const q = T.noGrad(() => x.teacherPatch.float().sub(this.center2.view(1, -1)).div(x.teacherPatchTemp).softmax(-1));
      const ce = q.mul(x.studentPatch.float().div(studentTemp).logSoftmax(-1)).sum([1]).neg(); // [M]
      patch = ce.mul(x.rows.weight).sum().div(2 * batch).mul(lambda2);
    } else {
      // No masked token in this batch: a zero that still passes through the student's patch
      // head (on its zero rows), so that head's parameters get (zero) gradients as in the
      // reference's dense masked mean. Under data parallelism every rank's Reducer waits for
      // every parameter; a head missing from one rank's graph would leave the ranks' collectives out of step.
      patch = x.studentPatch.float().sum().mul(0);
    }
    return { cls, patch, total: cls.add(patch), teacherEntropy, teacherBatchEntropy };
  }

  /**
   * On several ranks: the mean over ranks of a batch mean, so the centres move with the
   * teacher outputs of the whole global batch (all-reduced, as in the reference).
   */
  crossRankMean: ((t: T.Tensor) => T.Tensor) | null = null;

  private pendingCls: T.Tensor | null = null;
  private pendingPatch: T.Tensor | null = null;
  private pending = 0;

  /**
   * c ← m·c + (1−m)·mean(teacher CLS); c2 likewise with per-image patch means (spec §3.2).
   * With gradient accumulation the batch means are summed over `accumIter` calls and the
   * centres move once, on the last, with their average.
   */
  updateCenter(teacherCls: T.Tensor, teacherPatchMean: T.Tensor, accumIter = 1): void {
    T.noGrad(() =>
      T.scope(() => {
        const overRanks = (t: T.Tensor) => (this.crossRankMean ? this.crossRankMean(t) : t);
        const c = overRanks(teacherCls.float().mean([0], true));
        const c2 = overRanks(teacherPatchMean.float().mean([0], true).unsqueeze(0));
        const sumCls = this.pendingCls ? this.pendingCls.add(c) : c;
        const sumPatch = this.pendingPatch ? this.pendingPatch.add(c2) : c2;
        this.pendingCls?.dispose();
        this.pendingPatch?.dispose();
        this.pending += 1;
        if (this.pending < accumIter) {
          this.pendingCls = T.keep(sumCls);
          this.pendingPatch = T.keep(sumPatch);
          return;
        }
        const m = this.cfg.centerMomentum;
        const m2 = this.cfg.centerMomentum2;
        T.call('aten::copy_', '', [this.center, this.center.mul(m).add(sumCls.div(this.pending).mul(1 - m))]);
        T.call('aten::copy_', '', [this.center2, this.center2.mul(m2).add(sumPatch.div(this.pending).mul(1 - m2))]);
        this.pendingCls = null;
        this.pendingPatch = null;
        this.pending = 0;
      }),
    );
  }

  dispose(): void {
    this.pendingCls?.dispose();
    this.pendingPatch?.dispose();
    this.center.dispose();
    this.center2.dispose();
  }
}
