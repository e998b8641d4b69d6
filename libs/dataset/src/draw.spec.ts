import { Rng } from '@sere/augment';
import { drawPicture, PICTURE_STYLES } from './draw';

/** Share of pixels that belong to a shape (light) rather than the darker background. */
function shapeShare(rgb: Uint8Array): number {
  let n = 0;
  for (let k = 0; k < rgb.length; k += 3) if ((rgb[k] + rgb[k + 1] + rgb[k + 2]) / 3 > 185) n++;
  return n / (rgb.length / 3);
}

/**
 * The same for the coloured motifs styles: shapes are drawn at value >= 0.75, the ground at
 * <= 0.5, so the brightest channel tells them apart.
 */
function motifShare(rgb: Uint8Array): number {
  let n = 0;
  for (let k = 0; k < rgb.length; k += 3) if (Math.max(rgb[k], rgb[k + 1], rgb[k + 2]) > 175) n++;
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
    for (const style of PICTURE_STYLES) {
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

  it('motifs: every quarter of a picture holds copies of the shape, and its colours wander within the picture', () => {
    const quarter = (rgb: Uint8Array, side: number, q: number) => {
      const out: number[] = [];
      for (let y = (q >> 1) * (side / 2); y < ((q >> 1) + 1) * (side / 2); y++) {
        for (let x = (q & 1) * (side / 2); x < ((q & 1) + 1) * (side / 2); x++) out.push(...rgb.subarray((y * side + x) * 3, (y * side + x) * 3 + 3));
      }
      return Uint8Array.from(out);
    };
    const spreads: number[] = [];
    for (let i = 0; i < 20; i++) {
      const rgb = drawPicture(128, 128, i % 8, 8, Rng.fromKey([11, i]), 'motifs');
      const quarters = [0, 1, 2, 3].map((q) => quarter(rgb, 128, q));
      for (const q of quarters) expect(motifShare(q)).toBeGreaterThan(0.05);
      const means = quarters.map(meanColour);
      let spread = 0;
      for (const a of means) for (const b of means) spread = Math.max(spread, Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]));
      spreads.push(spread);
    }
    // Quarters of one picture differ in mean colour by tens of levels (a local crop sees other colours than its neighbour).
    expect(spreads.reduce((s, v) => s + v, 0) / spreads.length).toBeGreaterThan(25);
  });

  it('even-motifs: every class covers about the same share of the picture, where motifs does not', () => {
    // Share of pixels on a shape, averaged over 4 pictures per class.
    const coverage = (style: 'motifs' | 'even-motifs') =>
      [0, 1, 2, 3, 4, 5, 6, 7].map((cls) => {
        let share = 0;
        for (let i = 0; i < 4; i++) share += motifShare(drawPicture(64, 64, cls, 8, Rng.fromKey([12, cls, i]), style)) / 4;
        return share;
      });
    const ratio = (c: number[]) => Math.max(...c) / Math.min(...c);
    expect(ratio(coverage('motifs'))).toBeGreaterThan(1.8); // 2.7 as drawn: a disc covers 2.6 times a bar
    expect(ratio(coverage('even-motifs'))).toBeLessThan(1.15); // 1.06 as drawn
  });
});
