import * as path from 'node:path';
import type { VisionTransformer } from '@sere/sere';
import * as T from '@sere/torch';
import { evaluateBackbone } from './report';
import { smallBackbone, smallFolder } from './testing/fixtures';
import { tempDir } from './testing/python';

describe('evaluateBackbone', () => {
  const tmp = tempDir('sere-eval-report-');
  let vit: VisionTransformer;
  let root: string;
  let liveAtStart: number;

  beforeAll(async () => {
    liveAtStart = T.liveTensors();
    vit = smallBackbone(0);
    root = await smallFolder(tmp.dir);
  });
  afterAll(() => {
    vit.dispose();
    tmp.remove();
    expect(T.liveTensors()).toBe(liveAtStart);
  });

  it('splits one folder per class and reports k-NN and linear probe', async () => {
    const lines: string[] = [];
    const r = await evaluateBackbone({ backbone: vit, trainDir: root, size: 32, linear: { epochs: 5 }, log: (l) => lines.push(l) });
    // 4 images per class, 20 % held out → 1 val image per class; the text file (in train) is skipped.
    expect([r.n_train, r.n_val, r.classes, r.feature_dim, r.image_size]).toEqual([9, 3, 3, 32, 32]);
    expect(r.skipped.map((s) => path.basename(s.path))).toEqual(['zz_not_an_image.jpg']);
    expect(Object.keys(r.knn)).toEqual(['9']); // every k clipped to the 9 train images
    for (const s of [r.knn['9'], r.linear!]) {
      expect(s.top1).toBeGreaterThanOrEqual(0);
      expect(s.top1).toBeLessThanOrEqual(100);
      expect(s.top5).toBe(100); // 3 classes
    }
    expect(r.linear).toMatchObject({ epochs: 5, batch_size: 256, feature_dim: 128, n_last_blocks: 4, avgpool: false, aug_views: 0 });
    expect(r.cache).toEqual({ train: 'off', val: 'off' });
    expect(r.split).toMatch(/20 % of each class/);
    expect(r.seconds).toBeGreaterThan(0);
    expect(lines.some((l) => /linear probe/.test(l))).toBe(true);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('reads the features back from the cache the second time, with the same scores', async () => {
    const opts = { backbone: vit, trainDir: root, size: 32, cacheDir: path.join(tmp.dir, 'cache'), linear: { epochs: 3, augViews: 2 } };
    const first = await evaluateBackbone(opts);
    const second = await evaluateBackbone(opts);
    expect([first.cache, second.cache]).toEqual([
      { train: 'miss', val: 'miss' },
      { train: 'hit', val: 'hit' },
    ]);
    expect(second.knn).toEqual(first.knn);
    expect(second.linear).toEqual(first.linear);
    expect(first.linear!.aug_views).toBe(2);
  });

  it('skips the probe on request and evaluates a separate validation folder', async () => {
    const r = await evaluateBackbone({ backbone: vit, trainDir: root, valDir: root, size: 32, ks: [1, 20], linear: false });
    expect(r.linear).toBeNull();
    expect([r.n_train, r.n_val]).toEqual([12, 12]);
    expect(r.knn['1'].top1).toBe(100); // each image's nearest neighbour is itself
    expect(Object.keys(r.knn)).toEqual(['1', '12']);
  });
});
