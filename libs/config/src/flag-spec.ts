import type { FlagKey } from './types';

/** Sections of `sere train --help`, in the order they are printed. */
export const GROUPS = [
  'Model',
  'Teacher and temperatures',
  'Masked image modelling',
  'Optimisation',
  'Multi-crop views',
  'SERE self-relation',
  'Data, output and launch',
  'SERE.ts runtime',
] as const;
export type Group = (typeof GROUPS)[number];

/**
 * Numeric bounds: `min`/`max` inclusive, `above`/`below` exclusive.
 * `nullable` values also accept None (none/null, any case).
 */
interface Bounds {
  min?: number;
  max?: number;
  above?: number;
  below?: number;
}

export type FlagKind =
  | { type: 'bool' }
  | ({ type: 'int'; nullable?: boolean; check?: (v: number) => string | undefined; rule?: string } & Bounds)
  | ({ type: 'float'; nullable?: boolean } & Bounds)
  | { type: 'choice'; choices: readonly string[]; nullable?: boolean }
  | { type: 'string'; nullable?: boolean; check?: (v: string) => string | undefined; rule?: string }
  | ({ type: 'float_list' | 'int_list'; minLength: number; maxLength: number } & Bounds);

export type FlagSpec = FlagKind & {
  key: FlagKey;
  group: Group;
  /** `reference`: a flag of the reference training script; `ours`: added by SERE.ts. */
  origin: 'reference' | 'ours';
  /** When to change it and what it does, in a few sentences. */
  help: string;
  /** Placeholder for the value in --help (e.g. N, PATH). */
  metavar?: string;
  /** Shown instead of the default value when the default depends on other flags. */
  defaultText?: string;
};
