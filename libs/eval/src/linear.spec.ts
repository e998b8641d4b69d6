import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { epochPermutation } from '@sere/augment';
import * as T from '@sere/torch';
import type { FeatureSet } from './feature-set';
import { cosineLr, initialWeights, LINEAR_BASE_LR, trainLinearProbe } from './linear';
import { clusters } from './testing/synthetic';
import { runPython, tempDir } from './testing/python';

// PyTorch's own optimiser and scheduler on the same data, initial weights and batch order.
const REFERENCE = `
import sys, json
import numpy as np, torch
d = sys.argv[1]
m = json.load(open(f"{d}/meta.json"))
x = torch.from_numpy(np.fromfile(f"{d}/x.f32", dtype=np.float32).reshape(m["n"], m["dim"]))
y = torch.from_numpy(np.fromfile(f"{d}/y.i32", dtype=np.int32).astype(np.int64))
orders = np.fromfile(f"{d}/orders.i32", dtype=np.int32).reshape(m["epochs"], m["n"])
layer = torch.nn.Linear(m["dim"], m["classes"])
with torch.no_grad():
    layer.weight.copy_(torch.from_numpy(np.fromfile(f"{d}/w0.f32", dtype=np.float32).reshape(m["classes"], m["dim"])))
    layer.bias.zero_()
opt = torch.optim.SGD(layer.parameters(), lr=m["lr"] * m["batch"] / 256, momentum=0.9, weight_decay=0)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, m["epochs"], eta_min=0)
losses = []
for e in range(m["epochs"]):
    total = 0.0
    for s in range(0, m["n"], m["batch"]):
        idx = torch.from_numpy(orders[e, s:s + m["batch"]].astype(np.int64))
        loss = torch.nn.functional.cross_entropy(layer(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    losses.append(total / m["n"])
    sched.step()
print(json.dumps(losses))
`;

describe('linear probe', () => {
  it('follows torch.optim.SGD(momentum 0.9) with CosineAnnealingLR step for step', () => {
    const before = T.liveTensors();
    const train = clusters({ n: 90, dim: 12, classes: 5, separation: 0.6, seed: 11 });
    const val = clusters({ n: 25, dim: 12, classes: 5, separation: 0.6, seed: 12 });
    const opts = { epochs: 6, batchSize: 32, lr: 0.8, seed: 3 };
    const ours = trainLinearProbe(train, val, opts);

    const { dir, remove } = tempDir('sere-eval-linear-');
    try {
      const put = (name: string, a: Float32Array | Int32Array) => writeFileSync(path.join(dir, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
      put('x.f32', train.features);
      put('y.i32', train.labels);
      put('w0.f32', initialWeights(opts.seed, 5, 12));
      const orders = new Int32Array(opts.epochs * train.n);
      for (let e = 0; e < opts.epochs; e++) orders.set(epochPermutation(opts.seed, e, train.n), e * train.n);
      put('orders.i32', orders);
      writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ n: train.n, dim: 12, classes: 5, epochs: opts.epochs, batch: opts.batchSize, lr: opts.lr }));
      const ref: number[] = JSON.parse(runPython(REFERENCE, [dir]));
      expect(ours.losses).toHaveLength(ref.length);
      ours.losses.forEach((l, e) => expect(Math.abs(l - ref[e])).toBeLessThan(1e-5 * Math.max(1, ref[e])));
    } finally {
      remove();
    }
    expect(T.liveTensors()).toBe(before);
  });

  it('separates linearly separable classes and the loss goes down', () => {
    const before = T.liveTensors();
    const train = clusters({ n: 400, dim: 32, classes: 8, separation: 1.5, seed: 21 });
    const val = clusters({ n: 160, dim: 32, classes: 8, separation: 1.5, seed: 22 });
    const r = trainLinearProbe(train, val, { epochs: 30, batchSize: 64, seed: 1 });
    expect(r.top1).toBeGreaterThanOrEqual(99);
    expect(r.top5).toBe(100);
    expect(r.losses[r.losses.length - 1]).toBeLessThan(0.25 * r.losses[0]);
    for (let e = 1; e < r.losses.length; e++) expect(r.losses[e]).toBeLessThan(r.losses[e - 1] + 1e-3);
    expect(r.lr).toBeCloseTo((LINEAR_BASE_LR * 64) / 256, 12);
    expect(T.liveTensors()).toBe(before);
  });

  it('repeats exactly with a seed and trains on augmented views in turn', () => {
    const before = T.liveTensors();
    const train = clusters({ n: 120, dim: 16, classes: 4, separation: 0.8, seed: 31 });
    const view2: FeatureSet = clusters({ n: 120, dim: 16, classes: 4, separation: 0.8, seed: 32 });
    const val = clusters({ n: 40, dim: 16, classes: 4, separation: 0.8, seed: 33 });
    const a = trainLinearProbe(train, val, { epochs: 4, seed: 5 });
    const b = trainLinearProbe(train, val, { epochs: 4, seed: 5 });
    const c = trainLinearProbe(train, val, { epochs: 4, seed: 6 });
    expect(b).toEqual(a);
    expect(c.losses).not.toEqual(a.losses);
    const seen: number[] = [];
    const v = trainLinearProbe([train, view2], val, { epochs: 4, seed: 5, onEpoch: (i) => seen.push(i.lr) });
    expect(v.losses[0]).toBe(a.losses[0]); // epoch 0 reads view 0
    expect(v.losses[1]).not.toBe(a.losses[1]); // epoch 1 reads view 1
    expect(seen).toEqual([0, 1, 2, 3].map((e) => cosineLr(LINEAR_BASE_LR, e, 4)));
    expect(T.liveTensors()).toBe(before);
  });

  it('rejects bad input with the field named', () => {
    const train = clusters({ n: 20, dim: 8, classes: 2, separation: 1, seed: 1 });
    const other = clusters({ n: 20, dim: 6, classes: 2, separation: 1, seed: 1 });
    expect(() => trainLinearProbe(train, other)).toThrow(/8 dims but validation features 6/);
    expect(() => trainLinearProbe(train, train, { epochs: 0 })).toThrow(/epochs must be a positive integer/);
    const shuffled = { ...train, labels: train.labels.map((l) => 1 - l) };
    expect(() => trainLinearProbe([train, shuffled], train)).toThrow(/disagree on the label/);
  });
});
