export type { CropRect, MultiCropSample, View } from './types';
export { Rng, epochPermutation, roundHalfEven } from './rng';
export { decodeImage, DecodeError, DEFAULT_MAX_PIXELS } from './decode';
export type { DecodedImage, DecodeErrorKind, DecodeOptions, Conversion } from './decode';
export { sampleCropRegion, cropResize, CROP_RATIO } from './crop';
export type { RgbImage } from './crop';
export { resizeCropBicubic, pillowBicubicTaps } from './resize';
export type { Coefficients as BicubicTaps } from './resize';
export { kernels } from './kernels';
export type { Arena } from './kernels';
export type { Region } from './resize';
export {
  JITTER_STRENGTH,
  sampleJitter,
  applyJitter,
  adjustBrightness,
  adjustContrast,
  adjustSaturation,
  adjustHue,
  toGrayscale,
  solarize,
} from './colour';
export type { JitterParams, JitterOp } from './colour';
export { gaussianBlur } from './blur';
export { samplePredRatio, sampleMask, blockMask, randMask, BLOCK_ASPECT } from './masks';
export type { MaskOptions, PredShape } from './masks';
export { overlapGrids, NO_OVERLAP } from './grids';
export {
  makeMultiCropSample,
  augmentImage,
  VIT_SMALL_VIEWS,
  VIT_BASE_VIEWS,
  VIEW_PROBABILITIES,
  BLUR_RADIUS,
  LOCAL_GLOBAL_GRID,
} from './views';
export type { MultiCropOptions, ViewRecipe } from './views';
