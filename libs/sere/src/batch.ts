/**
 * Turns the data pipeline's per-image samples (uint8 views, masks, overlap grids) into the
 * device tensors of one step. Normalisation happens here, on the trainer's device, so the
 * wire carries bytes rather than floats.
 */
import * as T from '@sere/torch';
import type { MultiCropSample } from '@sere/augment';
import { maskedRows } from './objective/ibot-loss';
import { ObjectiveBatch } from './objective/objective';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** uint8 HWC views [N, S, S, 3] → normalised float [N, 3, S, S] on the device. */
export function normalizeViews(views: Uint8Array, count: number, size: number, device: string): T.Tensor {
  return T.scope(() => {
    const raw = T.tensor(views, [count, size, size, 3], { dtype: 'uint8', device });
    const mean = T.tensor(MEAN.map((m) => m * 255), [1, 3, 1, 1], { device });
    const std = T.tensor(STD.map((s) => s * 255), [1, 3, 1, 1], { device });
    return raw.permute(0, 3, 1, 2).float().sub(mean).div(std).contiguous();
  });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function stackGrids(grids: Float32Array[][], size: number, device: string): T.Tensor {
  // grids[k][b]: grid k of image b, each [size, size, 2]
  const per = size * size * 2;
  const out = new Float32Array(grids.length * grids[0].length * per);
  grids.forEach((gs, k) => gs.forEach((g, b) => out.set(g, (k * gs.length + b) * per)));
  return T.tensor(out, [grids.length, grids[0].length, size, size, 2], { device });
}

/** Crop-major batch tensors for B samples (every sample must have the same view sizes and counts). */
export function toObjectiveBatch(samples: MultiCropSample[], device: string): ObjectiveBatch {
  const B = samples.length;
  if (!B) throw new Error('toObjectiveBatch: empty batch');
  const first = samples[0];
  const nViews = first.views.length;
  const L = nViews - 2;
  for (const s of samples) {
    if (s.views.length !== nViews) throw new Error(`sample ${s.index}: ${s.views.length} views, expected ${nViews}`);
  }
  const gSize = first.views[0].size;
  const globalCrops = normalizeViews(
    concat([0, 1].flatMap((q) => samples.map((s) => s.views[q].rgb))),
    2 * B,
    gSize,
    device,
  );
  const localCrops =
    L > 0
      ? normalizeViews(
          concat(Array.from({ length: L }, (_, v) => samples.map((s) => s.views[2 + v].rgb)).flat()),
          L * B,
          first.views[2].size,
          device,
        )
      : null;
  const G = first.maskGrid;
  const maskArrays = [0, 1].map((q) => concat(samples.map((s) => s.masks[q])));
  const masks = T.tensor(concat(maskArrays), [2 * B, G, G], { dtype: 'bool', device });
  const s1 = Math.round(Math.sqrt(first.gridsGlobal1[0].length / 2));
  const s2 = Math.round(Math.sqrt(first.gridsGlobal2[0].length / 2));
  const sl = L > 0 ? Math.round(Math.sqrt(first.gridsLocal[0].length / 2)) : 0;
  return {
    globalCrops,
    localCrops,
    masks,
    rows: maskedRows(maskArrays, B, device),
    grids: {
      global1: stackGrids([0, 1].map((q) => samples.map((s) => s.gridsGlobal1[q])), s1, device),
      global2: stackGrids([0, 1].map((q) => samples.map((s) => s.gridsGlobal2[q])), s2, device),
      local: L > 0 ? stackGrids(Array.from({ length: 2 * L }, (_, k) => samples.map((s) => s.gridsLocal[k])), sl, device) : null,
      globalSide: L > 0 ? stackGrids(Array.from({ length: 2 * L }, (_, k) => samples.map((s) => s.gridsGlobalSide[k])), sl, device) : null,
    },
  };
}
