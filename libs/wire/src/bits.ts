/** Masks travel as bits: a 14×14 iBOT mask is 196 bytes as Uint8Array and 25 bytes packed. */

export function packMask(mask: Uint8Array, out: Uint8Array, offset: number): void {
  const bytes = Math.ceil(mask.length / 8);
  out.fill(0, offset, offset + bytes);
  for (let k = 0; k < mask.length; k++) {
    if (mask[k]) out[offset + (k >> 3)] |= 1 << (k & 7);
  }
}

export function unpackMask(src: Uint8Array, offset: number, cells: number): Uint8Array {
  const mask = new Uint8Array(cells);
  for (let k = 0; k < cells; k++) mask[k] = (src[offset + (k >> 3)] >> (k & 7)) & 1;
  return mask;
}
