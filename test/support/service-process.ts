/**
 * A service of ours (data service, eval service) as a process of its own, with tsx as a
 * loader in that process rather than its CLI, so a signal reaches the process that holds
 * the pipes. Resolves once its log matches `ready`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const DATA_SERVICE = path.resolve(__dirname, '../../apps/data-service/src/main.ts');
export const EVAL_SERVICE = path.resolve(__dirname, '../../apps/eval-service/src/main.ts');

export interface ServiceProcess {
  child: ChildProcess;
  /** What `ready` matched (a port in its first group, say). */
  match: RegExpExecArray;
  log: () => string;
  stop: () => Promise<void>;
}

export function startServiceProcess(entry: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let log = '';
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await gone;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const seen = (d: Buffer) => {
      log += d;
      const m = ready.exec(log);
      if (m) resolve({ child, match: m, log: () => log, stop });
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.on('exit', (code) => reject(new Error(`${path.basename(path.dirname(path.dirname(entry)))} exited (${code}) before it was ready:\n${log}`)));
  });
}
