/** LONG1 / LONG4 integers: exact in both directions, linear in their length, bounded in a file. */
import { PthError, readPth, writePth } from './index';
import { MAX_LONG_BYTES, decodeLong, encodeLong } from './long';
import { pickleBytes, pthWithPickle, seeded } from './spec-helpers';

/** The textbook definition, one byte at a time (quadratic, so only for short inputs). */
function naive(b: Buffer): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b.length && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v;
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const long4 = (body: Buffer): Buffer => pickleBytes(0x80, 2, 0x8b, u32(body.length), body, '.');
const read = (pkl: Buffer): unknown => readPth(pthWithPickle(pkl), 'crafted.pth');

describe('decodeLong / encodeLong', () => {
  it('agree with the byte-at-a-time definition on random integers of every short length', () => {
    const rng = seeded(17);
    for (let n = 0; n <= 40; n++) {
      for (let trial = 0; trial < 20; trial++) {
        const b = Buffer.from(Array.from({ length: n }, () => Math.floor(rng() * 256)));
        const want = naive(b);
        expect(BigInt(decodeLong(b))).toBe(want);
        // The encoding is minimal: it round-trips, and is never longer than the input.
        const e = encodeLong(want);
        expect(naive(e)).toBe(want);
        expect(e.length).toBeLessThanOrEqual(n);
      }
    }
  });

  it('encodes the sign boundaries minimally', () => {
    const hex = (v: bigint): string => encodeLong(v).toString('hex');
    expect([0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 256n, 2n ** 63n, -(2n ** 63n)].map(hex)).toEqual([
      '', '01', 'ff', '7f', '8000', '80', '7fff', 'ff00', '0001', '000000000000008000', '0000000000000080',
    ]);
  });

  // Work is counted rather than timed (a synchronous test cannot time out): building the number
  // a byte at a time converts every byte to a BigInt and copies the whole number each time
  // (quadratic: 512 KiB took 146 s); linear decoding converts a constant number of times.
  it('decodes and encodes with a number of BigInt conversions that does not grow with the length', () => {
    const conversions = (n: number): number => {
      const pow = Buffer.alloc(n);
      pow[n - 2] = 1; // 2^(8(n-2)), positive
      const neg = Buffer.alloc(n);
      neg[n - 1] = 0x80; // the most negative n-byte integer
      const spy = jest.spyOn(globalThis, 'BigInt');
      try {
        expect(decodeLong(pow)).toBe(1n << BigInt(8 * (n - 2)));
        expect(decodeLong(neg)).toBe(-(1n << BigInt(8 * n - 1)));
        spy.mockClear();
        decodeLong(pow);
        decodeLong(neg);
        encodeLong(1n << BigInt(8 * (n - 2)));
        encodeLong(-(1n << BigInt(8 * n - 1)));
        return spy.mock.calls.length;
      } finally {
        spy.mockRestore();
      }
    };
    const few = conversions(64);
    expect(few).toBeLessThan(16);
    expect(conversions(64 << 10)).toBe(few);
    expect(encodeLong(-(1n << BigInt(8 * (64 << 10) - 1))).equals(Buffer.concat([Buffer.alloc((64 << 10) - 1), Buffer.from([0x80])]))).toBe(true);
  });
});

describe('readPth bounds the integers a file may hold', () => {
  it(`reads a LONG4 of ${MAX_LONG_BYTES} bytes`, () => {
    const body = Buffer.alloc(MAX_LONG_BYTES);
    body[MAX_LONG_BYTES - 2] = 3;
    expect(read(long4(body))).toBe(3n << BigInt(8 * (MAX_LONG_BYTES - 2)));
  });

  it('refuses a longer LONG4 or LONG before decoding it, naming the file and the record', () => {
    const big = Buffer.alloc(1 << 20, 0x5a);
    expect(() => read(long4(big))).toThrow(PthError);
    expect(() => read(long4(big))).toThrow(
      `crafted.pth: archive/data.pkl: byte 2: LONG4 integer of 1048576 bytes is longer than the ${MAX_LONG_BYTES} a checkpoint may hold`,
    );
    const digits = pickleBytes('L', '7'.repeat(20_000), 'L\n.');
    expect(() => read(digits)).toThrow(/crafted\.pth: archive\/data\.pkl: byte 0: LONG integer of 20000 digits is longer than/);
  });

  it('writes what it reads and refuses what it would not read', () => {
    const ok = 2n ** BigInt(8 * MAX_LONG_BYTES - 1) - 1n;
    expect(readPth(writePth({ v: ok }))).toEqual({ v: ok });
    expect(() => writePth({ v: ok + 1n })).toThrow(`writePth: value["v"]: integer of ${MAX_LONG_BYTES + 1} bytes is longer than the ${MAX_LONG_BYTES} readPth accepts`);
  });
});
