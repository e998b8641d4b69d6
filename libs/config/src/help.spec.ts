import { FLAGS } from './flags';
import { GROUPS } from './flag-spec';
import { formatHelp } from './help';
import { recipes } from './recipes';
import { describeValues } from './values';

describe('formatHelp', () => {
  const help = formatHelp();
  const entry = (key: string) => {
    const start = help.indexOf(`\n  --${key} `);
    expect(start).toBeGreaterThanOrEqual(0);
    const end = help.indexOf('\n\n', start + 1);
    return help.slice(start, end < 0 ? undefined : end).replace(/\s+/g, ' ');
  };

  it('lists every flag once, in its section, with type, valid values, default and advice', () => {
    for (const f of FLAGS) {
      expect(help.split(`\n  --${f.key} `).length).toBe(2);
      const text = entry(f.key);
      expect(text).toContain(describeValues(f).replace(/\s+/g, ' '));
      expect(text).toContain('default: ');
      expect(text).toContain(f.help.split(' ').slice(0, 6).join(' '));
    }
    let last = -1;
    for (const g of GROUPS) {
      const at = help.indexOf(`\n${g}:\n`);
      expect(at).toBeGreaterThan(last);
      last = at;
    }
  });

  it('shows the reference defaults and the derived ones', () => {
    expect(entry('arch')).toContain('one of vit_tiny, vit_small, vit_base, vit_large; default: vit_small');
    expect(entry('min_lr')).toContain('default: 1e-6');
    expect(entry('global_crops_scale')).toContain('2 numbers in (0, 1]; default: 0.14 1');
    expect(entry('load_from')).toContain('default: None');
    expect(entry('precision')).toContain('default: fp32 on cpu; on cuda fp16 if --use_fp16 is on');
  });

  it('explains the syntax and lists the recipes with their expectations', () => {
    expect(help).toMatch(/^Usage: sere train \[flags\]/);
    expect(help).toContain('--batch-size-per-gpu=64');
    for (const [name, recipe] of Object.entries(recipes)) {
      expect(help.replace(/\s+/g, ' ')).toContain(` ${name}: ${recipe.title}`);
    }
    expect(help).toContain('81.5 %');
    expect(help).toContain('83.7 %');
  });

  it('keeps lines within 88 columns', () => {
    const longest = Math.max(...help.split('\n').map((l) => l.length));
    expect(longest).toBeLessThanOrEqual(88);
  });
});
