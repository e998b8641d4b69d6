/**
 * Random-resized-crop (spec §5.1): the rectangle sampler of torchvision's
 * RandomResizedCrop.get_params, and the crop → bicubic resize → optional mirror that turns
 * a rectangle of the decoded image into a view.
 */
import { resizeCropBicubic, type Region } from './resize';
import { roundHalfEven, type Rng } from './rng';
import type { CropRect } from './types';

/** Aspect-ratio range of the reference sampler (w/h, drawn log-uniformly). */
export const CROP_RATIO: readonly [number, number] = [3 / 4, 4 / 3];
const TRIES = 10;

export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array; // interleaved RGB, row-major, width*height*3
}

/**
 * Samples a crop of an image of width × height: area fraction U(scale), ratio log-uniform
 * in `ratio`, sides rounded half to even, accepted if it fits; after 10 misses the whole
 * image, centred and clamped to the ratio range.
 */
export function sampleCropRegion(
  rng: Rng,
  width: number,
  height: number,
  scale: readonly [number, number],
  ratio: readonly [number, number] = CROP_RATIO,
): Region {
  if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) {
    throw new RangeError(`crop scale must satisfy 0 < min <= max <= 1, got [${scale[0]}, ${scale[1]}]`);
  }
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) {
    throw new RangeError(`crop ratio must satisfy 0 < min <= max, got [${ratio[0]}, ${ratio[1]}]`);
  }
  const area = width * height;
  for (let t = 0; t < TRIES; t++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const ar = rng.logUniform(ratio[0], ratio[1]);
    const w = roundHalfEven(Math.sqrt(target * ar));
    const h = roundHalfEven(Math.sqrt(target / ar));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const y0 = rng.int(0, height - h);
      const x0 = rng.int(0, width - w);
      return { x0, y0, w, h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = roundHalfEven(w / ratio[0]);
  else if (inRatio > ratio[1]) w = roundHalfEven(h * ratio[1]);
  return { x0: Math.floor((width - w) / 2), y0: Math.floor((height - h) / 2), w, h };
}

/** Cuts `rect` out of the decoded image and resizes it to size × size (bicubic, mirrored if rect.flip). */
export function cropResize(img: RgbImage, rect: CropRect, size: number): Uint8Array {
  checkCrop(img, rect);
  return resizeCropBicubic(img.rgb, img.width, rect, size, rect.flip);
}

export function checkCrop(img: RgbImage, rect: CropRect): void {
  if (rect.x0 < 0 || rect.y0 < 0 || rect.w <= 0 || rect.h <= 0 || rect.x0 + rect.w > img.width || rect.y0 + rect.h > img.height) {
    throw new RangeError(
      `crop [${rect.x0}, ${rect.y0}, ${rect.w}, ${rect.h}] does not fit the ${img.width}x${img.height} image`,
    );
  }
  if (img.rgb.length !== img.width * img.height * 3) {
    throw new RangeError(`image buffer holds ${img.rgb.length} bytes, expected ${img.width}x${img.height}x3`);
  }
}
