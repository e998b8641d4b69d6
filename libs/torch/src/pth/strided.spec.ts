import { seeded } from './spec-helpers';
import { materialize } from './strided';

const fail = (d: string): never => {
  throw new Error(d);
};

/** The obvious per-element definition the fast paths must agree with. */
function naive(storage: Buffer, itemSize: number, offset: number, size: number[], stride: number[]): Buffer {
  const numel = size.reduce((a, b) => a * b, 1);
  const out = Buffer.alloc(numel * itemSize);
  for (let i = 0; i < numel; i++) {
    let rest = i;
    let src = offset;
    for (let d = size.length - 1; d >= 0; d--) {
      src += (rest % size[d]) * stride[d];
      rest = Math.floor(rest / size[d]);
    }
    storage.copy(out, i * itemSize, src * itemSize, (src + 1) * itemSize);
  }
  return out;
}

describe('materialize', () => {
  it('matches the per-element definition on random views of every item size', () => {
    const rng = seeded(11);
    const int = (n: number): number => Math.floor(rng() * n);
    for (let trial = 0; trial < 400; trial++) {
      const itemSize = [1, 2, 4, 8][trial % 4];
      const rank = int(5);
      const size = Array.from({ length: rank }, () => 1 + int(4));
      // Random permutation of contiguous strides, occasionally a broadcast (0) or a step.
      const contiguous: number[] = [];
      for (let d = rank - 1, s = 1; d >= 0; d--) {
        contiguous[d] = s;
        s *= size[d] * (1 + int(2));
      }
      const stride = contiguous.map((s) => (rng() < 0.1 ? 0 : s)).sort(() => rng() - 0.5);
      const offset = int(5);
      const extent = offset + size.reduce((acc, n, d) => acc + (n - 1) * stride[d], 0) + 1 + int(3);
      // Odd byteOffset: typed-array paths must cope with unaligned storages.
      const backing = Buffer.alloc(extent * itemSize + 1);
      for (let i = 0; i < backing.length; i++) backing[i] = int(256);
      const storage = backing.subarray(1);
      const got = materialize(storage, itemSize, offset, size, stride, fail);
      expect(got.equals(naive(storage, itemSize, offset, size, stride))).toBe(true);
    }
  });

  it('returns contiguous views without copying', () => {
    const storage = Buffer.alloc(64);
    const v = materialize(storage, 4, 2, [2, 3], [3, 1], fail);
    expect(v.buffer).toBe(storage.buffer);
    expect(v.byteOffset - storage.byteOffset).toBe(8);
    expect(v).toHaveLength(24);
  });

  it('rejects views that reach past the storage', () => {
    expect(() => materialize(Buffer.alloc(16), 4, 1, [2, 2], [2, 1], fail)).toThrow(/reads element 4, but its storage holds 4/);
  });

  it('gives empty tensors without looking at the storage', () => {
    expect(materialize(Buffer.alloc(0), 4, 100, [0, 3], [3, 1], fail)).toHaveLength(0);
  });
});
