import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decodeImage } from '@sere/augment';
import { indexImageFolder } from '@sere/dataset';
import type { VisionTransformer } from '@sere/sere';
import * as T from '@sere/torch';
import { FeatureCache } from './cache';
import { extractFeatures, type FeatureItem } from './features';
import { smallBackbone, smallFolder } from './testing/fixtures';
import { tempDir } from './testing/python';
import { evalTransform, evalView, trainTransform } from './transforms';

const LN_EPS = 1e-6;
const transform = evalTransform(32, 36);

describe('feature extraction', () => {
  const tmp = tempDir('sere-eval-features-');
  let vit: VisionTransformer;
  let items: FeatureItem[];
  let liveAtStart: number;

  beforeAll(async () => {
    liveAtStart = T.liveTensors();
    vit = smallBackbone(0);
    // The backbone keeps one positional-table resize matrix per grid size: build the 4×4 one
    // now, so each test's tensor count starts and ends with it.
    T.noGrad(() => T.scope(() => vit.forward(T.zeros([1, 3, 32, 32]))));
    items = (await indexImageFolder(await smallFolder(tmp.dir))).entries;
  });
  afterAll(() => {
    vit.dispose();
    tmp.remove();
    expect(T.liveTensors()).toBe(liveAtStart);
  });

  it('gives the final-norm CLS and the normalised CLS tokens of the last n blocks', async () => {
    const before = T.liveTensors();
    const f = await extractFeatures(vit, items, { transform, nLastBlocks: 3, batchSize: 5 });
    expect(f.skipped.map((s) => path.basename(s.path))).toEqual(['zz_not_an_image.jpg']);
    expect(f.cls.n).toBe(12);
    expect([f.cls.dim, f.probe.dim]).toEqual([32, 96]);
    expect(Array.from(f.cls.labels)).toEqual(items.filter((it) => !it.path.includes('zz_not_an_image')).map((it) => it.label));
    for (let i = 0; i < f.cls.n; i++) {
      // The probe feature ends with the k-NN feature: the last block's CLS after the final norm.
      expect(Array.from(f.probe.features.subarray(i * 96 + 64, i * 96 + 96))).toEqual(Array.from(f.cls.features.subarray(i * 32, i * 32 + 32)));
    }

    // Independently: one image through the backbone, every block's tokens normalised in full.
    const first = await decodeImage(items[0].path);
    const expected = T.noGrad(() =>
      T.scope(() => {
        const out = vit.forward(T.tensor(evalView(first, transform), [1, 3, 32, 32]), { keepBlocks: true });
        const norm = (h: T.Tensor) => T.layerNorm(h, vit.params.get('norm.weight'), vit.params.get('norm.bias'), LN_EPS).select(1, 0);
        return T.cat(out.blocks!.slice(1).map(norm), 1).toFloat32Array();
      }),
    );
    const got = f.probe.features.subarray(0, 96);
    expected.forEach((v, j) => expect(Math.abs(got[j] - v)).toBeLessThan(1e-5));
    expect(T.liveTensors()).toBe(before);
  });

  it('appends the mean patch token with avgPool (the ViT-B layout, n = 1)', async () => {
    const before = T.liveTensors();
    const f = await extractFeatures(vit, items.slice(0, 2), { transform, nLastBlocks: 1, avgPool: true });
    expect(f.probe.dim).toBe(64);
    const img = await decodeImage(items[0].path);
    const mean = T.noGrad(() =>
      T.scope(() => {
        const tokens = vit.forward(T.tensor(evalView(img, transform), [1, 3, 32, 32])).tokens;
        return tokens.slice(1, 1, tokens.shape[1]).mean([1]).toFloat32Array();
      }),
    );
    mean.forEach((v, j) => expect(Math.abs(f.probe.features[32 + j] - v)).toBeLessThan(1e-5));
    expect(T.liveTensors()).toBe(before);
  });

  it('is deterministic, whatever the batch size', async () => {
    const before = T.liveTensors();
    const a = await extractFeatures(vit, items, { transform, batchSize: 4 });
    const b = await extractFeatures(vit, items, { transform, batchSize: 4 });
    const c = await extractFeatures(vit, items, { transform, batchSize: 64 });
    expect(Buffer.from(a.probe.features.buffer).equals(Buffer.from(b.probe.features.buffer))).toBe(true);
    a.probe.features.forEach((v, j) => expect(Math.abs(c.probe.features[j] - v)).toBeLessThan(1e-5));
    // Augmented views: each (seed, view) repeats; another view is another crop.
    const v0 = await extractFeatures(vit, items, { transform: trainTransform(32), seed: 1, view: 0 });
    const v0again = await extractFeatures(vit, items, { transform: trainTransform(32), seed: 1, view: 0 });
    const v1 = await extractFeatures(vit, items, { transform: trainTransform(32), seed: 1, view: 1 });
    expect(Buffer.from(v0.probe.features.buffer).equals(Buffer.from(v0again.probe.features.buffer))).toBe(true);
    expect(Buffer.from(v0.probe.features.buffer).equals(Buffer.from(v1.probe.features.buffer))).toBe(false);
    expect(Array.from(v1.probe.labels)).toEqual(Array.from(a.probe.labels));
    expect(T.liveTensors()).toBe(before);
  });

  it('caches by backbone, transform and files, and survives a damaged cache file', async () => {
    const before = T.liveTensors();
    const cache = new FeatureCache(path.join(tmp.dir, 'cache'));
    const first = await extractFeatures(vit, items, { transform, cache });
    const second = await extractFeatures(vit, items, { transform, cache });
    expect([first.cached, second.cached]).toEqual([false, true]);
    expect(second.probe).toEqual(first.probe);
    expect(second.cls).toEqual(first.cls);
    expect(second.skipped).toEqual(first.skipped);

    expect((await extractFeatures(vit, items, { transform: evalTransform(32, 40), cache })).cached).toBe(false);
    const other = smallBackbone(1);
    try {
      expect((await extractFeatures(other, items, { transform, cache })).cached).toBe(false);
    } finally {
      other.dispose();
    }
    const touched = new Date(Date.now() + 5000);
    await fs.utimes(items[3].path, touched, touched);
    expect((await extractFeatures(vit, items, { transform, cache })).cached).toBe(false);

    for (const f of await fs.readdir(cache.dir)) await fs.truncate(path.join(cache.dir, f), 100);
    const again = await extractFeatures(vit, items, { transform, cache });
    expect(again.cached).toBe(false);
    expect(again.probe).toEqual(first.probe);
    expect((await extractFeatures(vit, items, { transform, cache })).cached).toBe(true);
    expect(T.liveTensors()).toBe(before);
  });

  it('names the bad option', async () => {
    await expect(extractFeatures(vit, items, { transform, nLastBlocks: 5 })).rejects.toThrow(/nLastBlocks must be an integer in \[1, 4\]/);
    await expect(extractFeatures(vit, items, { transform: evalTransform(36) })).rejects.toThrow(/36 px is not a multiple of the patch size 8/);
  });
});
