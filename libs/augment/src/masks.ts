/**
 * Masks for masked image modelling on the global crops' token grid (spec §5.2): a mask
 * ratio drawn per crop, then BEiT-style blocks ('block') or uniformly chosen cells ('rand').
 * Masks are row-major Uint8Array (1 = masked).
 */
import { roundHalfEven, type Rng } from './rng';

export type PredShape = 'block' | 'rand';

export interface MaskOptions {
  predRatio: number | readonly number[];
  predRatioVar: number | readonly number[];
  predShape: PredShape;
  predStartEpoch: number;
  epoch: number;
}

/** Block aspect-ratio limits, hard-coded in the reference training script. */
export const BLOCK_ASPECT: readonly [number, number] = [0.3, 1 / 0.3];
const BLOCK_ATTEMPTS = 10;

/**
 * One crop's mask ratio: per list entry U(m − v, m + v) (or m when v = 0), then one entry
 * chosen uniformly. The recipes' [0, 0.3] ± [0, 0.2] give no mask half the time, else U(0.1, 0.5).
 */
export function samplePredRatio(rng: Rng, predRatio: number | readonly number[], predRatioVar: number | readonly number[]): number {
  const means = typeof predRatio === 'number' ? [predRatio] : predRatio;
  const vars = typeof predRatioVar === 'number' ? [predRatioVar] : predRatioVar;
  if (means.length === 0 || means.length !== vars.length) {
    throw new RangeError(
      `pred_ratio (${means.length} values) and pred_ratio_var (${vars.length} values) must be non-empty and of equal length`,
    );
  }
  const candidates = means.map((m, i) => {
    const v = vars[i];
    if (!(m >= v && v >= 0 && m + v <= 1)) {
      throw new RangeError(`pred_ratio ${m} ± pred_ratio_var ${v} must satisfy 0 <= var <= ratio and ratio + var <= 1`);
    }
    return v > 0 ? rng.uniform(m - v, m + v) : m;
  });
  return candidates.length === 1 ? candidates[0] : candidates[rng.int(0, candidates.length - 1)];
}

/** The mask of one global crop on a rows × cols grid (all zero before pred_start_epoch). */
export function sampleMask(rng: Rng, rows: number, cols: number, opts: MaskOptions): Uint8Array {
  if (opts.epoch < opts.predStartEpoch) return new Uint8Array(rows * cols);
  const ratio = samplePredRatio(rng, opts.predRatio, opts.predRatioVar);
  if (opts.predShape === 'block') return blockMask(rng, rows, cols, ratio);
  if (opts.predShape === 'rand') return randMask(rng, rows, cols, ratio);
  throw new RangeError(`pred_shape must be 'block' or 'rand', got '${String(opts.predShape)}'`);
}

/**
 * Adds blocks until ratio·rows·cols cells are masked. Each round tries up to 10 blocks of
 * area U(min_area, remaining) and log-uniform aspect; a block counts only if it adds at
 * least one and at most `remaining` new cells. A round with no success ends the mask, so
 * the count never exceeds the target and may fall short of it.
 */
export function blockMask(rng: Rng, rows: number, cols: number, ratio: number): Uint8Array {
  const mask = new Uint8Array(rows * cols);
  const target = ratio * rows * cols;
  const minArea = Math.floor(Math.min(rows, cols) / 3) ** 2;
  let count = 0;
  while (count < target) {
    const remaining = target - count;
    let added = 0;
    for (let attempt = 0; attempt < BLOCK_ATTEMPTS && added === 0; attempt++) {
      const area = rng.uniform(minArea, remaining);
      const aspect = rng.logUniform(BLOCK_ASPECT[0], BLOCK_ASPECT[1]);
      const h = roundHalfEven(Math.sqrt(area * aspect));
      const w = roundHalfEven(Math.sqrt(area / aspect));
      if (w < cols && h < rows) {
        const top = rng.int(0, rows - h);
        const left = rng.int(0, cols - w);
        let fresh = 0;
        for (let i = top; i < top + h; i++) for (let j = left; j < left + w; j++) fresh += 1 - mask[i * cols + j];
        if (fresh > 0 && fresh <= remaining) {
          for (let i = top; i < top + h; i++) for (let j = left; j < left + w; j++) mask[i * cols + j] = 1;
          added = fresh;
        }
      }
    }
    if (added === 0) break;
    count += added;
  }
  return mask;
}

/** Exactly ⌊ratio·rows·cols⌋ cells, chosen uniformly (partial Fisher–Yates). */
export function randMask(rng: Rng, rows: number, cols: number, ratio: number): Uint8Array {
  const n = rows * cols;
  const k = Math.floor(ratio * n);
  const cells = new Uint32Array(n);
  for (let i = 0; i < n; i++) cells[i] = i;
  const mask = new Uint8Array(n);
  for (let i = 0; i < k; i++) {
    const j = rng.int(i, n - 1);
    const t = cells[i];
    cells[i] = cells[j];
    cells[j] = t;
    mask[cells[i]] = 1;
  }
  return mask;
}
