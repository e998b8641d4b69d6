/** The full flag table (reference flags, then ours) and lookup by the name a user typed. */
import type { FlagSpec } from './flag-spec';
import { OWN_FLAGS } from './own-flags';
import { REFERENCE_FLAGS } from './reference-flags';

export const FLAGS: readonly FlagSpec[] = [...REFERENCE_FLAGS, ...OWN_FLAGS];

const BY_NAME = new Map<string, FlagSpec>(FLAGS.map((f) => [f.key, f]));

/** `--batch-size-per-gpu` and `--batch_size_per_gpu` both name batch_size_per_gpu (case matters, as in the reference). */
export function canonicalName(typed: string): string {
  return typed.replace(/^-+/, '').replace(/-/g, '_');
}

export function findFlag(typed: string): FlagSpec | undefined {
  return BY_NAME.get(canonicalName(typed));
}

export const FLAG_NAMES: readonly string[] = FLAGS.map((f) => f.key);
