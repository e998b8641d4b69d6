import { Rng } from '@sere/augment';
import { drawPicture } from './draw';

/** Share of pixels that belong to a shape (light) rather than the darker background. */
function shapeShare(rgb: Uint8Array): number {
  let n = 0;
  for (let k = 0; k < rgb.length; k += 3) if ((rgb[k] + rgb[k + 1] + rgb[k + 2]) / 3 > 185) n++;
  return n / (rgb.length / 3);
}

/** Largest difference between the channels of any pixel: how coloured a picture is. */
function chroma(rgb: Uint8Array): number {
  let c = 0;
  for (let k = 0; k < rgb.length; k += 3) c = Math.max(c, Math.max(rgb[k], rgb[k + 1], rgb[k + 2]) - Math.min(rgb[k], rgb[k + 1], rgb[k + 2]));
  return c;
}

function meanColour(rgb: Uint8Array): number[] {
  const m = [0, 0, 0];
  for (let k = 0; k < rgb.length; k++) m[k % 3] += rgb[k] / (rgb.length / 3);
  return m;
}

describe('drawPicture', () => {
  it('draws the same picture from the same generator state', () => {
    for (const style of ['classic', 'shape-only', 'scattered'] as const) {
      const a = drawPicture(48, 40, 3, 8, Rng.fromKey([1, 2]), style);
      expect(a.length).toBe(48 * 40 * 3);
      expect(Buffer.from(drawPicture(48, 40, 3, 8, Rng.fromKey([1, 2]), style)).equals(Buffer.from(a))).toBe(true);
      expect(Buffer.from(drawPicture(48, 40, 3, 8, Rng.fromKey([1, 3]), style)).equals(Buffer.from(a))).toBe(false);
    }
  });

  it("scattered: light shapes on grey, nearly colourless, and a picture's tone says nothing of its class", () => {
    const shares: number[] = [];
    const chromas: number[] = [];
    const means: number[][][] = [[], []];
    for (let i = 0; i < 40; i++) {
      for (const cls of [0, 1]) {
        const rgb = drawPicture(64, 64, cls, 8, Rng.fromKey([9, cls, i]), 'scattered');
        shares.push(shapeShare(rgb));
        chromas.push(chroma(rgb));
        means[cls].push(meanColour(rgb));
      }
    }
    // Every picture holds some shape, and the grey background stays the majority.
    expect(Math.min(...shares)).toBeGreaterThan(0.02);
    expect(Math.max(...shares)).toBeLessThan(0.7);
    expect(Math.max(...chromas)).toBeLessThan(60);
    // The two classes' average colours differ by far less than pictures differ within a class.
    const avg = (rows: number[][]) => [0, 1, 2].map((c) => rows.reduce((s, r) => s + r[c], 0) / rows.length);
    const [a, b] = [avg(means[0]), avg(means[1])];
    const spread = Math.sqrt(means[0].reduce((s, r) => s + (r[0] - a[0]) ** 2, 0) / means[0].length);
    expect(Math.abs(a[0] - b[0])).toBeLessThan(spread);
  });
});
