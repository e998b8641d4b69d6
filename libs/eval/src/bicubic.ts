/**
 * Bicubic resize of an interleaved RGB uint8 image to any width × height, with the result of
 * Pillow's Image.resize(BICUBIC) — what torchvision's Resize does to a PIL image, so the
 * eval transform gives the pixels the reference evaluations see.
 *
 * Why not sharp or libs/augment's kernels: those reproduce Pillow too but only for square
 * outputs (its views), and the eval transform's "shorter side to 256" is not square (the
 * taps are shared with them: pillowBicubicTaps); sharp's
 * cubic matched Pillow within 2 levels when shrinking but differed by up to 56 levels (mean
 * 6–8) when enlarging 96–128 px demo images, which is exactly the demo's case.
 *
 * Pillow's algorithm: Keys cubic with a = −0.5, support widened by the down-scale factor
 * (antialiasing), taps clamped to the image, weights normalised and quantised to 22-bit
 * fixed point, a horizontal pass to an 8-bit intermediate, then a vertical pass. Only the
 * output window asked for is computed (the centre crop), which gives the same pixels as
 * resizing everything and cropping afterwards: each output pixel has its own taps.
 */
import { pillowBicubicTaps, type RgbImage } from '@sere/augment';

const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

const taps = pillowBicubicTaps;

/** Rounds a fixed-point sum back to 8 bits, clamped (an arithmetic shift floors). */
function clip8(acc: number): number {
  const v = Math.floor(acc / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Output window in pixels of the resized image. */
export interface Window {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

/**
 * Resizes `img` to outW × outH and returns the pixels of `window` (default: all of it) as
 * interleaved RGB, window.w × window.h.
 */
export function resizeBicubic(img: RgbImage, outW: number, outH: number, window: Window = { x0: 0, y0: 0, w: outW, h: outH }): RgbImage {
  const { width: inW, height: inH, rgb } = img;
  const { x0, y0, w, h } = window;
  if (x0 < 0 || y0 < 0 || w < 1 || h < 1 || x0 + w > outW || y0 + h > outH) {
    throw new RangeError(`resize window [${x0}, ${y0}, ${w}, ${h}] does not fit the ${outW}x${outH} output`);
  }
  if (rgb.length !== inW * inH * 3) throw new RangeError(`image buffer holds ${rgb.length} bytes, expected ${inW}x${inH}x3`);

  const horiz = taps(inW, outW, x0, w);
  const vert = taps(inH, outH, y0, h);
  // Only the source rows the vertical pass reads go through the horizontal pass.
  const rowFirst = vert.first[0];
  const rows = vert.first[h - 1] + vert.count[h - 1] - rowFirst;

  const tmp = new Uint8Array(rows * w * 3);
  for (let r = 0; r < rows; r++) {
    const src = (rowFirst + r) * inW * 3;
    for (let o = 0; o < w; o++) {
      const base = horiz.first[o];
      const kw = o * horiz.ksize;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (let k = 0; k < horiz.count[o]; k++) {
        const wt = horiz.weights[kw + k];
        const p = src + (base + k) * 3;
        s0 += rgb[p] * wt;
        s1 += rgb[p + 1] * wt;
        s2 += rgb[p + 2] * wt;
      }
      const q = (r * w + o) * 3;
      tmp[q] = clip8(s0);
      tmp[q + 1] = clip8(s1);
      tmp[q + 2] = clip8(s2);
    }
  }

  const out = new Uint8Array(w * h * 3);
  const stride = w * 3;
  for (let o = 0; o < h; o++) {
    const base = vert.first[o] - rowFirst;
    const kw = o * vert.ksize;
    for (let x = 0; x < stride; x++) {
      let s = HALF;
      for (let k = 0; k < vert.count[o]; k++) s += tmp[(base + k) * stride + x] * vert.weights[kw + k];
      out[o * stride + x] = clip8(s);
    }
  }
  return { width: w, height: h, rgb: out };
}
