/**
 * Photo-like synthetic JPEGs for the data benchmarks: smooth colour fields (a few random
 * sinusoids per channel), hard-edged shapes and sensor-like noise, so JPEG decoding and
 * the crops see ImageNet-like entropy (roughly 60-120 KB at quality 90 for 500x375).
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { Rng } from '@sere/augment';

export function photoLike(rng: Rng, width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const waves = Array.from({ length: 3 }, () =>
    Array.from({ length: 4 }, () => ({
      fx: rng.uniform(0.5, 12) / width,
      fy: rng.uniform(0.5, 12) / height,
      phase: rng.uniform(0, 2 * Math.PI),
      amp: rng.uniform(15, 45),
    })),
  );
  const base = [rng.uniform(60, 190), rng.uniform(60, 190), rng.uniform(60, 190)];
  const shapes = Array.from({ length: rng.int(6, 16) }, () => ({
    cx: rng.uniform(0, width),
    cy: rng.uniform(0, height),
    r: rng.uniform(10, Math.min(width, height) / 3),
    square: rng.bernoulli(0.5),
    colour: [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let inside: number[] | null = null;
      for (const s of shapes) {
        const dx = Math.abs(x - s.cx);
        const dy = Math.abs(y - s.cy);
        if (s.square ? dx < s.r && dy < s.r * 0.7 : dx * dx + dy * dy < s.r * s.r) inside = s.colour;
      }
      for (let c = 0; c < 3; c++) {
        let v = base[c];
        for (const w of waves[c]) v += w.amp * Math.sin(2 * Math.PI * (w.fx * x + w.fy * y) + w.phase);
        if (inside) v = 0.7 * inside[c] + 0.3 * v;
        v += (rng.next() - 0.5) * 24;
        rgb[(y * width + x) * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return rgb;
}

/** Writes `count` JPEGs (quality 90) of ImageNet's typical sizes into `dir`; returns their paths. */
export async function writeSyntheticJpegs(dir: string, count: number, seed = 0): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const sizes: [number, number][] = [[500, 375], [375, 500], [500, 333], [500, 400], [400, 500]];
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const rng = Rng.forImage(seed, 0, i);
    const [w, h] = sizes[i % sizes.length];
    const file = path.join(dir, `img_${String(i).padStart(4, '0')}.jpg`);
    await sharp(Buffer.from(photoLike(rng, w, h)), { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(file);
    paths.push(file);
  }
  return paths;
}
