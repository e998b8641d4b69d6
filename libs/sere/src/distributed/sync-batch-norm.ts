/**
 * SyncBatchNorm (spec §4.1: the reference converts the relation heads' BatchNorms when it
 * runs on several GPUs): batch statistics over every rank's batch, so N ranks of B images
 * normalise exactly as one process of N·B images would.
 *
 * Written as differentiable tensor ops around one differentiable all-reduce per statistic
 * (ProcessGroup.allReduceSum, whose backward is an all-reduce), so autograd derives the
 * backward that PyTorch's SyncBatchNorm writes by hand: the gradient through the mean and
 * the variance sums over all ranks. The variance is taken in two passes (the mean first,
 * then the mean squared deviation), as one process's batch norm does, not as E[x²]−E[x]²,
 * which loses digits in float32.
 */
import * as T from '@sere/torch';

/** What the batch norms of a network synchronise over (one process group). */
export interface BatchNormSync {
  readonly worldSize: number;
  allReduceSum(x: T.Tensor): T.Tensor;
}

/**
 * y = (x − μ)/√(σ² + ε)·γ + β over x [B, C, n] (statistics over B and n on all ranks);
 * the running statistics move as BatchNorm's do (unbiased variance, momentum m).
 */
export function syncBatchNorm(
  sync: BatchNormSync,
  x: T.Tensor,
  weight: T.Tensor,
  bias: T.Tensor,
  runningMean: T.Tensor,
  runningVar: T.Tensor,
  momentum: number,
  eps: number,
): T.Tensor {
  const [b, c, n] = x.shape;
  const xf = x.float();
  // Every rank's batch has the same size (batches are cut drop-last from equal shards), so
  // the count is known without a collective or a device-to-host copy.
  const count = b * n * sync.worldSize;
  const mean = sync.allReduceSum(xf.sum([0, 2])).div(count);
  const centred = xf.sub(mean.view(1, c, 1));
  const variance = sync.allReduceSum(centred.mul(centred).sum([0, 2])).div(count);
  T.noGrad(() =>
    T.scope(() => {
      const unbiased = variance.detach().mul(count / Math.max(1, count - 1));
      T.call('aten::copy_', '', [runningMean, runningMean.mul(1 - momentum).add(mean.detach().mul(momentum))]);
      T.call('aten::copy_', '', [runningVar, runningVar.mul(1 - momentum).add(unbiased.mul(momentum))]);
    }),
  );
  const y = centred.div(variance.add(eps).sqrt().view(1, c, 1)).mul(weight.view(1, c, 1)).add(bias.view(1, c, 1));
  return y.to({ dtype: x.dtype });
}
