/**
 * Seeded randomness for the view pipeline.
 *
 * The bit source is pure-rand's xoroshiro128+ (the generator library behind fast-check):
 * plain TypeScript with no native code, a serialisable 128-bit state (getState /
 * fromState) so a stream can be saved and resumed, and fast 32-bit steps. Version 7 is
 * pinned because 8.x publishes only sub-path exports, which this repository's
 * `moduleResolution: node10` cannot type-check.
 *
 * Every image gets its own stream, derived by hashing (seed, epoch, image index), so any
 * worker can rebuild any image's views without replaying the draws of other images.
 */
import { xoroshiro128plus, type RandomGenerator } from 'pure-rand';

/** Domain tags keep the per-image streams and the epoch shuffle streams apart. */
const DOMAIN_IMAGE = 0x696d6167; // 'imag'
const DOMAIN_SHUFFLE = 0x73687566; // 'shuf'

/** MurmurHash3's 32-bit finaliser: full avalanche, so neighbouring indices give unrelated words. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Splits a non-negative safe integer into its low and high 32-bit words. */
function words(name: string, value: number): [number, number] {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`rng: ${name} must be a non-negative safe integer, got ${value}`);
  }
  return [value >>> 0, Math.floor(value / 0x100000000) >>> 0];
}

/** Hashes the key words into one 32-bit word; `lane` selects one of the four state words. */
function hashKey(key: number[], lane: number): number {
  let h = fmix32(0x9e3779b9 ^ Math.imul(lane + 1, 0x27d4eb2f));
  for (const w of key) {
    h = fmix32(h ^ fmix32(Math.imul(w ^ lane, 0xcc9e2d51) + 0x1b873593));
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return fmix32(h ^ key.length);
}

function stateFromKey(key: number[]): number[] {
  const state: number[] = [0, 1, 2, 3].map((lane) => hashKey(key, lane) | 0);
  // xoroshiro's all-zero state is a fixed point; one set bit is enough to leave it.
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  return state;
}

/** A seeded stream of draws. Not thread-safe; one per image (or per shuffle). */
export class Rng {
  private readonly gen: RandomGenerator;

  constructor(gen: RandomGenerator) {
    this.gen = gen;
  }

  /** The stream for one image of one epoch; identical on every worker. */
  static forImage(seed: number, epoch: number, index: number): Rng {
    return Rng.fromKey([DOMAIN_IMAGE, ...words('seed', seed), ...words('epoch', epoch), ...words('index', index)]);
  }

  /** The stream that shuffles the dataset order of one epoch. */
  static forShuffle(seed: number, epoch: number): Rng {
    return Rng.fromKey([DOMAIN_SHUFFLE, ...words('seed', seed), ...words('epoch', epoch)]);
  }

  static fromKey(key: number[]): Rng {
    return new Rng(xoroshiro128plus.fromState(stateFromKey(key)));
  }

  /** Resumes a stream saved with `state()`. */
  static fromState(state: readonly number[]): Rng {
    return new Rng(xoroshiro128plus.fromState(state));
  }

  state(): readonly number[] {
    return this.gen.getState();
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.gen.unsafeNext() >>> 5; // 27 bits
    const lo = this.gen.unsafeNext() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [a, b) (Python's random.uniform convention: a + (b - a)·U, also for a > b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  /** Uniform integer in [a, b], both ends included, without modulo bias. */
  int(a: number, b: number): number {
    if (!Number.isInteger(a) || !Number.isInteger(b) || b < a) {
      throw new RangeError(`rng.int: expected integers a <= b, got [${a}, ${b}]`);
    }
    const range = b - a + 1;
    if (range > 0x100000000) throw new RangeError(`rng.int: range ${range} exceeds 2^32`);
    if (range === 1) return a;
    // Rejection sampling on 32-bit words: accept only the largest multiple of `range`.
    const limit = 0x100000000 - (0x100000000 % range);
    for (;;) {
      const u = this.gen.unsafeNext() >>> 0;
      if (u < limit) return a + (u % range);
    }
  }

  /** exp(U(log a, log b)): the aspect-ratio draw of random-resized-crop and block masks. */
  logUniform(a: number, b: number): number {
    return Math.exp(this.uniform(Math.log(a), Math.log(b)));
  }

  /** True with probability p (p = 1 is always true, p = 0 never). */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Uint32Array {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }
}

/** The dataset order of one epoch: the same on every worker for the same (seed, epoch). */
export function epochPermutation(seed: number, epoch: number, n: number): Uint32Array {
  return Rng.forShuffle(seed, epoch).permutation(n);
}

/** Rounds half to even, as Python's round() does (crop sizes and block-mask sides). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
