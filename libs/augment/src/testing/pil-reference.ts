/**
 * Runs testing/pil_reference.py under Debian's /usr/bin/python3 (torchvision 0.14, Pillow)
 * to get reference outputs for fixed inputs. Test support only. A missing interpreter or
 * missing torchvision throws: the specs must fail, not skip, when the reference is absent.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

export const REFERENCE_PYTHON = '/usr/bin/python3';

import type { RgbImage } from '../crop';
import { Rng } from '../rng';

export type ReferenceOp =
  | { op: 'brightness' | 'contrast' | 'saturation' | 'hue'; factor: number }
  | { op: 'grayscale' | 'solarize' }
  | { op: 'blur'; radius: number }
  | { op: 'resized_crop'; top: number; left: number; height: number; width: number; size: number; flip?: boolean }
  | { op: 'sequence'; ops: ReferenceOp[] };

export function pilReference(img: RgbImage, ops: ReferenceOp[]): RgbImage[] {
  const parsed = runReferencePython(path.join(__dirname, 'pil_reference.py'), {
    width: img.width,
    height: img.height,
    rgb: Buffer.from(img.rgb.buffer, img.rgb.byteOffset, img.rgb.byteLength).toString('base64'),
    ops,
  }) as { outputs: { width: number; height: number; rgb: string }[] };
  return parsed.outputs.map((o) => ({ width: o.width, height: o.height, rgb: new Uint8Array(Buffer.from(o.rgb, 'base64')) }));
}

/** Runs a reference script with a JSON request on stdin and returns its JSON answer. */
export function runReferencePython(script: string, request: unknown): unknown {
  const res = spawnSync(REFERENCE_PYTHON, [script], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 256 << 20 });
  if (res.error) {
    throw new Error(`reference ops need ${REFERENCE_PYTHON} with torchvision 0.14 and Pillow: ${res.error.message}`);
  }
  if (res.status !== 0) {
    throw new Error(`reference script failed (${REFERENCE_PYTHON} ${script}, exit ${res.status}): ${res.stderr.trim()}`);
  }
  return JSON.parse(res.stdout);
}

/**
 * A small fixed test picture: smooth gradients, noise, saturated primaries and a grey ramp,
 * so every branch of the colour conversions (grey, each channel as maximum) is exercised.
 */
export function testPicture(width: number, height: number, seed = 1): RgbImage {
  const rng = Rng.forImage(seed, 0, 0);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const noise = (): number => rng.int(-20, 20);
      const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
      rgb[i] = clamp((255 * x) / (width - 1) + noise());
      rgb[i + 1] = clamp((255 * y) / (height - 1) + noise());
      rgb[i + 2] = clamp(128 + 100 * Math.sin((x + 2 * y) / 5) + noise());
    }
  }
  // A grey ramp on the first row and pure primaries on the second.
  for (let x = 0; x < width; x++) {
    const i = x * 3;
    rgb[i] = rgb[i + 1] = rgb[i + 2] = Math.round((255 * x) / (width - 1));
    const j = (width + x) * 3;
    rgb[j] = rgb[j + 1] = rgb[j + 2] = 0;
    rgb[j + (x % 3)] = 255 - (x % 7);
  }
  return { width, height, rgb };
}

/** Largest and mean absolute difference of two equally sized buffers. */
export function compare(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  if (a.length !== b.length) throw new Error(`compare: lengths differ (${a.length} vs ${b.length})`);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { max, mean: sum / a.length };
}
