import { spawnSync } from 'node:child_process';
import { SERE } from './tiny-run';

/** What a finished `sere` process left: its exit status and everything it printed. */
export interface SereRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `sere ARGS` to the end, as a user would, with `env` added to this process's environment. */
export function runSere(args: string[], env: Record<string, string> = {}): SereRun {
  const r = spawnSync(process.execPath, [SERE, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
