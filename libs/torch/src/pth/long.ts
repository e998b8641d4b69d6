/**
 * Python ints of any size as LONG1 / LONG4 store them: minimal little-endian two's complement.
 * Both directions go through hex text, which BigInt parses and prints in time linear in the
 * length; shifting a byte at a time into a BigInt copies the whole number per byte (quadratic:
 * a 1 MiB integer took minutes).
 */

/**
 * The longest integer the reader accepts and the writer produces. Checkpoints hold small ints
 * (epochs, steps, seeds; generator states are tensors), and Python itself refuses to print ints
 * of more than 4,300 digits (about 1.8 KB) by default, so 4 KiB leaves room without letting one
 * opcode ask for megabytes of arithmetic.
 */
export const MAX_LONG_BYTES = 4096;

export function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  if (b.length <= 6) return Buffer.from(b.buffer, b.byteOffset, b.length).readIntLE(0, b.length);
  const hex = Buffer.from(b).reverse().toString('hex');
  let v = BigInt(`0x${hex}`);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return normaliseInt(v);
}

export function encodeLong(v: bigint): Buffer {
  if (v === 0n) return Buffer.alloc(0);
  // Bytes for the magnitude, plus one when the top bit would read as the wrong sign.
  const magnitude = v < 0n ? -v - 1n : v;
  let hex = magnitude.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let n = magnitude === 0n ? 1 : hex.length / 2;
  if (magnitude !== 0n && parseInt(hex.slice(0, 2), 16) & 0x80) n++;
  const u = v < 0n ? v + (1n << BigInt(8 * n)) : v;
  const bytes = Buffer.from(u.toString(16).padStart(2 * n, '0'), 'hex');
  return bytes.reverse();
}

export function normaliseInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
