import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as T from '@sere/torch';
import type { FeatureSet } from './feature-set';
import { effectiveKs, knnClassify, knnScores } from './knn';
import { clusters } from './testing/synthetic';
import { runPython, tempDir } from './testing/python';

// An independent NumPy implementation of the protocol, in float64: normalise, cosine
// similarity, stable descending sort, exp(sim/T) votes accumulated per class.
const REFERENCE = `
import sys, json
import numpy as np
d = sys.argv[1]
meta = json.load(open(f"{d}/meta.json"))
def load(name):
    x = np.fromfile(f"{d}/{name}_x.f32", dtype=np.float32).astype(np.float64).reshape(meta[name]["n"], meta["dim"])
    y = np.fromfile(f"{d}/{name}_y.i32", dtype=np.int32).astype(np.int64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12), y
trx, try_ = load("train")
tex, tey = load("test")
C = int(max(try_.max(), tey.max()) + 1)
sims = tex @ trx.T
order = np.argsort(-sims, axis=1, kind="stable")
out = {}
for k in sorted(set(min(k, len(trx)) for k in meta["ks"])):
    nb = order[:, :k]
    w = np.exp(np.take_along_axis(sims, nb, axis=1) / meta["T"])
    votes = np.zeros((len(tex), C))
    for i in range(len(tex)):
        np.add.at(votes[i], try_[nb[i]], w[i])
    pred = votes.argmax(axis=1)
    own = votes[np.arange(len(tex)), tey]
    rank = (votes > own[:, None]).sum(axis=1)
    # smallest gap between the k-th and (k+1)-th neighbour, to show the data has no near-ties
    srt = -np.sort(-sims, axis=1)
    gap = float((srt[:, k - 1] - srt[:, k]).min()) if k < len(trx) else 1.0
    out[str(k)] = {"pred": pred.tolist(), "top1": float((pred == tey).mean() * 100),
                   "top5": float(((rank < 5) & (own > 0)).mean() * 100), "gap": gap}
print(json.dumps(out))
`;

interface RefOutcome {
  pred: number[];
  top1: number;
  top5: number;
  gap: number;
}

function reference(train: FeatureSet, test: FeatureSet, ks: number[], temperature: number): Record<string, RefOutcome> {
  const { dir, remove } = tempDir('sere-eval-knn-');
  try {
    const write = (name: string, s: FeatureSet) => {
      writeFileSync(path.join(dir, `${name}_x.f32`), Buffer.from(s.features.buffer, s.features.byteOffset, s.features.byteLength));
      writeFileSync(path.join(dir, `${name}_y.i32`), Buffer.from(s.labels.buffer, s.labels.byteOffset, s.labels.byteLength));
    };
    write('train', train);
    write('test', test);
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ dim: train.dim, ks, T: temperature, train: { n: train.n }, test: { n: test.n } }));
    return JSON.parse(runPython(REFERENCE, [dir]));
  } finally {
    remove();
  }
}

describe('weighted k-NN', () => {
  // Overlapping clusters: accuracies well away from 0 and 100 %, so a wrong vote shows.
  const train = clusters({ n: 300, dim: 24, classes: 7, separation: 0.45, seed: 1 });
  const test = clusters({ n: 120, dim: 24, classes: 7, separation: 0.45, seed: 2 });
  const ks = [10, 20, 100, 200];

  it('predicts exactly what an independent NumPy computation predicts', () => {
    const before = T.liveTensors();
    const ref = reference(train, test, ks, 0.07);
    const ours = knnClassify(train, test, { ks, dtype: 'float64', chunkSize: 37 }); // uneven chunks on purpose
    expect(ours.map((o) => String(o.k))).toEqual(Object.keys(ref));
    for (const o of ours) {
      const r = ref[String(o.k)];
      expect(r.gap).toBeGreaterThan(1e-9);
      expect(Array.from(o.predictions)).toEqual(r.pred);
      expect(o.top1).toBeCloseTo(r.top1, 10);
      expect(o.top5).toBeCloseTo(r.top5, 10);
    }
    const top1 = ours.map((o) => o.top1);
    expect(Math.min(...top1)).toBeGreaterThan(20);
    expect(Math.max(...top1)).toBeLessThan(95);
    // float32 (the default) gives the same predictions on data without near-ties.
    const f32 = knnClassify(train, test, { ks });
    f32.forEach((o, i) => expect(Array.from(o.predictions)).toEqual(Array.from(ours[i].predictions)));
    expect(T.liveTensors()).toBe(before);
  });

  it('clips k to the train set size and still matches the reference', () => {
    const before = T.liveTensors();
    const small = clusters({ n: 50, dim: 24, classes: 7, separation: 0.45, seed: 3 });
    const ref = reference(small, test, ks, 0.07);
    const ours = knnClassify(small, test, { ks, dtype: 'float64' });
    expect(ours.map((o) => o.k)).toEqual([10, 20, 50]);
    for (const o of ours) expect(Array.from(o.predictions)).toEqual(ref[String(o.k)].pred);
    expect(Object.keys(knnScores(ours))).toEqual(['10', '20', '50']);
    expect(T.liveTensors()).toBe(before);
  });

  it('is perfect on well separated classes and rejects bad input', () => {
    const before = T.liveTensors();
    const a = clusters({ n: 70, dim: 16, classes: 7, separation: 6, seed: 4 });
    const b = clusters({ n: 35, dim: 16, classes: 7, separation: 6, seed: 5 });
    const [o] = knnClassify(a, b, { ks: [5] });
    expect(o.top1).toBe(100);
    expect(o.top5).toBe(100);
    expect(() => effectiveKs([0], 10)).toThrow(/positive integer/);
    expect(() => knnClassify(a, { ...b, dim: 8, features: b.features.subarray(0, 35 * 8) })).toThrow(/16 dims but test features 8/);
    expect(() => knnClassify(a, b, { temperature: 0 })).toThrow(/temperature/);
    expect(T.liveTensors()).toBe(before);
  });
});
