/**
 * The multi-crop sample of one image (spec §5.1): two global crops, L local crops, the
 * iBOT masks of the global crops and the overlap grids between crops, all cut from one
 * decoded image with one seeded stream, so (seed, epoch, index) fixes every byte.
 */
import { blurAt } from './blur';
import { grayscaleAt, jitterAt, sampleJitter, solarizeAt } from './colour';
import { checkCrop, sampleCropRegion, type RgbImage } from './crop';
import { decodeImage, type DecodeOptions } from './decode';
import { overlapGrids } from './grids';
import { kernels, type Arena } from './kernels';
import { sampleMask, type PredShape } from './masks';
import { resizeAt } from './resize';
import { Rng } from './rng';
import type { CropRect, MultiCropSample, View } from './types';

export interface MultiCropOptions {
  globalCropsScale: readonly [number, number];
  localCropsScale: readonly [number, number];
  localCropsNumber: number;
  /** [S1, S2] of the global–global grids (`--overlap_size`). */
  overlapSize: readonly [number, number];
  globalSize?: number;
  localSize?: number;
  patchSize?: number;
  predRatio: number | readonly number[];
  predRatioVar: number | readonly number[];
  predShape: PredShape;
  predStartEpoch: number;
  useMaskedImModeling: boolean;
  epoch: number;
  /** Position of the image in the dataset index, and its class label; copied to the sample. */
  index: number;
  label: number;
}

/** View settings shared by every image of a run: MultiCropOptions less the per-image fields. */
export type ViewRecipe = Omit<MultiCropOptions, 'epoch' | 'index' | 'label'>;

/** The README's ViT-S/16 recipe (spec §7.1). */
export const VIT_SMALL_VIEWS: ViewRecipe = {
  globalCropsScale: [0.4, 1],
  localCropsScale: [0.05, 0.4],
  localCropsNumber: 10,
  overlapSize: [13, 13],
  predRatio: [0, 0.3],
  predRatioVar: [0, 0.2],
  predShape: 'block',
  predStartEpoch: 0,
  useMaskedImModeling: true,
};

/** The README's ViT-B/16 recipe (spec §7.1). */
export const VIT_BASE_VIEWS: ViewRecipe = { ...VIT_SMALL_VIEWS, globalCropsScale: [0.32, 1], localCropsScale: [0.05, 0.32] };

/** Probabilities of the three pipelines (spec §5.1): [global 1, global 2, local]. */
export const VIEW_PROBABILITIES = {
  flip: 0.5,
  jitter: 0.8,
  grayscale: 0.2,
  blur: [1.0, 0.1, 0.5],
  solarize: [0, 0.2, 0],
} as const;

/** Gaussian blur radius (Pillow's sigma) range. */
export const BLUR_RADIUS: readonly [number, number] = [0.1, 2.0];

/** Side of the local–global overlap grids; hard-coded in the reference (spec §9.2). */
export const LOCAL_GLOBAL_GRID = 6;

