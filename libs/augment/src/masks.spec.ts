import { blockMask, randMask, sampleMask, samplePredRatio, type MaskOptions } from './masks';
import { Rng } from './rng';

const G = 14; // 224 px / patch 16
const recipe: MaskOptions = { predRatio: [0, 0.3], predRatioVar: [0, 0.2], predShape: 'block', predStartEpoch: 0, epoch: 0 };
const count = (m: Uint8Array): number => m.reduce((a, b) => a + b, 0);

/** 4-connected components of the masked cells. */
function components(m: Uint8Array, rows: number, cols: number): number {
  const seen = new Uint8Array(m.length);
  let n = 0;
  for (let s = 0; s < m.length; s++) {
    if (!m[s] || seen[s]) continue;
    n++;
    const stack = [s];
    seen[s] = 1;
    while (stack.length) {
      const c = stack.pop()!;
      const r = Math.floor(c / cols);
      const k = c % cols;
      for (const [dr, dk] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
        const rr = r + dr;
        const kk = k + dk;
        const j = rr * cols + kk;
        if (rr >= 0 && rr < rows && kk >= 0 && kk < cols && m[j] && !seen[j]) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
  }
  return n;
}

describe('mask ratio (spec §5.2)', () => {
  it('draws the recipe ratio: none half of the time, else U(0.1, 0.5)', () => {
    const rng = Rng.forImage(1, 0, 0);
    const ratios = Array.from({ length: 8000 }, () => samplePredRatio(rng, [0, 0.3], [0, 0.2]));
    const zero = ratios.filter((r) => r === 0);
    const rest = ratios.filter((r) => r !== 0);
    expect(Math.abs(zero.length / ratios.length - 0.5)).toBeLessThan(0.025);
    expect(Math.min(...rest)).toBeGreaterThanOrEqual(0.1);
    expect(Math.max(...rest)).toBeLessThan(0.5);
    expect(Math.abs(rest.reduce((a, b) => a + b, 0) / rest.length - 0.3)).toBeLessThan(0.006);
  });

  it('uses a scalar ratio as is when its var is 0', () => {
    expect(samplePredRatio(Rng.forImage(1, 0, 0), 0.3, 0)).toBe(0.3);
  });

  it('refuses mismatched lists and var > ratio', () => {
    const rng = Rng.forImage(1, 0, 0);
    expect(() => samplePredRatio(rng, [0, 0.3], [0])).toThrow(/equal length/);
    expect(() => samplePredRatio(rng, 0.1, 0.2)).toThrow(/pred_ratio_var/);
  });
});

describe('block masks', () => {
  it('never exceed the target, nearly reach it, and come as a few blocks', () => {
    const rng = Rng.forImage(2, 0, 0);
    for (const ratio of [0.1, 0.3, 0.5]) {
      const target = ratio * G * G;
      const masks = Array.from({ length: 1500 }, () => blockMask(rng, G, G, ratio));
      const counts = masks.map(count);
      expect(Math.max(...counts)).toBeLessThanOrEqual(target);
      const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
      expect(mean / target).toBeGreaterThan(0.85);
      const blocks = masks.reduce((a, m) => a + components(m, G, G), 0) / masks.length;
      expect(blocks).toBeLessThan(0.25 * target); // random cells would give many more components
    }
  });

  it('use blocks of at least min_area = (14 // 3)^2 = 16 cells when the target allows', () => {
    const rng = Rng.forImage(3, 0, 0);
    // With a target of 20 cells the first block alone (area >= 16) decides: one block of >= 12 cells
    // (rounding of sqrt(area·aspect) can shave a little), at most 20.
    for (let i = 0; i < 500; i++) {
      const m = blockMask(rng, G, G, 20 / 196);
      const n = count(m);
      expect(n).toBeLessThanOrEqual(20);
      if (components(m, G, G) === 1) expect(n).toBeGreaterThanOrEqual(12);
    }
  });

  it('are deterministic for a seed', () => {
    const a = Array.from({ length: 20 }, (_, i) => sampleMask(Rng.forImage(9, 1, i), G, G, recipe));
    const b = Array.from({ length: 20 }, (_, i) => sampleMask(Rng.forImage(9, 1, i), G, G, recipe));
    expect(b).toEqual(a);
    expect(a.some((m) => count(m) > 0)).toBe(true);
  });

  it('are empty before pred_start_epoch', () => {
    const rng = Rng.forImage(4, 0, 0);
    for (let i = 0; i < 50; i++) {
      expect(count(sampleMask(rng, G, G, { ...recipe, predRatio: 0.3, predRatioVar: 0, predStartEpoch: 5, epoch: 4 }))).toBe(0);
    }
    expect(count(sampleMask(rng, G, G, { ...recipe, predRatio: 0.3, predRatioVar: 0, predStartEpoch: 5, epoch: 5 }))).toBeGreaterThan(0);
  });
});

describe('rand masks', () => {
  it('mask exactly floor(ratio·H·W) cells, spread uniformly', () => {
    const rng = Rng.forImage(5, 0, 0);
    const hits = new Float64Array(G * G);
    for (let i = 0; i < 2000; i++) {
      const ratio = rng.uniform(0.1, 0.5);
      const m = randMask(rng, G, G, ratio);
      expect(count(m)).toBe(Math.floor(ratio * G * G));
      m.forEach((v, j) => (hits[j] += v));
    }
    // Each cell is masked with probability 0.3 on average: 600 ± 20 of 2000.
    for (const h of hits) expect(Math.abs(h - 600)).toBeLessThan(100);
  });

  it('follow the recipe ratio through sampleMask', () => {
    const rng = Rng.forImage(6, 0, 0);
    const counts = Array.from({ length: 4000 }, () => count(sampleMask(rng, G, G, { ...recipe, predShape: 'rand' })));
    expect(Math.abs(counts.filter((c) => c === 0).length / counts.length - 0.5)).toBeLessThan(0.03);
    const masked = counts.filter((c) => c > 0);
    expect(Math.abs(masked.reduce((a, b) => a + b, 0) / masked.length - 0.3 * 196 + 0.5)).toBeLessThan(1.5);
  });
});
