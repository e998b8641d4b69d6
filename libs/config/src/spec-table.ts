/**
 * Reads the flag table (§7) and the README recipes (§7.1) out of SERE_SPEC.md, so that
 * tests compare our defaults and recipes with the specification text itself rather than
 * with a second hand-typed copy. Test support only.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { FlagSpec } from './flag-spec';

export const SHARED_DIR = process.env.SERE_SHARED_DIR ?? path.resolve(__dirname, '../../../../shared');

export function readSpec(): string {
  return fs.readFileSync(path.join(SHARED_DIR, 'SERE_SPEC.md'), 'utf8');
}

/** flag name → default as written in the §7 table (e.g. '0.3', '(0.14, 1.0)', 'None'). */
export function specDefaults(spec: string): Map<string, string> {
  const start = spec.indexOf('## 7. Command-line arguments');
  const end = spec.indexOf('### 7.1', start);
  if (start < 0 || end < 0) throw new Error('SERE_SPEC.md: §7 table not found');
  const out = new Map<string, string>();
  for (const line of spec.slice(start, end).split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1].startsWith('`--')) continue;
    const names = cells[1].split(' / ').map((n) => n.replace(/`/g, '').replace(/^--/, ''));
    const defaults = names.length > 1 ? cells[2].split(' / ') : [cells[2]];
    names.forEach((n, k) => out.set(n, defaults[k].trim()));
  }
  return out;
}

/** The `name values` items of one §7.1 recipe, e.g. ['arch', ['vit_small']]. */
export function specRecipe(spec: string, heading: string): Array<[string, string[]]> {
  const start = spec.indexOf(`**${heading}**:`);
  if (start < 0) throw new Error(`SERE_SPEC.md: recipe ${heading} not found`);
  let text = spec.slice(start + heading.length + 5, spec.indexOf('\n\n', start));
  text = text.split('Everything else default')[0];
  const items: Array<[string, string[]]> = [];
  for (let item of text.replace(/\s+/g, ' ').split(';')) {
    item = item.replace(/\([^)]*\)/g, '').replace(/\.\s*$/, '').trim();
    if (!item) continue;
    const [name, ...values] = item.split(' ');
    const arrow = values.indexOf('→');
    if (arrow >= 0) {
      // "weight_decay 0.04 → 0.4" sets the start and the end of a schedule.
      items.push([name, values.slice(0, arrow)], [`${name}_end`, values.slice(arrow + 1)]);
    } else {
      items.push([name, values]);
    }
  }
  return items;
}

/** A value as the spec writes it ('0.3 (list allowed)', '(0.14, 1.0)', 'None', '0.40 1'), converted to our flag's type. */
export function specValue(flag: FlagSpec, text: string): unknown {
  const t = text.replace(/\s*\(list allowed\)\s*$/, '');
  if (t === 'None') return null;
  const tuple = /^\((.*)\)$/.exec(t);
  switch (flag.type) {
    case 'bool':
      if (t !== 'true' && t !== 'false') throw new Error(`${flag.key}: spec default '${t}' is not a boolean`);
      return t === 'true';
    case 'int':
    case 'float':
      return Number(t);
    case 'int_list':
    case 'float_list':
      return (tuple ? tuple[1].split(',') : t.split(/\s+/)).map((v) => Number(v.trim()));
    default:
      return t;
  }
}
