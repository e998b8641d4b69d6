/**
 * One evaluation of a frozen backbone, start to finish (spec §8): list the images, extract
 * (or read cached) features, run the weighted k-NN and the linear probe, and return a JSON
 * report.
 *
 * Without a validation folder the train folder is split per class (split.ts: 20 % held out
 * by default, seeded), so a single demo folder can be evaluated.
 */
import { performance } from 'node:perf_hooks';
import type { VisionTransformer } from '@sere/sere';
import { FeatureCache } from './cache';
import { backboneFingerprint, extractFeatures, type Features } from './features';
import { KNN_KS, KNN_TEMPERATURE, knnClassify, knnScores } from './knn';
import { trainLinearProbe, type LinearProbeOptions } from './linear';
import { evalSplit } from './split';
import { evalTransform, trainTransform } from './transforms';

export interface LinearReportOptions extends Omit<LinearProbeOptions, 'classes' | 'device' | 'seed'> {
  /**
   * Random-resized-crop + flip views extracted per train image (the protocol's augmentation,
   * paid once: epoch e trains on view e mod views). 0 (default) trains on the centre crops.
   */
  augViews?: number;
}

export interface EvaluateOptions {
  /** The frozen teacher backbone (see loadTeacherBackbone). */
  backbone: VisionTransformer;
  trainDir: string;
  /** Validation folder; without it the train folder is split per class. */
  valDir?: string;
  /** Without valDir: fraction of each class held out (default 0.2). */
  valFraction?: number;
  /** Crop side fed to the backbone (default 224); the resize scales with it (256/224). */
  size?: number;
  resize?: number;
  ks?: readonly number[];
  temperature?: number;
  /** Probe feature: CLS tokens of the last n blocks (default 4) [+ mean patch token]. */
  nLastBlocks?: number;
  avgPool?: boolean;
  /** Linear probe settings, or false to skip it. */
  linear?: LinearReportOptions | false;
  /** Images per forward pass when extracting (default 64). */
  batchSize?: number;
  /** Folder of the feature cache; no caching without it. */
  cacheDir?: string;
  /** Seeds the split, the augmented views and the probe (default 0). */
  seed?: number;
  /** Device of the k-NN and probe (default: the backbone's). */
  device?: string;
  log?: (line: string) => void;
}

export interface EvalReport {
  /** Percent accuracies by effective k (k clipped to the train set size). */
  knn: Record<string, { top1: number; top5: number }>;
  linear: {
    top1: number;
    top5: number;
    epochs: number;
    lr: number;
    batch_size: number;
    feature_dim: number;
    n_last_blocks: number;
    avgpool: boolean;
    aug_views: number;
    final_loss: number;
  } | null;
  n_train: number;
  n_val: number;
  classes: number;
  /** Dimension of the k-NN feature (the embedding width). */
  feature_dim: number;
  image_size: number;
  split: string;
  skipped: { path: string; reason: string }[];
  cache: { train: 'hit' | 'miss' | 'off'; val: 'hit' | 'miss' | 'off' };
  seconds: number;
  /** Feature time includes the probe's augmented views; linear is the probe's training alone. */
  seconds_by_stage: { features: number; knn: number; linear: number };
}

export async function evaluateBackbone(opts: EvaluateOptions): Promise<EvalReport> {
  const start = performance.now();
  const log = opts.log ?? (() => undefined);
  const seed = opts.seed ?? 0;
  const backbone = opts.backbone;
  const device = opts.device ?? backbone.params.get('norm.weight').device;
  const nLastBlocks = opts.nLastBlocks ?? 4;
  const avgPool = opts.avgPool ?? false;
  const transform = evalTransform(opts.size ?? 224, opts.resize);

  // ---- images ----
  const split = await evalSplit({ trainDir: opts.trainDir, valDir: opts.valDir, valFraction: opts.valFraction, seed });
  log(`eval: ${split.train.length} train / ${split.val.length} val images, ${split.classes.length} classes (validation: ${split.description})`);

  // ---- features ----
  const cache = opts.cacheDir ? new FeatureCache(opts.cacheDir) : undefined;
  const fingerprint = cache ? backboneFingerprint(backbone) : undefined;
  const common = { nLastBlocks, avgPool, batchSize: opts.batchSize, cache, fingerprint };
  const tFeatures = performance.now();
  const extract = async (name: string, items: typeof split.train, more: Parameters<typeof extractFeatures>[2] = {}): Promise<Features> => {
    const t = performance.now();
    const f = await extractFeatures(backbone, items, { ...common, transform, ...more });
    log(`eval: ${name} features ${f.cls.n}×${f.probe.dim} ${f.cached ? 'from the cache' : 'extracted'} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return f;
  };
  const train = await extract('train', split.train);
  const val = await extract('val', split.val);
  if (train.cls.n === 0 || val.cls.n === 0) {
    throw new Error(`eval: no decodable ${train.cls.n === 0 ? 'train' : 'validation'} images (${train.skipped.length + val.skipped.length} skipped)`);
  }
  let featureSeconds = (performance.now() - tFeatures) / 1000;

  // ---- k-NN ----
  const classes = split.classes.length;
  const tKnn = performance.now();
  const knn = knnScores(knnClassify(train.cls, val.cls, { ks: opts.ks ?? KNN_KS, temperature: opts.temperature ?? KNN_TEMPERATURE, classes, device }));
  const knnSeconds = (performance.now() - tKnn) / 1000;
  log(`eval: k-NN ${Object.entries(knn).map(([k, s]) => `${k}-NN ${s.top1.toFixed(2)} %`).join(', ')}`);

  // ---- linear probe ----
  let linear: EvalReport['linear'] = null;
  let linearSeconds = 0;
  if (opts.linear !== false) {
    const { augViews = 0, ...probeOpts } = opts.linear ?? {};
    if (!Number.isInteger(augViews) || augViews < 0) throw new RangeError(`eval: augViews must be a non-negative integer, got ${augViews}`);
    const tViews = performance.now();
    const views = [];
    for (let v = 0; v < augViews; v++) {
      views.push((await extract(`train view ${v + 1}/${augViews}`, split.train, { transform: trainTransform(transform.size), seed, view: v })).probe);
    }
    if (views.length === 0) views.push(train.probe);
    featureSeconds += (performance.now() - tViews) / 1000;
    const tLinear = performance.now();
    const r = trainLinearProbe(views, val.probe, { ...probeOpts, classes, device, seed });
    linear = {
      top1: r.top1,
      top5: r.top5,
      epochs: r.epochs,
      lr: r.lr,
      batch_size: probeOpts.batchSize ?? 256,
      feature_dim: r.featureDim,
      n_last_blocks: nLastBlocks,
      avgpool: avgPool,
      aug_views: augViews,
      final_loss: r.losses[r.losses.length - 1],
    };
    linearSeconds = (performance.now() - tLinear) / 1000;
    log(`eval: linear probe ${r.top1.toFixed(2)} % top-1 after ${r.epochs} epochs`);
  }

  const cacheState = (f: Features) => (cache ? (f.cached ? 'hit' : 'miss') : 'off') as 'hit' | 'miss' | 'off';
  return {
    knn,
    linear,
    n_train: train.cls.n,
    n_val: val.cls.n,
    classes,
    feature_dim: train.cls.dim,
    image_size: transform.size,
    split: split.description,
    skipped: [...train.skipped, ...val.skipped],
    cache: { train: cacheState(train), val: cacheState(val) },
    seconds: (performance.now() - start) / 1000,
    seconds_by_stage: { features: featureSeconds, knn: knnSeconds, linear: linearSeconds },
  };
}
