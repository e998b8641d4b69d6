import * as zlib from 'node:zlib';
import type { MultiCropSample } from '@sere/augment';

/**
 * CRC-32 over everything a sample carries except its pixels' encoding: index, label, every
 * view's pixels and rect, masks and grids. Producer and consumer compute it independently
 * to prove a sample crossed the broker unchanged (with the raw codec; lossy codecs change pixels).
 */
export function sampleChecksum(s: MultiCropSample, opts: { pixels?: boolean } = {}): number {
  const withPixels = opts.pixels ?? true;
  const head = Buffer.alloc(8);
  head.writeUInt32LE(s.index, 0);
  head.writeUInt32LE(s.label, 4);
  let crc = zlib.crc32(head);
  for (const v of s.views) {
    const r = Buffer.alloc(36);
    r.writeDoubleLE(v.rect.x0, 0);
    r.writeDoubleLE(v.rect.y0, 8);
    r.writeDoubleLE(v.rect.w, 16);
    r.writeDoubleLE(v.rect.h, 24);
    r.writeUInt32LE(v.rect.flip ? 1 : 0, 32);
    crc = zlib.crc32(r, crc);
    if (withPixels) crc = zlib.crc32(v.rgb, crc);
  }
  for (const m of s.masks) crc = zlib.crc32(m, crc);
  for (const g of [...s.gridsGlobal1, ...s.gridsGlobal2, ...s.gridsLocal, ...s.gridsGlobalSide]) {
    crc = zlib.crc32(new Uint8Array(g.buffer, g.byteOffset, g.byteLength), crc);
  }
  return crc >>> 0;
}
