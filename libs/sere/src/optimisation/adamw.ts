/**
 * The optimiser of the reference loop (spec §6): SERE's two parameter groups (with and
 * without weight decay) and AdamW.
 */
import * as T from '@sere/torch';

export interface ParamGroups {
  /** Weight decay from the schedule: biases and every tensor of ≥ 2 dimensions (spec §9.3). */
  regularized: [string, T.Tensor][];
  /** Weight decay 0: 1-D tensors not ending in ".bias" (LayerNorm / BatchNorm scales). */
  notRegularized: [string, T.Tensor][];
}

export function paramGroups(named: [string, T.Tensor][]): ParamGroups {
  const groups: ParamGroups = { regularized: [], notRegularized: [] };
  for (const entry of named) {
    const [name, t] = entry;
    if (!t.requiresGrad) continue;
    if (name.endsWith('.bias') || t.ndim >= 2) groups.regularized.push(entry);
    else groups.notRegularized.push(entry);
  }
  return groups;
}

export interface AdamWState {
  step: number;
  expAvg: T.Tensor;
  expAvgSq: T.Tensor;
}

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
}

/**
 * AdamW as torch.optim.AdamW (decoupled decay p ← p·(1 − lr·wd), bias-corrected moments).
 * Parameters without a gradient are skipped entirely: neither updated, decayed nor
 * counted, as in PyTorch. Parameters sharing a step count are updated with multi-tensor
 * (_foreach_) kernels.
 */
export class AdamW {
  readonly state = new Map<string, AdamWState>();

  constructor(
    readonly groups: ParamGroups,
    readonly opts: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  ) {}

  step(lr: number, weightDecay: [number, number]): void {
    T.noGrad(() =>
      T.scope(() => {
        this.updateGroup(this.groups.regularized, lr, weightDecay[0]);
        this.updateGroup(this.groups.notRegularized, lr, weightDecay[1]);
      }),
    );
  }

  private updateGroup(group: [string, T.Tensor][], lr: number, wd: number): void {
    const byStep = new Map<number, { params: T.Tensor[]; grads: T.Tensor[]; m: T.Tensor[]; v: T.Tensor[] }>();
    for (const [name, p] of group) {
      const g = p.grad;
      if (!g) continue;
      let st = this.state.get(name);
      if (!st) {
        st = { step: 0, expAvg: T.keep(T.zerosLike(p)), expAvgSq: T.keep(T.zerosLike(p)) };
        this.state.set(name, st);
      }
      st.step += 1;
      let bucket = byStep.get(st.step);
      if (!bucket) byStep.set(st.step, (bucket = { params: [], grads: [], m: [], v: [] }));
      bucket.params.push(p);
      bucket.grads.push(g);
      bucket.m.push(st.expAvg);
      bucket.v.push(st.expAvgSq);
    }
    const { beta1, beta2, eps } = this.opts;
    for (const [step, b] of byStep) {
      const bc1 = 1 - beta1 ** step;
      const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
      if (wd !== 0) T.call('aten::_foreach_mul_', 'Scalar', [b.params, 1 - lr * wd]);
      T.call('aten::_foreach_mul_', 'Scalar', [b.m, beta1]);
      T.call('aten::_foreach_add_', 'List', [b.m, b.grads, 1 - beta1]);
      T.call('aten::_foreach_mul_', 'Scalar', [b.v, beta2]);
      T.call('aten::_foreach_addcmul_', 'Scalar', [b.v, b.grads, b.grads, 1 - beta2]);
      const denom = T.call<T.Tensor[]>('aten::_foreach_sqrt', '', [b.v]);
      T.call('aten::_foreach_div_', 'Scalar', [denom, bc2Sqrt]);
      T.call('aten::_foreach_add_', 'Scalar', [denom, eps]);
      T.call('aten::_foreach_addcdiv_', 'Scalar', [b.params, b.m, denom, -lr / bc1]);
    }
  }

  zeroGrad(): void {
    for (const [, p] of [...this.groups.regularized, ...this.groups.notRegularized]) p.grad = null;
  }

  dispose(): void {
    for (const st of this.state.values()) {
      st.expAvg.dispose();
      st.expAvgSq.dispose();
    }
    this.state.clear();
  }
}
