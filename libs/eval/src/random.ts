/** Gaussian draws from the project's seeded generator (libs/augment's Rng). */
import type { Rng } from '@sere/augment';

/** One standard normal draw (Box–Muller; 1 − U keeps the logarithm finite). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** n draws from N(0, std²). */
export function normalArray(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = std * gaussian(rng);
  return out;
}
