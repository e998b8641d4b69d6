/**
 * The SERE self-relation heads (spec §4.1). Each head reads the last block's patch tokens
 * (before the final LayerNorm) as a channel-first map F ∈ R^{B×D×n} and has two branches:
 *   projection  Z = ReLU(BN_a(F))
 *   predictor   Π = ReLU(BN_b(W·Z))        (1×1 convolution = a D×D product per position)
 * BatchNorm always uses batch statistics: the reference never puts either network in eval mode.
 */
import * as T from '@sere/torch';
import { ParamStore } from './params';
import { uniformFanIn } from './init';
import { BatchNormSync, syncBatchNorm } from '../distributed/sync-batch-norm';

export type Branch = 'z' | 'p';
export const SERE_HEADS = ['channel_sere', 'pixel_sere'] as const;
const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1;

export function initRelationHead(p: ParamStore, prefix: string, dim: number, device: string): void {
  for (const bn of ['projection.0', 'predictor.1']) {
    p.add(`${prefix}.${bn}.weight`, T.ones([dim], { device }));
    p.add(`${prefix}.${bn}.bias`, T.zeros([dim], { device }));
  }
  p.add(`${prefix}.predictor.0.weight`, uniformFanIn([dim, dim, 1, 1], dim, device));
  // Buffers after parameters, as in the reference state dict.
  for (const bn of ['projection.0', 'predictor.1']) {
    p.addBuffer(`${prefix}.${bn}.running_mean`, T.zeros([dim], { device }));
    p.addBuffer(`${prefix}.${bn}.running_var`, T.ones([dim], { device }));
    // Kept so a state dict loads strictly into PyTorch's BatchNorm2d (it counts forward calls).
    p.addBuffer(`${prefix}.${bn}.num_batches_tracked`, T.zeros([], { device, dtype: 'int64' }));
  }
}

function bn(p: ParamStore, prefix: string, x: T.Tensor, sync: BatchNormSync | null): T.Tensor {
  const counter = `${prefix}.num_batches_tracked`;
  if (p.has(counter)) T.noGrad(() => T.call('aten::add_', 'Scalar', [p.get(counter), 1]));
  if (sync) {
    const [w, b, rm, rv] = ['weight', 'bias', 'running_mean', 'running_var'].map((k) => p.get(`${prefix}.${k}`));
    return syncBatchNorm(sync, x, w, b, rm, rv, BN_MOMENTUM, BN_EPS);
  }
  return T.batchNorm(
    x,
    p.get(`${prefix}.weight`),
    p.get(`${prefix}.bias`),
    p.get(`${prefix}.running_mean`),
    p.get(`${prefix}.running_var`),
    true,
    BN_MOMENTUM,
    BN_EPS,
  );
}

/**
 * The requested branches' features [B, D, n] of one head (the predictor reads Z). With
 * `sync` (several ranks) the batch norms take their statistics over every rank's batch.
 */
export function headFeatures(p: ParamStore, prefix: string, features: T.Tensor, branches: Branch[], sync: BatchNormSync | null = null): Partial<Record<Branch, T.Tensor>> {
  const z = T.relu(bn(p, `${prefix}.projection.0`, features, sync));
  const out: Partial<Record<Branch, T.Tensor>> = { z };
  if (branches.includes('p')) {
    const w = p.get(`${prefix}.predictor.0.weight`);
    const d = w.shape[0];
    out.p = T.relu(bn(p, `${prefix}.predictor.1`, w.view(d, d).matmul(z), sync));
  }
  return out;
}

/** Channel self-relation (X/s)(X/s)ᵀ ∈ R^{B×D×D}; s is the reference's hard-coded divisor. */
export function channelRelation(x: T.Tensor, divisor: number): T.Tensor {
  const xs = x.div(divisor);
  return xs.matmul(xs.transpose(1, 2));
}

/** Spatial self-relation per head group: d^{-1/2} X_kᵀ X_k ∈ R^{B×H×n×n}. */
export function pixelRelation(x: T.Tensor, numHeads: number): T.Tensor {
  const [b, dim, n] = x.shape;
  const d = dim / numHeads;
  const xk = x.view(b, numHeads, d, n);
  return xk.transpose(2, 3).matmul(xk).mul(d ** -0.5);
}
