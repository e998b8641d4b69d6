/**
 * Features of a frozen teacher backbone (spec §8), computed in batches without autograd:
 *
 * - `cls`: the CLS token after the final LayerNorm — the k-NN feature;
 * - `probe`: the linear probe's input, the CLS tokens of the last n blocks, each passed
 *   through the model's final LayerNorm, concatenated (n = 4 for ViT-S). With `avgPool`
 *   (the ViT-B variant, used with n = 1) the mean of the last block's normalised patch
 *   tokens is appended. The last block's CLS is the same vector as `cls`. (The reference
 *   interleaves the CLS and mean channels instead of concatenating them; for a linear
 *   probe the order of its inputs only decides which i.i.d. initial weight each one draws.)
 *
 * Images are decoded (sharp, off the main thread) for the next batch while the backbone runs
 * on the current one. Files that do not decode are skipped and listed, never fatal.
 */
import { constants } from 'node:buffer';
import { decodeImage, DecodeError, Rng } from '@sere/augment';
import { mapLimit } from '@sere/dataset';
import type { VisionTransformer } from '@sere/sere';
import * as T from '@sere/torch';
import { cacheKey, FeatureCache, itemsFingerprint, paramsFingerprint } from './cache';
import type { FeatureSet } from './feature-set';
import { evalTransform, makeView, transformKey, type ViewTransform } from './transforms';

const LN_EPS = 1e-6; // the backbone's LayerNorm epsilon (spec §1.3)
const DOMAIN_PROBE_VIEW = 0x70726276; // 'prbv': streams of the linear probe's augmented views

export interface FeatureItem {
  path: string;
  label: number;
}

export interface SkippedImage {
  path: string;
  reason: string;
}

