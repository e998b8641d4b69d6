import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { gaussianBlur } from './blur';
import { applyJitter, sampleJitter, solarize, toGrayscale } from './colour';
import { cropResize, sampleCropRegion } from './crop';
import { overlapGrids } from './grids';
import { Rng } from './rng';
import { testPicture } from './testing/pil-reference';
import type { MultiCropSample } from './types';
import { augmentImage, makeMultiCropSample, VIT_SMALL_VIEWS, type MultiCropOptions } from './views';

const picture = testPicture(160, 120, 7);

/** Byte-level equality of two samples (jest's deep equality is slow on large typed arrays). */
function sameSample(a: MultiCropSample, b: MultiCropSample): boolean {
  const bytes = (x: ArrayBufferView): Buffer => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  const arrays = (s: MultiCropSample): ArrayBufferView[] => [
    ...s.views.map((v) => v.rgb),
    ...s.masks,
    ...s.gridsGlobal1,
    ...s.gridsGlobal2,
    ...s.gridsLocal,
    ...s.gridsGlobalSide,
  ];
  const xs = arrays(a);
  const ys = arrays(b);
  return (
    JSON.stringify([a.index, a.label, a.maskGrid, a.views.map((v) => [v.size, v.rect])]) ===
      JSON.stringify([b.index, b.label, b.maskGrid, b.views.map((v) => [v.size, v.rect])]) &&
    xs.length === ys.length &&
    xs.every((x, i) => bytes(x).equals(bytes(ys[i])))
  );
}
const options = (over: Partial<MultiCropOptions> = {}): MultiCropOptions => ({
  ...VIT_SMALL_VIEWS,
  localCropsNumber: 4,
  overlapSize: [5, 4],
  epoch: 3,
  index: 42,
  label: 7,
  ...over,
});

