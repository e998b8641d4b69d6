export { evaluateBackbone, type EvaluateOptions, type EvalReport, type LinearReportOptions } from './report';
export { backboneFromCheckpoint, loadTeacherBackbone, type BackboneSource } from './backbone';
export { evalSplit, splitPerClass, type EvalSplit, type LabelledImage, type SplitOptions } from './split';
export { extractFeatures, embedBatch, backboneFingerprint, type Features, type FeatureItem, type FeatureOptions, type SkippedImage } from './features';
export { FeatureCache, cacheKey, paramsFingerprint, itemsFingerprint, type CacheEntry } from './cache';
export { knnClassify, knnScores, effectiveKs, KNN_KS, KNN_TEMPERATURE, type KnnOptions, type KnnOutcome } from './knn';
export { trainLinearProbe, cosineLr, initialWeights, LINEAR_BASE_LR, type LinearProbeOptions, type LinearProbeResult } from './linear';
export {
  evalTransform,
  trainTransform,
  evalView,
  trainView,
  makeView,
  normalise,
  shorterSideSize,
  transformKey,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type EvalTransform,
  type TrainTransform,
  type ViewTransform,
} from './transforms';
export { resizeBicubic, type Window } from './bicubic';
export { checkFeatureSet, classCount, selectRows, toTensors, type FeatureSet } from './feature-set';