export interface FeatureOptions {
  /** Default: the eval transform at 224 px. */
  transform?: ViewTransform;
  /** Train transforms only: the augmentation seed and which augmented view (0, 1, …) to make. */
  seed?: number;
  view?: number;
  /** Blocks whose CLS tokens make the probe feature (default 4). */
  nLastBlocks?: number;
  /** Append the mean of the last block's patch tokens to the probe feature (default false). */
  avgPool?: boolean;
  /** Images per forward pass (default 64). */
  batchSize?: number;
  /** Images decoded at once (default 4). */
  concurrency?: number;
  /** Where to cache; none by default. */
  cache?: FeatureCache;
  /** The backbone's fingerprint if already known (otherwise hashed from its parameters). */
  fingerprint?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface Features {
  cls: FeatureSet;
  probe: FeatureSet;
  skipped: SkippedImage[];
  /** True when read from the cache. */
  cached: boolean;
}

/** Fingerprint of a backbone's configuration and parameter values (the cache's checkpoint hash). */
export function backboneFingerprint(backbone: VisionTransformer): string {
  return T.scope(() => paramsFingerprint(backbone.params.stateDict(), backbone.cfg));
}

/**
 * The two features of a normalised image batch [B, 3, S, S] on the backbone's device:
 * cls [B, D] and probe [B, n·D (+D)], float32, in the current scope. Call under noGrad.
 */
export function embedBatch(backbone: VisionTransformer, x: T.Tensor, nLastBlocks = 4, avgPool = false): { cls: T.Tensor; probe: T.Tensor } {
  const out = backbone.forward(x, { keepBlocks: true });
  const blocks = out.blocks!;
  const w = backbone.params.get('norm.weight');
  const b = backbone.params.get('norm.bias');
  const cls = out.tokens.select(1, 0);
  // LayerNorm is per token, so normalising only the CLS rows of the earlier blocks is enough.
  const parts = blocks.slice(blocks.length - nLastBlocks, blocks.length - 1).map((h) => T.layerNorm(h.select(1, 0), w, b, LN_EPS));
  parts.push(cls);
  if (avgPool) parts.push(out.tokens.slice(1, 1, out.tokens.shape[1]).mean([1]));
  return { cls: cls.float(), probe: T.cat(parts, 1).float() };
}

function checkOptions(backbone: VisionTransformer, t: ViewTransform, nLastBlocks: number, batchSize: number): void {
  const { depth, patchSize } = backbone.cfg;
  if (!Number.isInteger(nLastBlocks) || nLastBlocks < 1 || nLastBlocks > depth) {
    throw new RangeError(`features: nLastBlocks must be an integer in [1, ${depth}] (the backbone's depth), got ${nLastBlocks}`);
  }
  if (t.size % patchSize !== 0) {
    throw new RangeError(`features: crop size ${t.size} px is not a multiple of the patch size ${patchSize}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`features: batchSize must be a positive integer, got ${batchSize}`);
}

/** Extracts (or reads from the cache) the features of `items` with a frozen backbone. */
export async function extractFeatures(backbone: VisionTransformer, items: readonly FeatureItem[], opts: FeatureOptions = {}): Promise<Features> {
  const transform = opts.transform ?? evalTransform();
  const nLastBlocks = opts.nLastBlocks ?? 4;
  const avgPool = opts.avgPool ?? false;
  const batchSize = opts.batchSize ?? 64;
  const seed = opts.seed ?? 0;
  const view = opts.view ?? 0;
  checkOptions(backbone, transform, nLastBlocks, batchSize);
  const dim = backbone.cfg.embedDim;
  const probeDim = dim * (nLastBlocks + (avgPool ? 1 : 0));

  let key = '';
  if (opts.cache) {
    key = cacheKey({
      backbone: opts.fingerprint ?? backboneFingerprint(backbone),
      transform: transformKey(transform),
      augmentation: transform.kind === 'train' ? { seed, view } : null,
      features: { nLastBlocks, avgPool },
      items: await itemsFingerprint(items),
    });
    const hit = await opts.cache.get(key);
    if (hit) return fromEntry(hit.arrays, hit.meta, dim, probeDim);
  }

  const maxFloats = constants.MAX_LENGTH / 4;
  if (items.length * probeDim > maxFloats) {
    throw new RangeError(`features: ${items.length} images × ${probeDim} values exceed one in-memory array (${maxFloats}); evaluate a subset`);
  }
  const cls = new Float32Array(items.length * dim);
  const probe = new Float32Array(items.length * probeDim);
  const labels = new Int32Array(items.length);
  const skipped: SkippedImage[] = [];
  const size = transform.size;
  const device = backbone.params.get('norm.weight').device;

  const prepare = async (start: number) => {
    const batch = items.slice(start, start + batchSize);
    const views = await mapLimit(batch, opts.concurrency ?? 4, async (it, j) => {
      try {
        const img = await decodeImage(it.path);
        const rng = transform.kind === 'train' ? Rng.fromKey([DOMAIN_PROBE_VIEW, seed >>> 0, view, start + j]) : undefined;
        return makeView(img, transform, rng);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        skipped.push({ path: it.path, reason: e.message });
        return null;
      }
    });
    return { batch, views };
  };

  let kept = 0;
  let next = prepare(0);
  for (let start = 0; start < items.length; start += batchSize) {
    const { batch, views } = await next;
    if (start + batchSize < items.length) {
      next = prepare(start + batchSize);
      next.catch(() => undefined); // awaited on the next turn; this only silences an early rejection
    }
    const good = views.flatMap((v, j) => (v ? [{ v, label: batch[j].label }] : []));
    if (good.length > 0) {
      const x = new Float32Array(good.length * 3 * size * size);
      good.forEach((g, j) => x.set(g.v, j * 3 * size * size));
      T.noGrad(() =>
        T.scope(() => {
          const input = T.tensor(x, [good.length, 3, size, size]).to({ device });
          const f = embedBatch(backbone, input, nLastBlocks, avgPool);
          cls.set(f.cls.toFloat32Array(), kept * dim);
          probe.set(f.probe.toFloat32Array(), kept * probeDim);
        }),
      );
      good.forEach((g, j) => (labels[kept + j] = g.label));
      kept += good.length;
    }
    opts.onProgress?.(Math.min(start + batchSize, items.length), items.length);
  }

  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const arrays = { cls: cls.slice(0, kept * dim), probe: probe.slice(0, kept * probeDim), labels: labels.slice(0, kept) };
  const meta = { skipped, n: kept, dim, probeDim };
  if (opts.cache) await opts.cache.put(key, { arrays, meta });
  return { ...fromEntry(arrays, meta, dim, probeDim), cached: false };
}

function fromEntry(arrays: Record<string, Float32Array | Int32Array>, meta: Record<string, unknown>, dim: number, probeDim: number): Features {
  const labels = arrays.labels as Int32Array;
  const n = labels.length;
  return {
    cls: { n, dim, features: arrays.cls as Float32Array, labels },
    probe: { n, dim: probeDim, features: arrays.probe as Float32Array, labels },
    skipped: (meta.skipped as SkippedImage[]) ?? [],
    cached: true,
  };
}
