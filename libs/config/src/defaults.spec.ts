import { DEFAULTS } from './defaults';
import { FLAGS } from './flags';
import { parseFlags } from './parse';
import { readSpec, specDefaults, specValue } from './spec-table';

describe('defaults', () => {
  const table = specDefaults(readSpec());
  const reference = FLAGS.filter((f) => f.origin === 'reference');

  it('cover exactly the flags of the spec §7 table', () => {
    expect(table.size).toBeGreaterThan(40);
    expect(reference.map((f) => f.key).sort()).toEqual([...table.keys()].sort());
  });

  it.each(reference.map((f) => [f.key, f] as const))('--%s equals the spec table', (key, flag) => {
    expect(DEFAULTS[key]).toEqual(specValue(flag, table.get(key)!));
  });

  it('are what an empty command line gives', () => {
    expect(parseFlags([])).toEqual(DEFAULTS);
  });

  it('name every flag once, and every flag has a default and a help text', () => {
    const keys = FLAGS.map((f) => f.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(Object.keys(DEFAULTS).sort());
    for (const f of FLAGS) expect(f.help.length).toBeGreaterThan(40);
  });

  it('for our own flags: cpu, fp32 on cpu, reference local-head bug off', () => {
    expect(DEFAULTS.device).toBe('cpu');
    expect(DEFAULTS.precision).toBe('fp32');
    expect(DEFAULTS.compat_local_heads).toBe(false);
    expect(DEFAULTS.steps).toBeNull();
    expect(DEFAULTS.data).toBeNull();
    expect(DEFAULTS.store).toBeNull();
  });
});
