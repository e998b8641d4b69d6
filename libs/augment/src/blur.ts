/**
 * Gaussian blur with Pillow's ImageFilter.GaussianBlur semantics (the reference's blur):
 * `radius` is the standard deviation, approximated by three passes of an "extended" box
 * blur whose fractional radius gives the exact variance (Gwosdek et al., SSVM 2011), edges
 * extended by repeating the border pixel, weights in 24-bit fixed point. Each pass is O(1)
 * per pixel whatever the radius, which is also why Pillow chose it. Float32 steps mirror
 * Pillow's C so outputs agree level for level; the passes run in the WebAssembly kernels.
 */
import { inPlace, type Arena } from './kernels';

const f = Math.fround;
const PASSES = 3; // Pillow's default, and the passes blurAt runs

/** The box radius (integer part + fraction) whose PASSES-fold box has variance radius². */
export function boxRadiusFor(sigma: number, passes = PASSES): number {
  const r = f(sigma);
  const sigma2 = f(f(r * r) / passes);
  const len = f(Math.sqrt(12 * sigma2 + 1));
  const l = f(Math.floor((len - 1) / 2));
  let a = f(f(f(2 * l) + 1) * f(f(l * f(l + 1)) - f(3 * sigma2)));
  a = f(a / f(6 * f(sigma2 - f(f(l + 1) * f(l + 1)))));
  return f(l + a);
}

/** Blurs an RGB uint8 image (width × height, interleaved) in place. */
export function gaussianBlur(rgb: Uint8Array, width: number, height: number, sigma: number): void {
  inPlace(rgb, (a, at) => blurAt(a, at, width, height, sigma));
}

/** gaussianBlur on an image in kernel memory: horizontal passes, then vertical, as Pillow. */
export function blurAt(a: Arena, at: number, width: number, height: number, sigma: number): void {
  if (!(sigma > 0)) throw new RangeError(`gaussianBlur: radius must be > 0, got ${sigma}`);
  const box = boxRadiusFor(sigma);
  if (box === 0) return;
  const r = Math.trunc(box);
  // C computes (UINT32)(2^24 / (2·box + 1)) in float32 and the fractional weight in integers.
  const ww = Math.trunc(f(16777216 / f(f(box * 2) + 1)));
  const fw = Math.trunc((16777216 - (r * 2 + 1) * ww) / 2);
  const bytes = width * height * 3;
  const x = a.alloc(bytes);
  const y = a.alloc(bytes);
  if (r <= 1) {
    // Radii up to sigma 2.0 (the pipeline's range): a direct 5-tap kernel, 16 bytes at a time.
    a.k.box_h_small(at, x, width, height, r, ww, fw);
    a.k.box_h_small(x, y, width, height, r, ww, fw);
    a.k.box_h_small(y, x, width, height, r, ww, fw);
  } else {
    const h = putTaps(a, taps(width, r, 3));
    a.k.box_h(at, x, width, height, h.enter, h.leave, h.far, h.init, h.ninit, ww, fw);
    a.k.box_h(x, y, width, height, h.enter, h.leave, h.far, h.init, h.ninit, ww, fw);
    a.k.box_h(y, x, width, height, h.enter, h.leave, h.far, h.init, h.ninit, ww, fw);
  }
  const line = width * 3;
  const v = putTaps(a, taps(height, r, line));
  a.k.box_v(x, y, line, height, v.enter, v.leave, v.far, v.init, v.ninit, ww, fw);
  a.k.box_v(y, x, line, height, v.enter, v.leave, v.far, v.init, v.ninit, ww, fw);
  a.k.box_v(x, at, line, height, v.enter, v.leave, v.far, v.init, v.ninit, ww, fw);
}

/**
 * Offsets (already multiplied by `step`) of the taps that enter, leave and sit just outside
 * the window at each position, clamped to the line: the border pixel repeats outside it.
 * `init` is the window of 2r+1 taps centred on position −1.
 */
function taps(len: number, r: number, step: number): { enter: Int32Array; leave: Int32Array; far: Int32Array; init: Int32Array } {
  const clamp = (i: number): number => (i < 0 ? 0 : i > len - 1 ? len - 1 : i) * step;
  const enter = new Int32Array(len);
  const leave = new Int32Array(len);
  const far = new Int32Array(len);
  for (let x = 0; x < len; x++) {
    enter[x] = clamp(x + r);
    leave[x] = clamp(x - r - 1);
    far[x] = clamp(x + r + 1);
  }
  const init = new Int32Array(2 * r + 1);
  for (let i = 0; i < init.length; i++) init[i] = clamp(i - r - 1);
  return { enter, leave, far, init };
}

function putTaps(a: Arena, t: ReturnType<typeof taps>): { enter: number; leave: number; far: number; init: number; ninit: number } {
  return { enter: a.putI32(t.enter), leave: a.putI32(t.leave), far: a.putI32(t.far), init: a.putI32(t.init), ninit: t.init.length };
}
