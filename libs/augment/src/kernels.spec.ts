import { gaussianBlur } from './blur';
import { applyJitter, sampleJitter, toGrayscale } from './colour';
import { cropResize, sampleCropRegion } from './crop';
import { kernels } from './kernels';
import { Rng } from './rng';
import { makeMultiCropSample, VIT_SMALL_VIEWS } from './views';

describe('kernel memory', () => {
  it('grows for a large image, keeps results right, and is handed back after each sample', () => {
    const a = kernels();
    const before = a.mark();
    const width = 2600;
    const height = 1900; // 14.8 MB of RGB, more than the module starts with
    const fill = Rng.forImage(1, 0, 0);
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < rgb.length; i += 997) rgb.fill(fill.int(0, 255), i, i + 997);
    const picture = { width, height, rgb };
    const s = makeMultiCropSample(picture, { ...VIT_SMALL_VIEWS, localCropsNumber: 2, epoch: 0, index: 0, label: 0 }, Rng.forImage(2, 0, 0));
    expect(a.k.memory.buffer.byteLength).toBeGreaterThan(rgb.length);
    expect(a.mark()).toBe(before);
    // Replay global crop 1 with the standalone ops (each copies in and out) and compare bytes.
    const rng = Rng.forImage(2, 0, 0);
    const region = sampleCropRegion(rng, width, height, VIT_SMALL_VIEWS.globalCropsScale);
    const view = cropResize(picture, { ...region, flip: rng.bernoulli(0.5) }, 224);
    if (rng.bernoulli(0.8)) applyJitter(view, sampleJitter(rng));
    if (rng.bernoulli(0.2)) toGrayscale(view);
    if (rng.bernoulli(1)) gaussianBlur(view, 224, 224, rng.uniform(0.1, 2.0));
    expect(Buffer.from(s.views[0].rgb).equals(Buffer.from(view))).toBe(true);
  });

  it('is handed back when making a sample throws', () => {
    const a = kernels();
    const before = a.mark();
    const picture = { width: 10, height: 10, rgb: new Uint8Array(300) };
    const opts = { ...VIT_SMALL_VIEWS, epoch: 0, index: 0, label: 0 };
    expect(() => makeMultiCropSample({ ...picture, rgb: new Uint8Array(299) }, opts, Rng.forImage(0, 0, 0))).toThrow(/299 bytes/);
    expect(a.mark()).toBe(before);
  });
});
