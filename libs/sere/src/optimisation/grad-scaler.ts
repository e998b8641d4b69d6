/**
 * Dynamic loss scaling for fp16 (spec §6): initial scale 2^16, doubled after 2000 clean
 * steps, halved (and the step skipped) when a gradient is inf/NaN — torch.cuda.amp.GradScaler's
 * rule, with its own fused kernels.
 */
import * as T from '@sere/torch';

export class GradScaler {
  readonly scaleTensor: T.Tensor;
  private readonly growthTracker: T.Tensor;
  private foundInf: T.Tensor;

  constructor(
    device: string,
    initScale = 2 ** 16,
    readonly growthFactor = 2,
    readonly backoffFactor = 0.5,
    readonly growthInterval = 2000,
  ) {
    this.scaleTensor = T.keep(T.full([], initScale, { device }));
    this.growthTracker = T.keep(T.zeros([], { device, dtype: 'int32' }));
    this.foundInf = T.keep(T.zeros([], { device }));
  }

  scale(loss: T.Tensor): T.Tensor {
    return loss.mul(this.scaleTensor.to({ dtype: loss.dtype }));
  }

  /** Divides every gradient by the scale; returns true when one held inf/NaN (skip the step). */
  unscale(params: T.Tensor[]): boolean {
    return T.noGrad(() =>
      T.scope(() => {
        T.call('aten::zero_', '', [this.foundInf]);
        const grads = params.map((p) => p.grad).filter((g): g is T.Tensor => !!g);
        const inv = this.scaleTensor.double().reciprocal().float();
        T.call('aten::_amp_foreach_non_finite_check_and_unscale_', '', [grads, this.foundInf, inv]);
        return this.foundInf.item() > 0;
      }),
    );
  }

  update(): void {
    T.noGrad(() =>
      T.call('aten::_amp_update_scale_', '', [this.scaleTensor, this.growthTracker, this.foundInf, this.growthFactor, this.backoffFactor, this.growthInterval]),
    );
  }

  get value(): number {
    return this.scaleTensor.item();
  }

  dispose(): void {
    this.scaleTensor.dispose();
    this.growthTracker.dispose();
    this.foundInf.dispose();
  }
}
