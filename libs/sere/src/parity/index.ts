/**
 * Runs every parity check against a folder of fixtures in the reference's schema
 * (vit_forward, head_forward, ibot_loss, sere_loss, full_step, schedules). Used by the test
 * suite and by `sere verify-fixtures <dir>`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FlagError } from '@sere/config';
import * as T from '@sere/torch';
import { Check } from './compare';
import { FixtureError, FixtureNode } from './fixture-node';
import { checkFullStep } from './full-step';
import { checkHeadForward } from './head-forward';
import { checkIBOTLoss } from './ibot-loss';
import { checkSchedules } from './schedules';
import { checkSereLoss } from './sere-loss';
import { checkVitForward } from './vit-forward';

export type { Check } from './compare';
export { formatCheck } from './compare';
export { FixtureError } from './fixture-node';

export const FIXTURE_CHECKS: Record<string, (fx: FixtureNode, device: string) => Check[]> = {
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

/**
 * Checks one fixture file. A file that cannot be read or parsed, or whose content is not what
 * its checks need, gives an error entry naming the file and the field, never an exception.
 */
export function verifyFixtureFile(file: string, device = 'cpu'): FileReport {
  const base = path.basename(file);
  const check = FIXTURE_CHECKS[base];
  if (!check) return { file, checks: [], error: `no checks for ${base} (expected one of ${Object.keys(FIXTURE_CHECKS).join(', ')})` };
  let fx: unknown;
  try {
    fx = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return { file, checks: [], error: `${base}: cannot read ${file}: ${(e as Error).message}` };
  }
  try {
    return { file, checks: T.scope(() => check(new FixtureNode(fx), device)) };
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    // Anything but a FixtureError is a defect of ours, not of the file: say so rather than blame the file.
    return { file, checks: [], error: e instanceof FixtureError ? `${base}: ${message}` : `${base}: internal error while checking: ${message}` };
  }
}

export interface FixtureSet {
  /** The known fixture files the folder holds, in check order. */
  files: string[];
  /** The known fixture file names it does not hold (a set may hold only some of them). */
  absent: string[];
}

/** The known fixture files in dir; a folder with none of them is an error. */
export function fixtureSet(dir: string): FixtureSet {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new FlagError(`fixture folder '${dir}' does not exist`);
  const names = Object.keys(FIXTURE_CHECKS);
  const present = names.filter((f) => fs.existsSync(path.join(dir, f)));
  if (!present.length) throw new FlagError(`fixture folder '${dir}' holds none of ${names.join(', ')}`);
  return { files: present.map((f) => path.join(dir, f)), absent: names.filter((f) => !present.includes(f)) };
}
