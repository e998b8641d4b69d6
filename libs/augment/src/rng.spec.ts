import { Rng, epochPermutation, roundHalfEven } from './rng';

const draws = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.next());

describe('seeded generator', () => {
  it('gives the same stream for the same (seed, epoch, index) and different ones otherwise', () => {
    const a = draws(Rng.forImage(7, 3, 1234), 50);
    expect(draws(Rng.forImage(7, 3, 1234), 50)).toEqual(a);
    for (const other of [Rng.forImage(7, 3, 1235), Rng.forImage(7, 4, 1234), Rng.forImage(8, 3, 1234)]) {
      const b = draws(other, 50);
      expect(b.filter((x, i) => x === a[i]).length).toBe(0);
    }
  });

  it('separates large indices and seeds (high 32-bit words count)', () => {
    const a = draws(Rng.forImage(0, 0, 5), 4);
    expect(draws(Rng.forImage(0, 0, 5 + 2 ** 32), 4)).not.toEqual(a);
    expect(draws(Rng.forImage(2 ** 32, 0, 5), 4)).not.toEqual(a);
  });

  it('resumes from a saved state', () => {
    const rng = Rng.forImage(1, 2, 3);
    draws(rng, 17);
    const saved = rng.state();
    const rest = draws(rng, 20);
    expect(draws(Rng.fromState(saved), 20)).toEqual(rest);
  });

  it('draws uniform(a, b) in range with the right mean', () => {
    const rng = Rng.forImage(11, 0, 0);
    const xs = Array.from({ length: 20000 }, () => rng.uniform(-2, 3));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...xs)).toBeLessThan(3);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05); // sd of the mean ≈ 0.01
  });

  it('draws integers with both ends included, evenly', () => {
    const rng = Rng.forImage(12, 0, 0);
    const counts = new Array(7).fill(0);
    const n = 35000;
    for (let i = 0; i < n; i++) counts[rng.int(3, 9) - 3]++;
    for (const c of counts) expect(Math.abs(c - n / 7)).toBeLessThan(300); // sd ≈ 65
    expect(rng.int(5, 5)).toBe(5);
    expect(() => rng.int(4, 3)).toThrow(/a <= b/);
  });

  it('draws log-uniform values whose logs are uniform', () => {
    const rng = Rng.forImage(13, 0, 0);
    const xs = Array.from({ length: 20000 }, () => rng.logUniform(0.3, 1 / 0.3));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0.3 - 1e-12);
    expect(Math.max(...xs)).toBeLessThan(1 / 0.3);
    const meanLog = xs.reduce((a, b) => a + Math.log(b), 0) / xs.length;
    expect(Math.abs(meanLog)).toBeLessThan(0.03); // log range ±1.2, sd of the mean ≈ 0.005
  });

  it('makes bernoulli(p) true with frequency p, never for 0 and always for 1', () => {
    const rng = Rng.forImage(14, 0, 0);
    let hits = 0;
    for (let i = 0; i < 20000; i++) if (rng.bernoulli(0.2)) hits++;
    expect(Math.abs(hits / 20000 - 0.2)).toBeLessThan(0.015);
    const always = Array.from({ length: 1000 }, () => rng.bernoulli(1));
    const never = Array.from({ length: 1000 }, () => rng.bernoulli(0));
    expect(always.every((x) => x)).toBe(true);
    expect(never.some((x) => x)).toBe(false);
  });

  it('shuffles an epoch: a permutation, reproducible, different per epoch', () => {
    const p = epochPermutation(5, 0, 1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(epochPermutation(5, 0, 1000)).toEqual(p);
    const q = epochPermutation(5, 1, 1000);
    expect(q).not.toEqual(p);
    // Not the identity, and every position about equally likely to move.
    expect(Array.from(p).filter((v, i) => v === i).length).toBeLessThan(10);
  });

  it('rounds half to even like Python', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, 3].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3, 3]);
  });

  it('refuses negative or fractional key parts', () => {
    expect(() => Rng.forImage(-1, 0, 0)).toThrow(/seed/);
    expect(() => Rng.forImage(0, 0.5, 0)).toThrow(/epoch/);
  });
});
