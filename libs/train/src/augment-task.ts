/**
 * Piscina task: decode one image and build its multi-crop sample (libs/augment). Runs on a
 * worker thread.
 */
import { augmentImage, DecodeError } from '@sere/augment';
import type { MultiCropOptions, MultiCropSample } from '@sere/augment';

export interface AugmentTask {
  path: string;
  opts: MultiCropOptions;
  seed: number;
  maxPixels?: number;
}

export type AugmentResult = { ok: true; sample: MultiCropSample } | { ok: false; kind: string; path: string; message: string };

export default async function run(task: AugmentTask): Promise<AugmentResult> {
  try {
    const sample = await augmentImage(task.path, task.opts, task.seed, { maxPixels: task.maxPixels });
    // Returned by structured clone: piscina moves only single transferables, and a copy of
    // one image's views (~0.6 MB at recipe sizes) costs far less than making them.
    return { ok: true, sample };
  } catch (e) {
    const err = e as Error;
    return { ok: false, kind: e instanceof DecodeError ? (e as DecodeError).kind : 'error', path: task.path, message: err.message };
  }
}
