/**
 * sere eval-service FLAGS: the eval service (apps/eval-service) in the foreground, as
 * `npm run eval-service -- FLAGS` starts it. It runs as a child process: the service is a
 * NestJS application, loaded as ES modules, which this command line does not load itself.
 * Signals are passed on, so Ctrl-C stops it cleanly; its exit code is this command's.
 */
import { spawn, spawnSync } from 'child_process';
import { constants } from 'os';
import * as path from 'path';

// A program this command runs, not code it imports (apps do not import apps).
const entry = () => path.resolve(__dirname, '../../../eval-service/src/main.ts');
const loader = () => require.resolve('tsx/cjs');

export function evalServiceHelp(): string {
  const r = spawnSync(process.execPath, ['--require', loader(), entry(), '--help'], { encoding: 'utf8' });
  return r.stdout;
}

export function runEvalService(argv: string[]): Promise<number> {
  const child = spawn(process.execPath, ['--require', loader(), entry(), ...argv], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      // Killed by a signal: 128 + its number, as a shell reports it (130 for SIGINT).
      resolve(code ?? (signal ? 128 + constants.signals[signal] : 1));
    });
  });
}
