/**
 * Weighted k-nearest-neighbour classification (spec §8, the DINO/iBOT protocol): train and
 * test features are L2-normalised, similarity is the cosine, each of a test image's k most
 * similar train images votes for its own label with weight exp(sim / T), and the class with
 * the largest summed vote is the prediction.
 *
 * Test images go through in chunks (similarity matrix, top-k, vote scatter: libtorch ops)
 * so memory stays bounded by chunk × train size whatever the test set.
 *
 * Top-5 counts a hit when fewer than five classes got a strictly larger vote than the true
 * class *and* the true class got a vote at all. (Taking the top five of the vote vector, as
 * the reference does, makes classes with no vote win or lose by tie-breaking order when
 * fewer than five classes are voted for.) Top-1 is the arg-max, first class on a tie.
 */
import * as T from '@sere/torch';
import { checkFeatureSet, classCount, type FeatureSet } from './feature-set';

export const KNN_KS: readonly number[] = [10, 20, 100, 200];
export const KNN_TEMPERATURE = 0.07;

export interface KnnOptions {
  /** Neighbour counts; each is clipped to the train set size and duplicates dropped. */
  ks?: readonly number[];
  temperature?: number;
  /** Number of classes (default: from the labels of both sets). */
  classes?: number;
  /** Test images per chunk (default: the similarity chunk stays under 16 M values). */
  chunkSize?: number;
  device?: string;
  /** float32 (default, as the reference) or float64. */
  dtype?: 'float32' | 'float64';
}

export interface KnnOutcome {
  k: number;
  /** Accuracies in percent. */
  top1: number;
  top5: number;
  /** Predicted class (top-1) of every test image. */
  predictions: Int32Array;
}

/** The neighbour counts actually used for a train set of n images. */
export function effectiveKs(ks: readonly number[], n: number): number[] {
  for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new RangeError(`k-NN: k must be a positive integer, got ${k}`);
  return [...new Set(ks.map((k) => Math.min(k, n)))].sort((a, b) => a - b);
}

export function knnClassify(train: FeatureSet, test: FeatureSet, opts: KnnOptions = {}): KnnOutcome[] {
  checkFeatureSet('k-NN train features', train);
  checkFeatureSet('k-NN test features', test);
  if (train.n === 0 || test.n === 0) throw new RangeError(`k-NN: need at least one train and one test image (got ${train.n} and ${test.n})`);
  if (train.dim !== test.dim) throw new RangeError(`k-NN: train features have ${train.dim} dims but test features ${test.dim}`);
  const temperature = opts.temperature ?? KNN_TEMPERATURE;
  if (!(temperature > 0)) throw new RangeError(`k-NN: temperature must be positive, got ${temperature}`);
  const ks = effectiveKs(opts.ks ?? KNN_KS, train.n);
  const kmax = ks[ks.length - 1];
  const classes = opts.classes ?? classCount(train, test);
  const device = opts.device ?? 'cpu';
  const dtype = opts.dtype ?? 'float32';
  const chunk = opts.chunkSize ?? Math.max(1, Math.min(test.n, Math.floor((1 << 24) / train.n)));

  const hits1 = new Array<number>(ks.length).fill(0);
  const hits5 = new Array<number>(ks.length).fill(0);
  const predictions = ks.map(() => new Int32Array(test.n));

  T.noGrad(() =>
    T.scope(() => {
      const trainY = T.tensor(train.labels, [train.n], { dtype: 'int32' }).to({ dtype: 'int64', device });
      const trainX = T.tensor(train.features, [train.n, train.dim]).to({ dtype, device });
      const bank = T.l2Normalize(trainX, 1).transpose(0, 1).contiguous(); // [dim, n_train]
      for (let start = 0; start < test.n; start += chunk) {
        const c = Math.min(chunk, test.n - start);
        T.scope(() => {
          const rows = test.features.subarray(start * test.dim, (start + c) * test.dim);
          const q = T.l2Normalize(T.tensor(rows, [c, test.dim]).to({ dtype, device }), 1);
          const y = T.tensor(test.labels.subarray(start, start + c), [c], { dtype: 'int32' }).to({ dtype: 'int64', device });
          const [sims, idx] = T.call<T.Tensor[]>('aten::topk', '', [q.matmul(bank), kmax, 1, true, true]);
          const neighbourLabels = T.indexSelect(trainY, 0, idx.flatten()).view(c, kmax);
          const weights = sims.div(temperature).exp();
          ks.forEach((k, i) => {
            const votes = T.scatterAdd(
              T.zeros([c, classes], { dtype, device }),
              1,
              neighbourLabels.slice(1, 0, k).contiguous(),
              weights.slice(1, 0, k).contiguous(),
            );
            const pred = T.argmax(votes, 1);
            const own = T.call<T.Tensor>('aten::gather', '', [votes, 1, y.unsqueeze(1), false]); // [c, 1]
            const rank = T.call<T.Tensor>('aten::gt', 'Tensor', [votes, own]).sum([1]);
            const top5 = T.call<T.Tensor>('aten::logical_and', '', [
              T.call('aten::lt', 'Scalar', [rank, 5]),
              T.call('aten::gt', 'Scalar', [own.squeeze(1), 0]),
            ]);
            hits1[i] += T.eq(pred, y).sum().item();
            hits5[i] += top5.sum().item();
            predictions[i].set(pred.to({ dtype: 'int32' }).data() as Int32Array, start);
          });
        });
      }
    }),
  );

  return ks.map((k, i) => ({ k, top1: (100 * hits1[i]) / test.n, top5: (100 * hits5[i]) / test.n, predictions: predictions[i] }));
}

/** The report's form: {"<k>": {top1, top5}}. */
export function knnScores(outcomes: readonly KnnOutcome[]): Record<string, { top1: number; top5: number }> {
  const out: Record<string, { top1: number; top5: number }> = {};
  for (const o of outcomes) out[String(o.k)] = { top1: o.top1, top5: o.top5 };
  return out;
}
