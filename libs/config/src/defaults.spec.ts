import { DEFAULTS } from './defaults';
import { FLAGS } from './flags';
import { parseFlags } from './parse';
import { REFERENCE_DEFAULTS } from './reference-table';

describe('defaults', () => {
  const reference = FLAGS.filter((f) => f.origin === 'reference');

  it('cover exactly the flags of the reference training script', () => {
    expect(Object.keys(REFERENCE_DEFAULTS).length).toBeGreaterThan(40);
    expect(reference.map((f) => f.key).sort()).toEqual(Object.keys(REFERENCE_DEFAULTS).sort());
  });

  it.each(reference.map((f) => f.key))('--%s equals the reference default', (key) => {
    expect(DEFAULTS[key]).toEqual(REFERENCE_DEFAULTS[key]);
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
