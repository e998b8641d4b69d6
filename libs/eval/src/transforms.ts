/**
 * The image transforms of the k-NN and linear-probe protocols (spec §8), from decoded RGB
 * pixels to normalised float32 CHW arrays:
 *
 * - eval: resize the shorter side to `resize` (bicubic) → centre crop `size` → normalise.
 *   At the protocol's size 224 this is torchvision's Resize(256) + CenterCrop(224) +
 *   ToTensor + Normalize on a PIL image, pixel for pixel. For small images `size` scales
 *   the whole recipe (resize = round(size·256/224): 146 for 128-px demo images); the ViT
 *   interpolates its positional table for any multiple of the patch size.
 * - train (linear probe): random-resized-crop to `size` (area 8–100 %, aspect 3/4–4/3,
 *   bicubic) and a horizontal flip with probability ½, drawn from a seeded generator.
 *
 * No tensors here: the feature extractor turns the arrays into batches.
 */
import { cropResize, roundHalfEven, sampleCropRegion, type RgbImage, type Rng } from '@sere/augment';
import { resizeBicubic } from './bicubic';

/** ImageNet channel statistics used by every reference evaluation. */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

export interface EvalTransform {
  kind: 'eval';
  /** Side of the centre crop fed to the backbone. */
  size: number;
  /** Shorter side after the resize. */
  resize: number;
}

export interface TrainTransform {
  kind: 'train';
  size: number;
  /** Area fraction range of the random-resized-crop. */
  scale: readonly [number, number];
  /** Probability of a horizontal flip. */
  flip: number;
}

export type ViewTransform = EvalTransform | TrainTransform;

function checkSide(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`eval transform: ${name} must be a positive integer, got ${v}`);
}

/** The eval transform for crops of `size` px (224: the protocol's 256 → 224). */
export function evalTransform(size = 224, resize = Math.round((size * 256) / 224)): EvalTransform {
  checkSide('size', size);
  checkSide('resize', resize);
  if (resize < size) throw new RangeError(`eval transform: resize (${resize}) must be at least the crop size (${size})`);
  return { kind: 'eval', size, resize };
}

/** The linear probe's training augmentation for crops of `size` px. */
export function trainTransform(size = 224, scale: readonly [number, number] = [0.08, 1], flip = 0.5): TrainTransform {
  checkSide('size', size);
  if (!(flip >= 0 && flip <= 1)) throw new RangeError(`train transform: flip probability must be in [0, 1], got ${flip}`);
  return { kind: 'train', size, scale, flip };
}

/** A stable text that names the transform, for cache keys and reports. */
export function transformKey(t: ViewTransform): string {
  return t.kind === 'eval'
    ? `eval:resize=${t.resize},crop=${t.size},bicubic,imagenet-norm`
    : `train:rrc=${t.size},scale=${t.scale[0]}-${t.scale[1]},flip=${t.flip},bicubic,imagenet-norm`;
}

/**
 * Size after resizing the shorter side to `shorter`, with torchvision's rule: the longer
 * side is truncated, not rounded.
 */
export function shorterSideSize(width: number, height: number, shorter: number): [number, number] {
  if (width <= height) return [shorter, Math.trunc((shorter * height) / width)];
  return [Math.trunc((shorter * width) / height), shorter];
}

/** Interleaved RGB uint8 (HWC) → float32 CHW, x/255 then (x − mean)/std, each step in float32 as torchvision does. */
export function normalise(rgb: Uint8Array, width: number, height: number): Float32Array {
  const plane = width * height;
  if (rgb.length !== plane * 3) throw new RangeError(`normalise: ${rgb.length} bytes is not ${width}x${height}x3`);
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(IMAGENET_MEAN[c]);
    const std = Math.fround(IMAGENET_STD[c]);
    for (let i = 0; i < plane; i++) {
      const x = Math.fround(rgb[i * 3 + c] / 255);
      out[c * plane + i] = Math.fround(x - mean) / std;
    }
  }
  return out;
}

/** Eval view of a decoded image: float32 [3, size, size]. */
export function evalView(img: RgbImage, t: EvalTransform): Float32Array {
  const [w, h] = shorterSideSize(img.width, img.height, t.resize);
  // torchvision's CenterCrop rounds the offset with Python's round (half to even).
  const x0 = roundHalfEven((w - t.size) / 2);
  const y0 = roundHalfEven((h - t.size) / 2);
  const crop = resizeBicubic(img, w, h, { x0, y0, w: t.size, h: t.size });
  return normalise(crop.rgb, t.size, t.size);
}

/** Training view of a decoded image: float32 [3, size, size]; draws the crop, then the flip. */
export function trainView(img: RgbImage, t: TrainTransform, rng: Rng): Float32Array {
  const region = sampleCropRegion(rng, img.width, img.height, t.scale);
  const flip = rng.bernoulli(t.flip);
  return normalise(cropResize(img, { ...region, flip }, t.size), t.size, t.size);
}

/** One view of an image by transform; train views need the generator. */
export function makeView(img: RgbImage, t: ViewTransform, rng?: Rng): Float32Array {
  if (t.kind === 'eval') return evalView(img, t);
  if (!rng) throw new Error('train transform: a seeded generator is required for random-resized-crop views');
  return trainView(img, t, rng);
}
