import * as fs from 'fs';
import * as path from 'path';
import { overlapGrids, NO_OVERLAP } from './grids';
import type { CropRect } from './types';

// The reference fixtures kept in the repository; SERE_FIXTURES_DIR points at another set (e.g. an acceptance set).
const FIXTURES = process.env.SERE_FIXTURES_DIR ?? path.resolve(__dirname, '../../../test/fixtures/reference');

interface Tensor {
  dtype: string;
  shape: number[];
  data: unknown;
}

function flatten(t: Tensor): Float32Array {
  const out: number[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else out.push(Math.fround(x as number));
  };
  walk(t.data);
  const expected = t.shape.reduce((a, b) => a * b, 1);
  if (out.length !== expected) throw new Error(`fixture tensor has ${out.length} values, shape ${t.shape} needs ${expected}`);
  return Float32Array.from(out);
}

/** Row b of a [B, S, S, 2] tensor. */
function sampleOf(t: Tensor, b: number): Float32Array {
  const all = flatten(t);
  const per = all.length / t.shape[0];
  return all.subarray(b * per, (b + 1) * per);
}

const rect = (r: number[]): CropRect => ({ x0: r[0], y0: r[1], w: r[2], h: r[3], flip: r[4] !== 0 });

interface Rects {
  global1: number[];
  global2: number[];
  locals: number[][];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The parts of sere_loss.json / full_step.json these tests read. */
interface GridFixture {
  config: { overlap_size: [number, number]; local_global_grid_size: number };
  crop_rects?: { samples: Rects[] };
  inputs: { grid1: Tensor[]; grid2: Tensor[]; grid_local: Tensor[]; grid_global: Tensor[]; crop_rects?: Rects[] };
}

function checkFixture(file: string, samplesOf: (d: GridFixture) => Rects[] | undefined): void {
  const d = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as GridFixture;
  const samples = samplesOf(d);
  if (!samples) throw new Error(`${file}: no crop rectangles where expected`);
  const [s1, s2] = d.config.overlap_size;
  const localGrid = d.config.local_global_grid_size;
  const inputs = d.inputs;
  expect(inputs.grid1[0].shape).toEqual([samples.length, s1, s1, 2]);
  expect(inputs.grid2[0].shape).toEqual([samples.length, s2, s2, 2]);
  let compared = 0;
  samples.forEach((s, b) => {
    const g1 = rect(s.global1);
    const g2 = rect(s.global2);
    const L = s.locals.length;
    expect(inputs.grid_local).toHaveLength(2 * L);
    const [a1, b1] = overlapGrids(g1, g2, s1);
    const [a2, b2] = overlapGrids(g1, g2, s2);
    expect(maxAbsDiff(a1, sampleOf(inputs.grid1[0], b))).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(b1, sampleOf(inputs.grid1[1], b))).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(a2, sampleOf(inputs.grid2[0], b))).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(b2, sampleOf(inputs.grid2[1], b))).toBeLessThanOrEqual(1e-6);
    [g1, g2].forEach((g, q) => {
      s.locals.forEach((l, v) => {
        const [local, global] = overlapGrids(rect(l), g, localGrid);
        expect(maxAbsDiff(local, sampleOf(inputs.grid_local[q * L + v], b))).toBeLessThanOrEqual(1e-6);
        expect(maxAbsDiff(global, sampleOf(inputs.grid_global[q * L + v], b))).toBeLessThanOrEqual(1e-6);
        compared += 2;
      });
    });
  });
  expect(compared).toBeGreaterThan(0);
}

describe('overlap grids (spec §4.2)', () => {
  it('reproduce sere_loss.json grids from its crop rectangles', () => {
    checkFixture('sere_loss.json', (d) => d.crop_rects?.samples);
  });

  it('reproduce full_step.json grids from its crop rectangles', () => {
    checkFixture('full_step.json', (d) => d.inputs.crop_rects);
  });

  it('fill both grids with -2 when the crops do not overlap', () => {
    const [a, b] = overlapGrids({ x0: 0, y0: 0, w: 10, h: 10, flip: false }, { x0: 10, y0: 0, w: 5, h: 5, flip: true }, 6);
    expect(a).toHaveLength(72);
    expect(Array.from(a).every((x) => x === NO_OVERLAP)).toBe(true);
    expect(Array.from(b).every((x) => x === NO_OVERLAP)).toBe(true);
  });

  it('span [-1, 1] for identical crops and mirror x when flipped', () => {
    const r: CropRect = { x0: 3, y0: 4, w: 20, h: 10, flip: false };
    const [a, b] = overlapGrids(r, { ...r, flip: true }, 3);
    // row 0: (x, y) at j = 0, 1, 2
    expect(Array.from(a.subarray(0, 6))).toEqual([-1, -1, 0, -1, 1, -1]);
    expect(Array.from(b.subarray(0, 6))).toEqual([1, -1, 0, -1, -1, -1]);
    expect(a[16]).toBe(1); // y of the last row
  });

  it('refuses a grid size below 2', () => {
    const r: CropRect = { x0: 0, y0: 0, w: 4, h: 4, flip: false };
    expect(() => overlapGrids(r, r, 1)).toThrow(/grid size/);
  });
});
