/**
 * Runs every parity check against a folder of fixtures in the reference's schema
 * (vit_forward, head_forward, ibot_loss, sere_loss, full_step, schedules). Used by the test
 * suite and by `sere verify-fixtures <dir>`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as T from '@sere/torch';
import { Check } from './compare';
import { checkFullStep } from './full-step';
import { checkHeadForward } from './head-forward';
import { checkIBOTLoss } from './ibot-loss';
import { checkSchedules } from './schedules';
import { checkSereLoss } from './sere-loss';
import { checkVitForward } from './vit-forward';

export type { Check } from './compare';
export { formatCheck } from './compare';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const FIXTURE_CHECKS: Record<string, (fx: any, device: string) => Check[]> = {
  'vit_forward.json': checkVitForward,
  'head_forward.json': checkHeadForward,
  'ibot_loss.json': checkIBOTLoss,
  'sere_loss.json': checkSereLoss,
  'full_step.json': checkFullStep,
  'schedules.json': (fx) => checkSchedules(fx),
};

export interface FileReport {
  file: string;
  checks: Check[];
  error?: string;
}

/** Checks one fixture file; a file that cannot be read or parsed gives an error entry, not an exception. */
export function verifyFixtureFile(file: string, device = 'cpu'): FileReport {
  const base = path.basename(file);
  const check = FIXTURE_CHECKS[base];
  if (!check) return { file, checks: [], error: `no checks for ${base} (expected one of ${Object.keys(FIXTURE_CHECKS).join(', ')})` };
  let fx: unknown;
  try {
    fx = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return { file, checks: [], error: `cannot read ${file}: ${(e as Error).message}` };
  }
  try {
    return { file, checks: T.scope(() => check(fx, device)) };
  } catch (e) {
    return { file, checks: [], error: `${file}: ${(e as Error).message}` };
  }
}

/** All known fixture files present in dir; a dir with none of them is an error. */
export function fixtureFiles(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`fixture folder '${dir}' does not exist`);
  const files = Object.keys(FIXTURE_CHECKS)
    .map((f) => path.join(dir, f))
    .filter((f) => fs.existsSync(f));
  if (!files.length) throw new Error(`fixture folder '${dir}' holds none of ${Object.keys(FIXTURE_CHECKS).join(', ')}`);
  return files;
}
