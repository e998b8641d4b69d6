/**
 * The multi-crop views of a run, derived from its flags in one place: the trainer augments
 * a folder with them, and the data service makes them for the trainer's stream, so both
 * sides must agree on every size. The shape is @sere/augment's ViewRecipe with every size
 * given (the shared tables import nothing of ours, so it is spelled out here).
 */
import { FlagError } from './errors';
import type { PredShape, SereConfig } from './types';

export interface ViewRecipe {
  globalCropsScale: [number, number];
  localCropsScale: [number, number];
  localCropsNumber: number;
  /** [S1, S2] of the global–global overlap grids. */
  overlapSize: [number, number];
  globalSize: number;
  localSize: number;
  patchSize: number;
  predRatio: number[];
  predRatioVar: number[];
  predShape: PredShape;
  predStartEpoch: number;
  useMaskedImModeling: boolean;
}

/** The flags a view recipe is made of. */
export type ViewFlags = Pick<
  SereConfig,
  | 'global_crops_scale' | 'local_crops_scale' | 'local_crops_number' | 'overlap_size' | 'global_size' | 'local_size'
  | 'patch_size' | 'pred_ratio' | 'pred_ratio_var' | 'pred_shape' | 'pred_start_epoch' | 'use_masked_im_modeling'
>;

/** How a flag is named in messages; a program with flags of its own (the data service) names its own. */
export type FlagNamer = (flag: keyof ViewFlags) => string;

/**
 * The recipe of `flags`. Crops must tile into whole patches, whoever makes them: a size that
 * does not is refused here, naming the flag.
 */
export function viewRecipe(flags: ViewFlags, name: FlagNamer = (f) => `--${f}`): ViewRecipe {
  const patch = flags.patch_size;
  if (!Number.isInteger(patch) || patch < 1) throw new FlagError(`${name('patch_size')}: expected a whole number of pixels >= 1, got ${patch}`, name('patch_size'));
  for (const flag of ['global_size', 'local_size'] as const) {
    const px = flags[flag];
    if (px % patch !== 0) throw new FlagError(`${name(flag)}: ${px} px is not a multiple of ${name('patch_size')} ${patch}`, name(flag));
  }
  return {
    globalCropsScale: [flags.global_crops_scale[0], flags.global_crops_scale[1]],
    localCropsScale: [flags.local_crops_scale[0], flags.local_crops_scale[1]],
    localCropsNumber: flags.local_crops_number,
    overlapSize: [flags.overlap_size[0], flags.overlap_size[1]],
    globalSize: flags.global_size,
    localSize: flags.local_size,
    patchSize: patch,
    predRatio: [...flags.pred_ratio],
    predRatioVar: [...flags.pred_ratio_var],
    predShape: flags.pred_shape,
    predStartEpoch: flags.pred_start_epoch,
    useMaskedImModeling: flags.use_masked_im_modeling,
  };
}

/** Patches per side of a global and of a local crop: the token grids the views are masked and aligned on. */
export function tokenGrids(recipe: Pick<ViewRecipe, 'globalSize' | 'localSize' | 'patchSize'>): { global: number; local: number } {
  return { global: recipe.globalSize / recipe.patchSize, local: recipe.localSize / recipe.patchSize };
}
