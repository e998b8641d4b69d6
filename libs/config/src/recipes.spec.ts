import { toArgv } from './argv';
import { DEFAULTS } from './defaults';
import { findFlag } from './flags';
import { parseFlags } from './parse';
import { recipes } from './recipes';
import { README_RECIPES } from './reference-table';
import type { FlagKey, SereConfig } from './types';

/** Same command line in kebab case with '=' (lists comma-separated), to check the syntax is irrelevant. */
function kebab(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const token of argv) {
    if (token.startsWith('--')) out.push(`--${token.slice(2).replace(/_/g, '-')}=`);
    else out[out.length - 1] += out[out.length - 1].endsWith('=') ? token : `,${token}`;
  }
  return out;
}

describe.each(['vit_small_16', 'vit_base_16'] as const)('recipe %s', (name) => {
  const recipe = recipes[name];
  const config = parseFlags(recipe.argv);
  const items = README_RECIPES[name];

  it('sets exactly the values of the reference README, and leaves every other flag at its default', () => {
    expect(items.length).toBeGreaterThan(15);
    const listed = new Set<FlagKey>();
    for (const [flag, value] of items) {
      const f = findFlag(`--${flag}`);
      expect([flag, f === undefined]).toEqual([flag, false]);
      listed.add(f!.key);
      expect([flag, config[f!.key]]).toEqual([flag, value]);
    }
    for (const key of Object.keys(DEFAULTS) as FlagKey[]) {
      if (!listed.has(key)) expect([key, config[key]]).toEqual([key, DEFAULTS[key]]);
    }
  });

  it('gives the effective peak lr of the spec (per 256 images × 8 GPUs × 128)', () => {
    const peak = (config.lr * config.batch_size_per_gpu * config.accum_iter * 8) / 256;
    expect(peak).toBeCloseTo(name === 'vit_small_16' ? 0.002 : 0.003, 12);
  });

  it('round-trips config → argv → config, in short and full form and in kebab case', () => {
    expect(parseFlags(toArgv(config))).toEqual(config);
    expect(parseFlags(toArgv(config, { all: true }))).toEqual(config);
    expect(parseFlags(kebab(recipe.argv))).toEqual(config);
  });

  it('states its expected result and run time', () => {
    expect(recipe.expected.finetuneTop1).toBe(name === 'vit_small_16' ? 81.5 : 83.7);
    expect(recipe.expected.text).toContain(`${recipe.expected.finetuneTop1} %`);
    expect(recipe.runTime.measured).toBe(false);
    expect(recipe.runTime.text).toMatch(/^not measured by us/);
    expect(recipe.hardware).toMatch(/^8 GPUs/);
  });
});

describe('cpu_demo preset', () => {
  const config: SereConfig = parseFlags(recipes.cpu_demo.argv);

  it('is a small vit_tiny run on the CPU', () => {
    expect(config.arch).toBe('vit_tiny');
    expect(config.device).toBe('cpu');
    expect(config.precision).toBe('fp32');
    expect(config.epochs).toBeLessThanOrEqual(5);
    expect(config.batch_size_per_gpu).toBeLessThanOrEqual(16);
    // At least 3 local crops, so the reference's local-head quirk cannot matter.
    expect(config.local_crops_number).toBeGreaterThanOrEqual(3);
  });

  it('round-trips and leaves its figures to be measured', () => {
    expect(parseFlags(toArgv(config))).toEqual(config);
    expect(recipes.cpu_demo.expected.text).toMatch(/^TODO/);
    expect(recipes.cpu_demo.runTime.measured).toBe(false);
  });
});

describe('toArgv', () => {
  it('writes nothing for the defaults and everything with all', () => {
    expect(toArgv(DEFAULTS)).toEqual([]);
    const all = toArgv(DEFAULTS, { all: true });
    expect(all.filter((t) => t.startsWith('--')).length).toBe(Object.keys(DEFAULTS).length);
    expect(parseFlags(all)).toEqual(DEFAULTS);
  });

  it('round-trips None, lists, derived precision and values that start with a dash', () => {
    const config = parseFlags([
      '--device', 'cuda:1', '--use_fp16', 'off', '--load_from', 'ckpt.pth', '--norm_in_head', 'bn',
      '--data_path=-odd-name', '--overlap_size', '9', '--steps', '3', '--min_lr', '1e-7',
    ]);
    expect(config.precision).toBe('fp32');
    const argv = toArgv(config);
    expect(argv).toContain('--data_path=-odd-name');
    expect(argv).not.toContain('--precision');
    expect(parseFlags(argv)).toEqual(config);
    expect(parseFlags(toArgv({ ...config, load_from: null }))).toEqual({ ...config, load_from: null });
  });
});
