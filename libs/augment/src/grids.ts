/**
 * Overlap grids (spec §4.2): where the overlap of two crops lies inside each crop, as S×S
 * sample points in grid_sample's [-1, 1] frame. The reference computes them in float32,
 * so every intermediate here is rounded with Math.fround to land on the same values.
 */
import type { CropRect } from './types';

const f = Math.fround;

/** Value written where two crops do not overlap: every sample then falls outside the map. */
export const NO_OVERLAP = -2;

/**
 * grid(a, b, S) → [grid in crop a, grid in crop b], each float32 [S, S, 2] row-major with
 * (x, y) pairs; sample index i·S + j. Both are filled with -2 when the crops do not overlap.
 */
export function overlapGrids(a: CropRect, b: CropRect, size: number): [Float32Array, Float32Array] {
  if (!Number.isInteger(size) || size < 2) {
    throw new RangeError(`overlapGrids: grid size must be an integer >= 2, got ${size}`);
  }
  const x0 = Math.max(a.x0, b.x0);
  const y0 = Math.max(a.y0, b.y0);
  const x1 = Math.min(a.x0 + a.w, b.x0 + b.w);
  const y1 = Math.min(a.y0 + a.h, b.y0 + b.h);
  if (!(x0 < x1 && y0 < y1)) {
    return [new Float32Array(size * size * 2).fill(NO_OVERLAP), new Float32Array(size * size * 2).fill(NO_OVERLAP)];
  }
  return [gridInCrop(a, x0, y0, x1, y1, size), gridInCrop(b, x0, y0, x1, y1, size)];
}

/** The overlap box [x0, x1) × [y0, y1) sampled in crop c's normalised frame. */
function gridInCrop(c: CropRect, x0: number, y0: number, x1: number, y1: number, size: number): Float32Array {
  const u = axis(x0 - c.x0, x1 - x0, c.w, size);
  const v = axis(y0 - c.y0, y1 - y0, c.h, size);
  if (c.flip) for (let j = 0; j < size; j++) u[j] = f(1 - u[j]);
  const out = new Float32Array(size * size * 2);
  for (let i = 0; i < size; i++) {
    const y = f(f(2 * v[i]) - 1);
    for (let j = 0; j < size; j++) {
      const k = (i * size + j) * 2;
      out[k] = f(f(2 * u[j]) - 1);
      out[k + 1] = y;
    }
  }
  return out;
}

/**
 * start/extent + j·(length/extent)/(S−1), j = 0..S−1, evaluated left to right in float32:
 * (j·r)/(S−1) rather than j·(r/(S−1)) is the order that reproduces the fixtures bit for bit.
 */
function axis(start: number, length: number, extent: number, size: number): Float32Array {
  const first = f(f(start) / f(extent));
  const ratio = f(f(length) / f(extent));
  const out = new Float32Array(size);
  for (let j = 0; j < size; j++) out[j] = f(first + f(f(j * ratio) / (size - 1)));
  return out;
}
