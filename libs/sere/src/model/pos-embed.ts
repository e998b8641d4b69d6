/**
 * Positional-embedding interpolation for crops whose token grid differs from the table's
 * (spec §1.4). The reference resizes the table bicubically with scale factor
 * σ = (g + 0.1)/G0 and maps coordinates with σ itself, not g/G0; being linear, the resize is
 * a fixed matrix, which we build once per grid size and apply with one product.
 */
import * as T from '@sere/torch';

const A = -0.75;

function cubic(x: number): number {
  const ax = Math.abs(x);
  if (ax <= 1) return (A + 2) * ax ** 3 - (A + 3) * ax ** 2 + 1;
  if (ax < 2) return A * ax ** 3 - 5 * A * ax ** 2 + 8 * A * ax - 4 * A;
  return 0;
}

/** 1-D bicubic resize matrix [gOut, g0] (align_corners = false, edge taps clamped). */
export function bicubicMatrix(g0: number, gOut: number, scale: number): Float64Array {
  const m = new Float64Array(gOut * g0);
  for (let o = 0; o < gOut; o++) {
    const src = (o + 0.5) / scale - 0.5;
    const f = Math.floor(src);
    const t = src - f;
    const weights = [cubic(t + 1), cubic(t), cubic(1 - t), cubic(2 - t)];
    for (let k = 0; k < 4; k++) {
      const idx = Math.min(Math.max(f - 1 + k, 0), g0 - 1);
      m[o * g0 + idx] += weights[k];
    }
  }
  return m;
}

/** 2-D resize matrix [gOut², g0²] for row-major token grids: the Kronecker product of the 1-D ones. */
export function posEmbedResizeMatrix(g0: number, gOut: number): Float32Array {
  const scale = (gOut + 0.1) / g0;
  if (Math.floor(g0 * scale) !== gOut) throw new Error(`position table of ${g0}x${g0} cannot be resized to ${gOut}x${gOut}`);
  const m = bicubicMatrix(g0, gOut, scale);
  const out = new Float32Array(gOut * gOut * g0 * g0);
  for (let i = 0; i < gOut; i++)
    for (let j = 0; j < gOut; j++)
      for (let a = 0; a < g0; a++) {
        const wa = m[i * g0 + a];
        if (wa === 0) continue;
        for (let b = 0; b < g0; b++) out[(i * gOut + j) * g0 * g0 + a * g0 + b] = wa * m[j * g0 + b];
      }
  return out;
}

/**
 * The positional embedding for a gOut x gOut token grid: the CLS row as is, the patch rows
 * resized. Resize matrices are cached per (device, sizes) and kept alive.
 */
export class PosEmbedInterpolator {
  private cache = new Map<string, T.Tensor>();

  apply(posEmbed: T.Tensor, gOut: number): T.Tensor {
    const n0 = posEmbed.shape[1] - 1;
    const g0 = Math.round(Math.sqrt(n0));
    if (gOut * gOut === n0) return posEmbed;
    const key = `${posEmbed.device}:${g0}:${gOut}`;
    let m = this.cache.get(key);
    if (!m) {
      m = T.keep(T.tensor(posEmbedResizeMatrix(g0, gOut), [gOut * gOut, g0 * g0], { device: posEmbed.device }));
      this.cache.set(key, m);
    }
    const cls = posEmbed.slice(1, 0, 1);
    const patches = posEmbed.slice(1, 1, n0 + 1);
    return T.cat([cls, m.to({ dtype: posEmbed.dtype }).matmul(patches)], 1);
  }

  dispose(): void {
    for (const t of this.cache.values()) t.dispose();
    this.cache.clear();
  }
}
