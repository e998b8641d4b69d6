import type { CropRect, MultiCropSample, View } from '@sere/augment';

/**
 * A MultiCropSample with the right shapes and deterministic contents, made without decoding
 * any image: for tests and benchmarks of the wire format and the Kafka path, which must not
 * depend on the view pipeline's numerics.
 */
export interface StandInOptions {
  globalSize?: number;
  localSize?: number;
  locals?: number;
  maskGrid?: number;
  overlap?: [number, number];
  localGrid?: number;
}

function lcg(seed: number): () => number {
  let s = (seed >>> 0) || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

function view(size: number, rand: () => number): View {
  const rgb = new Uint8Array(size * size * 3);
  // Smooth gradients with a little noise: compressible like a photo, never constant.
  const a = rand() * 255;
  const b = rand() * 2;
  const c = rand() * 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const k = (y * size + x) * 3;
      rgb[k] = (a + b * x + rand() * 8) & 255;
      rgb[k + 1] = (a * 0.5 + c * y + rand() * 8) & 255;
      rgb[k + 2] = (b * x + c * y + rand() * 8) & 255;
    }
  }
  const rect: CropRect = { x0: Math.floor(rand() * 100), y0: Math.floor(rand() * 100), w: 50 + Math.floor(rand() * 200), h: 50 + Math.floor(rand() * 200), flip: rand() < 0.5 };
  return { size, rgb, rect };
}

function grid(side: number, rand: () => number): Float32Array {
  const g = new Float32Array(side * side * 2);
  if (rand() < 0.2) return g.fill(-2);
  for (let k = 0; k < g.length; k++) g[k] = rand() * 2 - 1;
  return g;
}

export function standInSample(index: number, label: number, opts: StandInOptions = {}): MultiCropSample {
  const rand = lcg(index * 2654435761 + label);
  const gs = opts.globalSize ?? 224;
  const ls = opts.localSize ?? 96;
  const L = opts.locals ?? 10;
  const mg = opts.maskGrid ?? 14;
  const [s1, s2] = opts.overlap ?? [13, 13];
  const lg = opts.localGrid ?? 6;
  const mask = () => Uint8Array.from({ length: mg * mg }, () => (rand() < 0.3 ? 1 : 0));
  return {
    index,
    label,
    views: [view(gs, rand), view(gs, rand), ...Array.from({ length: L }, () => view(ls, rand))],
    masks: [mask(), mask()],
    maskGrid: mg,
    gridsGlobal1: [grid(s1, rand), grid(s1, rand)],
    gridsGlobal2: [grid(s2, rand), grid(s2, rand)],
    gridsLocal: Array.from({ length: 2 * L }, () => grid(lg, rand)),
    gridsGlobalSide: Array.from({ length: 2 * L }, () => grid(lg, rand)),
  };
}
