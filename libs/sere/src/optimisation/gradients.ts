/**
 * What happens to the student's gradients between backward and the optimiser step
 * (spec §6, §9.4): per-parameter clipping, then dropping the last layer's gradients while
 * it is frozen.
 */
import * as T from '@sere/torch';

/**
 * g ← g·min(1, clip/(‖g‖₂ + 1e−6)) for every parameter on its own (spec §9.4). The factor
 * is applied even when it is 1, so no value has to travel to the host per parameter.
 * Returns the norms before clipping [P].
 */
export function clipGradientsPerParameter(params: T.Tensor[], clip: number): T.Tensor | null {
  if (clip <= 0) return null;
  return T.noGrad(() => {
    const grads: T.Tensor[] = [];
    for (const p of params) {
      const g = p.grad;
      if (g) grads.push(g);
    }
    if (!grads.length) return null;
    const norms = T.stack(
      T.hasOp('aten::_foreach_norm', 'Scalar') ? T.call<T.Tensor[]>('aten::_foreach_norm', 'Scalar', [grads, 2]) : grads.map((g) => T.norm(g, [...Array(g.ndim).keys()])),
      0,
    );
    const factors = T.call<T.Tensor>('aten::clamp_max', '', [norms.add(1e-6).reciprocal().mul(clip), 1]);
    grads.forEach((g, i) => T.call('aten::mul_', 'Tensor', [g, factors.select(0, i)]));
    for (const g of grads) g.dispose();
    return norms;
  });
}

/** While epoch < freeze_last_layer, drop the gradients of every "last_layer" parameter. */
export function cancelLastLayerGradients(named: [string, T.Tensor][], epoch: number, freezeLastLayer: number): string[] {
  if (epoch >= freezeLastLayer) return [];
  const cancelled: string[] = [];
  for (const [name, p] of named) {
    if (name.includes('last_layer') && p.requiresGrad) {
      p.grad = null;
      cancelled.push(name);
    }
  }
  return cancelled;
}
