/**
 * Synthetic multi-crop samples for benchmarks: random pixels, but crop rectangles, flips,
 * iBOT block masks and overlap grids drawn exactly as the data pipeline draws them, so the
 * alignment and masked-patch work is realistic.
 */
// @sere/augment declares itself free of import side effects, so a bundler keeps only the
// geometry used here and leaves out the image decoder (sharp): the benchmark still bundles
// for machines that have only Node and libtorch.
import { overlapGrids, Rng, sampleCropRegion, sampleMask, type CropRect, type MultiCropSample } from '@sere/augment';

export interface SyntheticOptions {
  batch: number;
  localCrops: number;
  globalSize: number;
  localSize: number;
  patchSize: number;
  overlapSize: [number, number];
  globalScale: [number, number];
  localScale: [number, number];
  predRatio: number[];
  predRatioVar: number[];
  seed: number;
}

export function syntheticSamples(o: SyntheticOptions): MultiCropSample[] {
  const samples: MultiCropSample[] = [];
  const [W, H] = [500, 375];
  const grid = o.globalSize / o.patchSize;
  for (let index = 0; index < o.batch; index++) {
    const rng = Rng.forImage(o.seed, 0, index);
    const rect = (scale: [number, number]): CropRect => {
      const r = sampleCropRegion(rng, W, H, scale);
      return { ...r, flip: rng.uniform(0, 1) < 0.5 };
    };
    const pixels = (size: number) => {
      const a = new Uint8Array(size * size * 3);
      for (let i = 0; i < a.length; i++) a[i] = (i * 2654435761 + index * 97) >>> 24;
      return a;
    };
    const g = [rect(o.globalScale), rect(o.globalScale)];
    const l = Array.from({ length: o.localCrops }, () => rect(o.localScale));
    const mask = () =>
      sampleMask(rng, grid, grid, { predRatio: o.predRatio, predRatioVar: o.predRatioVar, predShape: 'block', predStartEpoch: 0, epoch: 0 });
    const g1 = overlapGrids(g[0], g[1], o.overlapSize[0]);
    const g2 = overlapGrids(g[0], g[1], o.overlapSize[1]);
    const local: Float32Array[] = [];
    const globalSide: Float32Array[] = [];
    for (let q = 0; q < 2; q++) {
      for (let v = 0; v < o.localCrops; v++) {
        const [a, b] = overlapGrids(l[v], g[q], 6);
        local.push(a);
        globalSide.push(b);
      }
    }
    samples.push({
      index,
      label: index % 10,
      views: [
        { size: o.globalSize, rgb: pixels(o.globalSize), rect: g[0] },
        { size: o.globalSize, rgb: pixels(o.globalSize), rect: g[1] },
        ...l.map((r) => ({ size: o.localSize, rgb: pixels(o.localSize), rect: r })),
      ],
      masks: [mask(), mask()],
      maskGrid: grid,
      gridsGlobal1: g1,
      gridsGlobal2: g2,
      gridsLocal: local,
      gridsGlobalSide: globalSide,
    });
  }
  return samples;
}
