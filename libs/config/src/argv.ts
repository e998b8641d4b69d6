/** SereConfig → command line (the inverse of parseFlags), e.g. to log or replay a run. */
import { DEFAULTS } from './defaults';
import { FLAGS } from './flags';
import type { SereConfig } from './types';
import { defaultPrecision } from './validate';
import { formatValue } from './values';

export interface ToArgvOptions {
  /** Write every flag, not only those that differ from their defaults. */
  all?: boolean;
}

export function toArgv(config: SereConfig, options: ToArgvOptions = {}): string[] {
  const argv: string[] = [];
  for (const spec of FLAGS) {
    const value = config[spec.key];
    const fallback = spec.key === 'precision' ? defaultPrecision(config) : DEFAULTS[spec.key];
    if (!options.all && JSON.stringify(value) === JSON.stringify(fallback)) continue;
    const words = formatValue(value);
    // A text value starting with '-' would read as a flag; the '=' form keeps it a value.
    if (typeof value === 'string' && value.startsWith('-')) argv.push(`--${spec.key}=${value}`);
    else argv.push(`--${spec.key}`, ...words);
  }
  return argv;
}
