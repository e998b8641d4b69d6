/**
 * Cross-view alignment of spatial self-relations (spec §4.2).
 *
 * The reference resamples relation maps with bilinear grid sampling (zero padding,
 * align_corners = false). Sampling is linear, so resampling rows with grid γ_r and columns
 * with γ_c is Ã = W(γ_r)·R·W(γ_c)ᵀ, where W(γ) holds each sample point's four bilinear
 * weights over the token grid. Building W on the device and using two batched products is
 * exact and avoids grid_sample's scattered memory access.
 */
import * as T from '@sere/torch';

/**
 * Bilinear weight matrices for grids [..., S, S, 2] ((x, y) in [−1, 1]) over a g×g token map:
 * returns [..., S², g²] in float32. Out-of-range corners weigh 0, so border samples are
 * attenuated exactly as with zero padding.
 */
export function bilinearMatrix(grid: T.Tensor, g: number): T.Tensor {
  return T.noGrad(() =>
    T.scope(() => {
      const lead = grid.shape.slice(0, -3);
      const s2 = grid.shape[grid.ndim - 3] * grid.shape[grid.ndim - 2];
      const pts = grid.float().reshape(...lead, s2, 2);
      const xi = pts.select(-1, 0).add(1).mul(g).sub(1).div(2); // column coordinate ξ
      const eta = pts.select(-1, 1).add(1).mul(g).sub(1).div(2); // row coordinate η
      const x0 = T.call<T.Tensor>('aten::floor', '', [xi]);
      const y0 = T.call<T.Tensor>('aten::floor', '', [eta]);
      const fx = xi.sub(x0);
      const fy = eta.sub(y0);
      const idx: T.Tensor[] = [];
      const wts: T.Tensor[] = [];
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        const cx = x0.add(dx);
        const cy = y0.add(dy);
        const w = (dx ? fx : T.onesLike(fx).sub(fx)).mul(dy ? fy : T.onesLike(fy).sub(fy));
        const inside = T.call<T.Tensor>('aten::ge', 'Scalar', [cx, 0])
          .mul(T.call<T.Tensor>('aten::le', 'Scalar', [cx, g - 1]))
          .mul(T.call<T.Tensor>('aten::ge', 'Scalar', [cy, 0]))
          .mul(T.call<T.Tensor>('aten::le', 'Scalar', [cy, g - 1]));
        wts.push(w.mul(inside.float()));
        const clampedX = T.call<T.Tensor>('aten::clamp', '', [cx, 0, g - 1]);
        const clampedY = T.call<T.Tensor>('aten::clamp', '', [cy, 0, g - 1]);
        idx.push(clampedY.mul(g).add(clampedX).to({ dtype: 'int64' }));
      }
      const index = T.stack(idx, -1); // [..., S², 4]
      const weight = T.stack(wts, -1);
      const out = T.zeros([...lead, s2, g * g], { device: grid.device });
      return T.call<T.Tensor>('aten::scatter_add', '', [out, -1, index, weight]);
    }),
  );
}

/** Ã = W_r · R · W_cᵀ for relations [B, H, n, n] and per-image weights [B, S_r², n], [B, S_c², n]. */
export function resampleRelation(relation: T.Tensor, rows: T.Tensor, cols: T.Tensor): T.Tensor {
  const wr = rows.unsqueeze(-3).to({ dtype: relation.dtype });
  const wc = cols.unsqueeze(-3).to({ dtype: relation.dtype });
  return wr.matmul(relation).matmul(wc.transpose(-2, -1));
}
