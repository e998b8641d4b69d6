import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  applyJitter,
  JITTER_STRENGTH,
  sampleJitter,
  solarize,
  toGrayscale,
  type JitterParams,
} from './colour';
import { Rng } from './rng';
import { compare, pilReference, testPicture, type ReferenceOp } from './testing/pil-reference';

// Expectations come from torchvision 0.14's functional ops on PIL images, run with fixed
// factors under /usr/bin/python3; a missing torchvision makes these tests fail, not skip.
const picture = testPicture(41, 33);

type Case = { name: string; ref: ReferenceOp; ours: (rgb: Uint8Array) => void };

const jitter: JitterParams = { order: ['hue', 'contrast', 'brightness', 'saturation'], brightness: 1.27, contrast: 0.66, saturation: 1.15, hue: -0.083 };
const cases: Case[] = [
  ...[0.6, 0.93, 1.3, 1.4].map((f) => ({ name: `brightness ${f}`, ref: { op: 'brightness', factor: f } as ReferenceOp, ours: (x: Uint8Array) => adjustBrightness(x, f) })),
  ...[0.6, 0.87, 1.21, 1.4].map((f) => ({ name: `contrast ${f}`, ref: { op: 'contrast', factor: f } as ReferenceOp, ours: (x: Uint8Array) => adjustContrast(x, f) })),
  ...[0.8, 0.95, 1.12, 1.2].map((f) => ({ name: `saturation ${f}`, ref: { op: 'saturation', factor: f } as ReferenceOp, ours: (x: Uint8Array) => adjustSaturation(x, f) })),
  ...[-0.1, -0.047, 0.003, 0.031, 0.1].map((f) => ({ name: `hue ${f}`, ref: { op: 'hue', factor: f } as ReferenceOp, ours: (x: Uint8Array) => adjustHue(x, f) })),
  { name: 'grayscale', ref: { op: 'grayscale' }, ours: toGrayscale },
  { name: 'solarize', ref: { op: 'solarize' }, ours: (x) => solarize(x) },
  {
    name: 'jitter in a fixed order',
    ref: { op: 'sequence', ops: jitter.order.map((op) => ({ op, factor: jitter[op] })) },
    ours: (x) => applyJitter(x, jitter),
  },
];

describe('colour ops match torchvision 0.14 on PIL images', () => {
  const expected = pilReference(picture, cases.map((c) => c.ref));

  it.each(cases.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const ours = picture.rgb.slice();
    cases[i].ours(ours);
    const diff = compare(ours, expected[i].rgb);
    expect(diff.max).toBeLessThanOrEqual(2);
    expect(diff.mean).toBeLessThanOrEqual(0.05);
  });

  it('changes the picture for every non-identity case (the comparison is not vacuous)', () => {
    // Even hue 0.003 (a zero shift after truncation) changes pixels: the HSV round trip is lossy.
    cases.forEach((_c, i) => expect(compare(picture.rgb, expected[i].rgb).max).toBeGreaterThan(0));
  });
});

describe('colour ops on many random colours (vector lanes and the scalar tail)', () => {
  // 257 x 255 = 65,535 pixels: a quarter of all hue/saturation byte combinations in
  // expectation, and 3 pixels left over after the 4-pixel vector loop.
  const rng = Rng.forImage(8, 0, 0);
  const random = { width: 257, height: 255, rgb: Uint8Array.from({ length: 257 * 255 * 3 }, () => rng.int(0, 255)) };
  const factors = [-0.1, -0.0433, 0.002, 0.05, 0.1];
  const ops: ReferenceOp[] = [
    ...factors.map((factor) => ({ op: 'hue', factor }) as ReferenceOp),
    { op: 'saturation', factor: 1.17 },
    { op: 'saturation', factor: 0.81 },
    { op: 'contrast', factor: 1.33 },
    { op: 'grayscale' },
  ];
  const expected = pilReference(random, ops);

  it.each(ops.map((o, i) => [JSON.stringify(o), i] as const))('%s', (_name, i) => {
    const ours = random.rgb.slice();
    const o = ops[i];
    if (o.op === 'hue') adjustHue(ours, o.factor);
    else if (o.op === 'saturation') adjustSaturation(ours, o.factor);
    else if (o.op === 'contrast') adjustContrast(ours, o.factor);
    else toGrayscale(ours);
    const diff = compare(ours, expected[i].rgb);
    expect(diff.max).toBeLessThanOrEqual(2);
    expect(diff.mean).toBeLessThanOrEqual(0.01);
  });
});

describe('colour-jitter parameters', () => {
  it('draw factors in torchvision ranges and a uniformly random order', () => {
    const rng = Rng.forImage(3, 0, 0);
    const firsts = new Map<string, number>();
    const widest = { brightness: 0, contrast: 0, saturation: 0, hue: 0 };
    let allPermutations = true;
    for (let i = 0; i < 4000; i++) {
      const p = sampleJitter(rng);
      allPermutations &&= new Set(p.order).size === 4;
      firsts.set(p.order[0], (firsts.get(p.order[0]) ?? 0) + 1);
      widest.brightness = Math.max(widest.brightness, Math.abs(p.brightness - 1));
      widest.contrast = Math.max(widest.contrast, Math.abs(p.contrast - 1));
      widest.saturation = Math.max(widest.saturation, Math.abs(p.saturation - 1));
      widest.hue = Math.max(widest.hue, Math.abs(p.hue));
    }
    expect(allPermutations).toBe(true);
    for (const k of ['brightness', 'contrast', 'saturation', 'hue'] as const) {
      expect(widest[k]).toBeLessThanOrEqual(JITTER_STRENGTH[k]);
      expect(widest[k]).toBeGreaterThan(0.95 * JITTER_STRENGTH[k]); // the whole range is used
    }
    for (const n of firsts.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });

  it('refuses a hue factor outside [-0.5, 0.5]', () => {
    expect(() => adjustHue(new Uint8Array(3), 0.7)).toThrow(/hue/i);
  });
});