describe('makeMultiCropSample', () => {
  it('lays out views, masks and grids as types.ts / spec §5.1 say', () => {
    const L = 4;
    const s = makeMultiCropSample(picture, options(), Rng.forImage(0, 3, 42));
    expect([s.index, s.label, s.maskGrid]).toEqual([42, 7, 14]);
    expect(s.views.map((v) => v.size)).toEqual([224, 224, 96, 96, 96, 96]);
    for (const v of s.views) {
      expect(v.rgb).toBeInstanceOf(Uint8Array);
      expect(v.rgb.length).toBe(v.size * v.size * 3);
      expect(v.rect.x0 >= 0 && v.rect.y0 >= 0 && v.rect.x0 + v.rect.w <= 160 && v.rect.y0 + v.rect.h <= 120).toBe(true);
    }
    expect(s.masks.map((m) => m.length)).toEqual([196, 196]);
    expect(s.gridsGlobal1.map((g) => g.length)).toEqual([5 * 5 * 2, 5 * 5 * 2]);
    expect(s.gridsGlobal2.map((g) => g.length)).toEqual([4 * 4 * 2, 4 * 4 * 2]);
    expect(s.gridsLocal).toHaveLength(2 * L);
    expect(s.gridsGlobalSide).toHaveLength(2 * L);
    const [g1, g2] = [s.views[0].rect, s.views[1].rect];
    expect(s.gridsGlobal1).toEqual(overlapGrids(g1, g2, 5));
    expect(s.gridsGlobal2).toEqual(overlapGrids(g1, g2, 4));
    for (let q = 0; q < 2; q++) {
      for (let v = 0; v < L; v++) {
        const [local, global] = overlapGrids(s.views[2 + v].rect, s.views[q].rect, 6);
        expect(s.gridsLocal[q * L + v]).toEqual(local);
        expect(s.gridsGlobalSide[q * L + v]).toEqual(global);
      }
    }
  });

  it('is byte-identical for the same (seed, epoch, index) and differs otherwise', () => {
    const a = makeMultiCropSample(picture, options(), Rng.forImage(5, 3, 42));
    const b = makeMultiCropSample(picture, options(), Rng.forImage(5, 3, 42));
    expect(sameSample(a, b)).toBe(true);
    const c = makeMultiCropSample(picture, options(), Rng.forImage(5, 3, 43));
    expect(sameSample(a, c)).toBe(false);
  });

  it('cuts every view as crop → flip → jitter → grayscale → blur → solarise, from the same draws', () => {
    // Replays the spec's order with the standalone ops on ordinary buffers and compares bytes.
    let blurred = 0;
    let solarised = 0;
    for (let seed = 0; seed < 12; seed++) {
      const s = makeMultiCropSample(picture, options({ useMaskedImModeling: false }), Rng.forImage(seed, 0, 0));
      const rng = Rng.forImage(seed, 0, 0);
      const replay = (size: number, scale: readonly [number, number], pBlur: number, pSolarize: number): Uint8Array => {
        const region = sampleCropRegion(rng, picture.width, picture.height, scale);
        const rgb = cropResize(picture, { ...region, flip: rng.bernoulli(0.5) }, size);
        if (rng.bernoulli(0.8)) applyJitter(rgb, sampleJitter(rng));
        if (rng.bernoulli(0.2)) toGrayscale(rgb);
        if (rng.bernoulli(pBlur)) {
          gaussianBlur(rgb, size, size, rng.uniform(0.1, 2.0));
          blurred++;
        }
        if (pSolarize > 0 && rng.bernoulli(pSolarize)) {
          solarize(rgb);
          solarised++;
        }
        return rgb;
      };
      const expected = [replay(224, VIT_SMALL_VIEWS.globalCropsScale, 1, 0), replay(224, VIT_SMALL_VIEWS.globalCropsScale, 0.1, 0.2)];
      for (let v = 0; v < 4; v++) expected.push(replay(96, VIT_SMALL_VIEWS.localCropsScale, 0.5, 0));
      s.views.forEach((view, i) => expect(Buffer.from(view.rgb).equals(Buffer.from(expected[i]))).toBe(true));
    }
    expect(blurred).toBeGreaterThan(12);
    expect(solarised).toBeGreaterThan(0);
  });

  it('asks for the spec probabilities of each pipeline, in order', () => {
    const rng = Rng.forImage(1, 0, 0);
    const asked: number[] = [];
    const bernoulli = rng.bernoulli.bind(rng);
    rng.bernoulli = (p: number): boolean => {
      asked.push(p);
      return bernoulli(p);
    };
    const L = 3;
    // Masks off so that only view draws are recorded.
    makeMultiCropSample(picture, options({ localCropsNumber: L, useMaskedImModeling: false }), rng);
    // flip .5, jitter .8, grayscale .2, then blur (and solarise for global 2)
    const expected = [0.5, 0.8, 0.2, 1.0, 0.5, 0.8, 0.2, 0.1, 0.2, ...Array(L).fill([0.5, 0.8, 0.2, 0.5]).flat()];
    expect(asked).toEqual(expected);
  });

  it('leaves masks empty without masked image modelling and grids empty without local crops', () => {
    const s = makeMultiCropSample(picture, options({ useMaskedImModeling: false, localCropsNumber: 0 }), Rng.forImage(1, 1, 1));
    expect(s.views).toHaveLength(2);
    expect(s.masks.every((m) => m.every((x) => x === 0))).toBe(true);
    expect(s.gridsLocal).toEqual([]);
    expect(s.gridsGlobalSide).toEqual([]);
  });

  it('refuses bad options with the field name', () => {
    expect(() => makeMultiCropSample(picture, options({ localCropsNumber: -1 }), Rng.forImage(0, 0, 0))).toThrow(/localCropsNumber/);
    expect(() => makeMultiCropSample(picture, options({ patchSize: 15 }), Rng.forImage(0, 0, 0))).toThrow(/patchSize/);
    expect(() => makeMultiCropSample(picture, options({ overlapSize: [1, 13] }), Rng.forImage(0, 0, 0))).toThrow(/overlapSize/);
  });
});

describe('augmentImage', () => {
  it('decodes once and reproduces the same sample from (seed, epoch, index) on another call', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'augment-views-'));
    try {
      const file = path.join(dir, 'picture.jpg');
      await sharp(Buffer.from(picture.rgb), { raw: { width: 160, height: 120, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
      const a = await augmentImage(file, options(), 11);
      const b = await augmentImage(await fs.readFile(file), options(), 11);
      expect(sameSample(a, b)).toBe(true);
      expect(a.views).toHaveLength(6);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