export function makeMultiCropSample(decoded: RgbImage, opts: MultiCropOptions, rng: Rng): MultiCropSample {
  const globalSize = opts.globalSize ?? 224;
  const localSize = opts.localSize ?? 96;
  const patchSize = opts.patchSize ?? 16;
  checkOptions(opts, globalSize, patchSize);
  const L = opts.localCropsNumber;

  // The decoded image goes into kernel memory once; every view is cut, resized and
  // coloured there, then copied out.
  const a = kernels();
  const mark = a.mark();
  const views: View[] = [];
  try {
    const src = a.putU8(decoded.rgb);
    const make = (size: number, scale: readonly [number, number], pipeline: 0 | 1 | 2): void => {
      const viewMark = a.mark();
      views.push(makeView(a, src, decoded, rng, size, scale, pipeline));
      a.release(viewMark);
    };
    make(globalSize, opts.globalCropsScale, 0);
    make(globalSize, opts.globalCropsScale, 1);
    for (let v = 0; v < L; v++) make(localSize, opts.localCropsScale, 2);
  } finally {
    a.release(mark);
  }

  const maskGrid = globalSize / patchSize;
  const masks: [Uint8Array, Uint8Array] = opts.useMaskedImModeling
    ? [sampleMask(rng, maskGrid, maskGrid, opts), sampleMask(rng, maskGrid, maskGrid, opts)]
    : [new Uint8Array(maskGrid * maskGrid), new Uint8Array(maskGrid * maskGrid)];

  const g1 = views[0].rect;
  const g2 = views[1].rect;
  const gridsLocal: Float32Array[] = [];
  const gridsGlobalSide: Float32Array[] = [];
  for (const g of [g1, g2]) {
    for (let v = 0; v < L; v++) {
      const [local, global] = overlapGrids(views[2 + v].rect, g, LOCAL_GLOBAL_GRID);
      gridsLocal.push(local);
      gridsGlobalSide.push(global);
    }
  }
  return {
    index: opts.index,
    label: opts.label,
    views,
    masks,
    maskGrid,
    gridsGlobal1: overlapGrids(g1, g2, opts.overlapSize[0]),
    gridsGlobal2: overlapGrids(g1, g2, opts.overlapSize[1]),
    gridsLocal,
    gridsGlobalSide,
  };
}

/** Decodes one image and makes its sample from the stream of (seed, epoch, index). */
export async function augmentImage(
  input: string | Buffer,
  opts: MultiCropOptions,
  seed: number,
  decodeOptions?: DecodeOptions,
): Promise<MultiCropSample> {
  const decoded = await decodeImage(input, decodeOptions);
  return makeMultiCropSample(decoded, opts, Rng.forImage(seed, opts.epoch, opts.index));
}

/** crop → flip → (jitter p .8) → (grayscale p .2) → blur → solarise; pipeline 0/1 global, 2 local. */
function makeView(
  a: Arena,
  src: number,
  img: RgbImage,
  rng: Rng,
  size: number,
  scale: readonly [number, number],
  pipeline: 0 | 1 | 2,
): View {
  const region = sampleCropRegion(rng, img.width, img.height, scale);
  const rect: CropRect = { ...region, flip: rng.bernoulli(VIEW_PROBABILITIES.flip) };
  checkCrop(img, rect);
  const at = resizeAt(a, src, img.width, rect, size, rect.flip);
  const pixels = size * size;
  if (rng.bernoulli(VIEW_PROBABILITIES.jitter)) jitterAt(a, at, pixels, sampleJitter(rng));
  if (rng.bernoulli(VIEW_PROBABILITIES.grayscale)) grayscaleAt(a, at, pixels);
  if (rng.bernoulli(VIEW_PROBABILITIES.blur[pipeline])) {
    blurAt(a, at, size, size, rng.uniform(BLUR_RADIUS[0], BLUR_RADIUS[1]));
  }
  const pSolarize = VIEW_PROBABILITIES.solarize[pipeline];
  if (pSolarize > 0 && rng.bernoulli(pSolarize)) solarizeAt(a, at, pixels);
  return { size, rgb: a.take(at, pixels * 3), rect };
}

function checkOptions(opts: MultiCropOptions, globalSize: number, patchSize: number): void {
  if (!Number.isInteger(opts.localCropsNumber) || opts.localCropsNumber < 0) {
    throw new RangeError(`localCropsNumber must be a non-negative integer, got ${opts.localCropsNumber}`);
  }
  if (!Number.isInteger(globalSize / patchSize)) {
    throw new RangeError(`globalSize ${globalSize} must be a multiple of patchSize ${patchSize}`);
  }
  for (const s of opts.overlapSize) {
    if (!Number.isInteger(s) || s < 2) throw new RangeError(`overlapSize entries must be integers >= 2, got ${s}`);
  }
}
