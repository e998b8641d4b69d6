/**
 * Value syntax of one flag: parsing the text a user typed, describing what is valid (for
 * errors and --help) and writing a value back as command-line text.
 */
import { FlagError } from './errors';
import type { FlagKind, FlagSpec } from './flag-spec';

const TRUE_WORDS = ['on', 'true', '1'];
const FALSE_WORDS = ['off', 'false', '0'];
const NONE_WORDS = ['none', 'null'];

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export type FlagValue = boolean | number | string | null | number[];

export function isNullable(spec: FlagKind): boolean {
  return 'nullable' in spec && spec.nullable === true;
}

function describeBounds(spec: { min?: number; max?: number; above?: number; below?: number }): string {
  const lo = spec.min ?? spec.above;
  const hi = spec.max ?? spec.below;
  if (lo !== undefined && hi !== undefined) {
    if (lo === hi) return `= ${lo}`;
    return `in ${spec.min !== undefined ? '[' : '('}${lo}, ${hi}${spec.max !== undefined ? ']' : ')'}`;
  }
  if (spec.min !== undefined) return `≥ ${spec.min}`;
  if (spec.above !== undefined) return `> ${spec.above}`;
  if (spec.max !== undefined) return `≤ ${spec.max}`;
  if (spec.below !== undefined) return `< ${spec.below}`;
  return '';
}

/** What a flag accepts, e.g. "integer ≥ 1", "2 numbers in (0, 1]", "one of block, rand". */
export function describeValues(spec: FlagKind): string {
  const orNone = isNullable(spec) ? ', or None' : '';
  switch (spec.type) {
    case 'bool':
      return 'on/off (also true/false, 1/0)';
    case 'int':
      return `integer ${describeBounds(spec)}${spec.rule ? `, ${spec.rule}` : ''}`.replace(/ +,/, ',').trim() + orNone;
    case 'float':
      return `number ${describeBounds(spec)}`.trim() + orNone;
    case 'choice':
      return `one of ${spec.choices.join(', ')}${orNone}`;
    case 'string':
      return (spec.rule ?? 'text') + orNone;
    case 'float_list':
    case 'int_list': {
      const count =
        spec.minLength === spec.maxLength
          ? `${spec.minLength}`
          : spec.maxLength === spec.minLength + 1
            ? `${spec.minLength} or ${spec.maxLength}`
            : `${spec.minLength} or more`;
      const noun = spec.type === 'int_list' ? 'integers' : 'numbers';
      return `${count} ${noun} ${describeBounds(spec)}`.trim();
    }
  }
}

function inBounds(v: number, s: { min?: number; max?: number; above?: number; below?: number }): boolean {
  return (
    (s.min === undefined || v >= s.min) &&
    (s.max === undefined || v <= s.max) &&
    (s.above === undefined || v > s.above) &&
    (s.below === undefined || v < s.below)
  );
}

function invalid(flag: string, text: string, spec: FlagKind, detail?: string): FlagError {
  return new FlagError(`${flag}: '${text}' is not ${detail ?? article(describeValues(spec))}`, flag);
}

export function article(description: string): string {
  if (/^(one of|on\/off|\d)/.test(description)) return description;
  return (/^[aeiou]/i.test(description) ? 'an ' : 'a ') + description;
}

function parseNumber(flag: string, text: string, spec: FlagKind & { type: 'int' | 'float' | 'float_list' | 'int_list' }): number {
  const integer = spec.type === 'int' || spec.type === 'int_list';
  const ok = integer ? INT.test(text) && Number.isSafeInteger(Number(text)) : FLOAT.test(text) && Number.isFinite(Number(text));
  if (!ok || !inBounds(Number(text), spec)) {
    const each = spec.type === 'int_list' || spec.type === 'float_list';
    throw invalid(flag, text, spec, each ? `${integer ? 'an integer' : 'a number'} ${describeBounds(spec)}`.trim() : undefined);
  }
  return Number(text) === 0 ? 0 : Number(text); // no -0 in configs
}

/**
 * Parses the value(s) given for one flag. `flag` is the flag as typed (for messages);
 * `texts` holds one entry for scalars and one per value for lists.
 */
export function parseValue(spec: FlagSpec, flag: string, texts: readonly string[]): FlagValue {
  if (spec.type === 'float_list' || spec.type === 'int_list') {
    if (texts.length < spec.minLength || texts.length > spec.maxLength) {
      throw new FlagError(
        `${flag}: expects ${describeValues(spec)}, got ${texts.length}${texts.length ? `: ${texts.join(' ')}` : ''}`,
        flag,
      );
    }
    return texts.map((t) => parseNumber(flag, t, spec));
  }
  const text = texts[0];
  if (isNullable(spec) && NONE_WORDS.includes(text.toLowerCase())) return null;
  switch (spec.type) {
    case 'bool': {
      const t = text.toLowerCase();
      if (TRUE_WORDS.includes(t)) return true;
      if (FALSE_WORDS.includes(t)) return false;
      throw invalid(flag, text, spec, 'a boolean; use on/off, true/false or 1/0');
    }
    case 'int': {
      const v = parseNumber(flag, text, spec);
      const problem = spec.check?.(v);
      if (problem) throw new FlagError(`${flag}: ${problem}`, flag);
      return v;
    }
    case 'float':
      return parseNumber(flag, text, spec);
    case 'choice':
      if (!spec.choices.includes(text)) throw invalid(flag, text, spec);
      return text;
    case 'string': {
      if (text === '') throw new FlagError(`${flag}: the value is empty`, flag);
      const problem = spec.check?.(text);
      if (problem) throw new FlagError(`${flag}: ${problem}`, flag);
      return text;
    }
  }
}

/** A value as command-line words (the inverse of parseValue). */
export function formatValue(value: FlagValue): string[] {
  if (value === null) return ['None'];
  if (Array.isArray(value)) return value.map(formatNumber);
  if (typeof value === 'boolean') return [value ? 'true' : 'false'];
  return [typeof value === 'number' ? formatNumber(value) : value];
}

/** The shorter of plain and exponent notation (1e-6, not 0.000001); both read back exactly. */
function formatNumber(n: number): string {
  const plain = String(n);
  const exp = n.toExponential().replace('e+', 'e');
  return exp.length < plain.length ? exp : plain;
}
