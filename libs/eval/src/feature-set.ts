/**
 * Features of a labelled image set as plain arrays (row-major n × dim, one label per row):
 * what the extractor produces, the cache stores and the k-NN and linear probes read. Plain
 * arrays rather than tensors, so a FeatureSet holds no native memory and needs no disposal.
 */
import * as T from '@sere/torch';

export interface FeatureSet {
  n: number;
  dim: number;
  features: Float32Array; // n * dim
  labels: Int32Array; // n, in [0, classes)
}

/** Throws unless the arrays agree with n and dim and the labels are non-negative integers. */
export function checkFeatureSet(name: string, s: FeatureSet): void {
  if (!Number.isInteger(s.n) || s.n < 0 || !Number.isInteger(s.dim) || s.dim < 1) {
    throw new RangeError(`${name}: n (${s.n}) and dim (${s.dim}) must be integers, dim at least 1`);
  }
  if (s.features.length !== s.n * s.dim) throw new RangeError(`${name}: ${s.features.length} feature values, expected n·dim = ${s.n * s.dim}`);
  if (s.labels.length !== s.n) throw new RangeError(`${name}: ${s.labels.length} labels, expected n = ${s.n}`);
  for (let i = 0; i < s.n; i++) if (s.labels[i] < 0) throw new RangeError(`${name}: label ${s.labels[i]} of row ${i} is negative`);
}

/** Number of classes: one more than the largest label of any of the sets. */
export function classCount(...sets: FeatureSet[]): number {
  let max = -1;
  for (const s of sets) for (const l of s.labels) if (l > max) max = l;
  return max + 1;
}

/** Rows `rows` of a set, copied. */
export function selectRows(s: FeatureSet, rows: ArrayLike<number>): FeatureSet {
  const out = new Float32Array(rows.length * s.dim);
  const labels = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    out.set(s.features.subarray(r * s.dim, (r + 1) * s.dim), i * s.dim);
    labels[i] = s.labels[r];
  }
  return { n: rows.length, dim: s.dim, features: out, labels };
}

/** The features as an [n, dim] tensor and the labels as int64 [n], in the current scope. */
export function toTensors(s: FeatureSet, device = 'cpu', dtype: 'float32' | 'float64' = 'float32'): { x: T.Tensor; y: T.Tensor } {
  let x = T.tensor(s.features, [s.n, s.dim]);
  if (dtype !== 'float32') x = x.to({ dtype });
  let y = T.tensor(s.labels, [s.n], { dtype: 'int32' }).to({ dtype: 'int64' });
  if (device !== 'cpu') {
    x = x.to({ device });
    y = y.to({ device });
  }
  return { x, y };
}
