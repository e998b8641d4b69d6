import * as path from 'path';
import { cropResize, sampleCropRegion } from './crop';
import { Rng } from './rng';
import { compare, pilReference, runReferencePython, testPicture } from './testing/pil-reference';

interface Stats {
  mean_area: number;
  sd_area: number;
  mean_log_ratio: number;
  sd_log_ratio: number;
  below_cut: number;
}

function ourStats(width: number, height: number, scale: [number, number], draws: number): Stats {
  const rng = Rng.forImage(21, 0, 0);
  const cut = scale[0] + 0.1 * (scale[1] - scale[0]);
  const areas: number[] = [];
  const logs: number[] = [];
  for (let i = 0; i < draws; i++) {
    const r = sampleCropRegion(rng, width, height, scale);
    if (r.x0 < 0 || r.y0 < 0 || r.x0 + r.w > width || r.y0 + r.h > height) throw new Error(`crop outside the image: ${JSON.stringify(r)}`);
    areas.push((r.w * r.h) / (width * height));
    logs.push(Math.log(r.w / r.h));
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const ma = mean(areas);
  const ml = mean(logs);
  return {
    mean_area: ma,
    sd_area: Math.sqrt(mean(areas.map((x) => (x - ma) ** 2))),
    mean_log_ratio: ml,
    sd_log_ratio: Math.sqrt(mean(logs.map((x) => (x - ml) ** 2))),
    below_cut: areas.filter((a) => a < cut).length / areas.length,
  };
}

describe('random-resized-crop sampler (spec §5.1)', () => {
  // Same statistics from torchvision's own sampler. Both sides are seeded, so the outcome is
  // fixed; with 10k draws a side the standard error of a difference of mean areas is about
  // 0.0025 and of mean log ratios about 0.0023, so the bounds sit near 2.5–3.5 of them.
  const settings: { width: number; height: number; scale: [number, number] }[] = [
    { width: 500, height: 375, scale: [0.05, 0.4] }, // local crops (ViT-S recipe)
    { width: 375, height: 500, scale: [0.4, 1] }, // global crops, portrait: many tries rejected
  ];
  const draws = 10000;

  const reference = runReferencePython(path.join(__dirname, 'testing', 'crop_stats.py'), { settings, draws, seed: 0 }) as Stats[];

  it.each(settings.map((s, i) => ({ ...s, i })))('matches torchvision on a $width x $height image, scale $scale', ({ width, height, scale, i }) => {
    const ref = reference[i];
    const ours = ourStats(width, height, scale, draws);
    expect(Math.abs(ours.mean_area - ref.mean_area)).toBeLessThan(0.006);
    expect(Math.abs(ours.sd_area - ref.sd_area)).toBeLessThan(0.006);
    expect(Math.abs(ours.mean_log_ratio - ref.mean_log_ratio)).toBeLessThan(0.008);
    expect(Math.abs(ours.sd_log_ratio - ref.sd_log_ratio)).toBeLessThan(0.008);
    expect(Math.abs(ours.below_cut - ref.below_cut)).toBeLessThan(0.015);
  });

  it('has the spec distribution where no try is rejected: area U(scale), log ratio U(log 3/4, log 4/3)', () => {
    const s = ourStats(500, 375, [0.05, 0.4], draws);
    expect(Math.abs(s.mean_area - 0.225)).toBeLessThan(0.004);
    expect(Math.abs(s.sd_area - 0.35 / Math.sqrt(12))).toBeLessThan(0.004);
    expect(Math.abs(s.mean_log_ratio)).toBeLessThan(0.006);
    expect(Math.abs(s.sd_log_ratio - (2 * Math.log(4 / 3)) / Math.sqrt(12))).toBeLessThan(0.006);
  });

  it('falls back to the centred whole image clamped to the ratio range', () => {
    const rng = Rng.forImage(1, 0, 0);
    expect(sampleCropRegion(rng, 1000, 10, [0.9, 1])).toEqual({ x0: 493, y0: 0, w: 13, h: 10 });
    expect(sampleCropRegion(rng, 10, 1000, [0.9, 1])).toEqual({ x0: 0, y0: 493, w: 10, h: 13 });
  });

  it('refuses an empty or inverted scale range', () => {
    const rng = Rng.forImage(1, 0, 0);
    expect(() => sampleCropRegion(rng, 10, 10, [0.5, 0.2])).toThrow(/scale/);
    expect(() => sampleCropRegion(rng, 10, 10, [0, 0.2])).toThrow(/scale/);
  });
});

describe('crop + bicubic resize matches torchvision resized_crop (PIL bicubic)', () => {
  const picture = testPicture(157, 113, 4);
  const cases = [
    { top: 5, left: 7, height: 100, width: 140, size: 64, flip: false }, // downscale, both axes
    { top: 0, left: 0, height: 113, width: 157, size: 224, flip: true }, // upscale, whole image
    { top: 10, left: 20, height: 50, width: 30, size: 96, flip: false }, // mixed
    { top: 3, left: 3, height: 96, width: 96, size: 96, flip: false }, // no resampling at all
    { top: 3, left: 3, height: 96, width: 70, size: 96, flip: true }, // one axis only
    { top: 90, left: 140, height: 23, width: 17, size: 96, flip: false }, // bottom-right corner
  ];
  const expected = pilReference(picture, cases.map((c) => ({ op: 'resized_crop' as const, ...c })));

  it.each(cases.map((c, i) => [JSON.stringify(c), i] as const))('%s', (_name, i) => {
    const c = cases[i];
    const ours = cropResize(picture, { x0: c.left, y0: c.top, w: c.width, h: c.height, flip: c.flip }, c.size);
    expect(expected[i].width).toBe(c.size);
    const diff = compare(ours, expected[i].rgb);
    expect(diff.max).toBeLessThanOrEqual(2);
    expect(diff.mean).toBeLessThanOrEqual(0.05);
  });

  it('refuses a rectangle outside the image', () => {
    expect(() => cropResize(picture, { x0: 150, y0: 0, w: 10, h: 10, flip: false }, 8)).toThrow(/does not fit/);
  });
});
