/**
 * Initialisers of the reference (spec §1.6), drawn from libtorch's seeded default
 * generator so a seed reproduces the whole network.
 */
import * as T from '@sere/torch';

/** Truncated normal with absolute bounds ±2, as timm's trunc_normal_(std=0.02): the bounds are ~100σ away, so clamping suffices. */
export function truncNormal(shape: number[], std: number, device: string): T.Tensor {
  return T.scope(() => T.call('aten::clamp', '', [T.randn(shape, { device }).mul(std), -2, 2]));
}

/** PyTorch's default Linear/Conv initialisation: U(−1/√fan_in, 1/√fan_in). */
export function uniformFanIn(shape: number[], fanIn: number, device: string): T.Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return T.scope(() => T.rand(shape, { device }).mul(2 * bound).sub(bound));
}
