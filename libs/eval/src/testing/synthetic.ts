/** Seeded synthetic feature sets for the specs: Gaussian clusters, one per class. */
import { Rng } from '@sere/augment';
import type { FeatureSet } from '../feature-set';
import { gaussian } from '../random';

/**
 * n points in `dim` dimensions: point i has label i mod classes and sits at its class's
 * centre (drawn with scale `separation`) plus unit Gaussian noise.
 */
export function clusters(opts: { n: number; dim: number; classes: number; separation: number; seed: number; centresSeed?: number }): FeatureSet {
  const centresRng = Rng.fromKey([0xce, opts.centresSeed ?? 0]);
  const centres = Array.from({ length: opts.classes }, () => Array.from({ length: opts.dim }, () => opts.separation * gaussian(centresRng)));
  const rng = Rng.fromKey([0xda, opts.seed]);
  const features = new Float32Array(opts.n * opts.dim);
  const labels = new Int32Array(opts.n);
  for (let i = 0; i < opts.n; i++) {
    labels[i] = i % opts.classes;
    for (let d = 0; d < opts.dim; d++) features[i * opts.dim + d] = centres[labels[i]][d] + gaussian(rng);
  }
  return { n: opts.n, dim: opts.dim, features, labels };
}
