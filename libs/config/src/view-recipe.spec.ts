import { FlagError } from './errors';
import { parseFlags } from './parse';
import { recipes } from './recipes';
import { tokenGrids, viewRecipe } from './view-recipe';

describe('viewRecipe', () => {
  it('is the ViT-S/16 recipe of the reference from its command line', () => {
    expect(viewRecipe(parseFlags([...recipes.vit_small_16.argv]))).toEqual({
      globalCropsScale: [0.4, 1],
      localCropsScale: [0.05, 0.4],
      localCropsNumber: 10,
      overlapSize: [13, 13],
      globalSize: 224,
      localSize: 96,
      patchSize: 16,
      predRatio: [0, 0.3],
      predRatioVar: [0, 0.2],
      predShape: 'block',
      predStartEpoch: 0,
      useMaskedImModeling: true,
    });
  });

  it('takes sizes, counts and the patch size from the flags', () => {
    const r = viewRecipe(parseFlags(['--patch_size', '8', '--global_size', '64', '--local_size', '24', '--local_crops_number', '3', '--global_crops_scale', '0.32', '1']));
    expect(r).toMatchObject({ patchSize: 8, globalSize: 64, localSize: 24, localCropsNumber: 3, globalCropsScale: [0.32, 1] });
    expect(tokenGrids(r)).toEqual({ global: 8, local: 3 });
  });

  it('refuses crops that do not tile into whole patches, naming the flag', () => {
    const refuse = (argv: string[]) => () => viewRecipe(parseFlags(argv));
    expect(refuse(['--global_size', '100'])).toThrow(new FlagError('--global_size: 100 px is not a multiple of --patch_size 16'));
    expect(refuse(['--patch_size', '8', '--local_size', '20'])).toThrow('--local_size: 20 px is not a multiple of --patch_size 8');
  });

  it('names the flags as the caller spells them', () => {
    const flags = { ...parseFlags([]), global_size: 100 };
    expect(() => viewRecipe(flags, (f) => `--${f.replace(/_/g, '-')}`)).toThrow('--global-size: 100 px is not a multiple of --patch-size 16');
    expect(() => viewRecipe({ ...parseFlags([]), patch_size: 0 }, (f) => `--${f}`)).toThrow('--patch_size: expected a whole number of pixels >= 1, got 0');
  });
});
