/**
 * `sere launch`: torchrun's job on one machine. It starts --nproc_per_node copies of a
 * command with torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
 * MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RESTART_COUNT), forwards SIGINT/SIGTERM to them,
 * and watches them: when one fails the others are stopped (SIGTERM, then SIGKILL after a
 * grace period), and the whole group starts again — each process resuming from the run's
 * last checkpoint — up to --max_restarts times. The exit code is the first failed process's,
 * and the message names its rank.
 */
import { spawn, type ChildProcess } from 'child_process';
import { EXIT } from '@sere/config';
import { DEFAULT_MASTER_PORT } from './rendezvous';

export interface LaunchOptions {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
  maxRestarts: number;
  /** Seconds between checks of the processes (torchrun's --monitor_interval). */
  monitorInterval: number;
  /** Seconds a stopped process gets to save before it is killed. */
  grace: number;
}

export const LAUNCH_DEFAULTS: LaunchOptions = { nprocPerNode: 1, nnodes: 1, nodeRank: 0, masterAddr: '127.0.0.1', masterPort: DEFAULT_MASTER_PORT, maxRestarts: 0, monitorInterval: 0.1, grace: 30 };

const FLAGS: Record<string, { key: keyof LaunchOptions; kind: 'int' | 'float' | 'string'; min?: number }> = {
  nproc_per_node: { key: 'nprocPerNode', kind: 'int', min: 1 },
  nnodes: { key: 'nnodes', kind: 'int', min: 1 },
  node_rank: { key: 'nodeRank', kind: 'int', min: 0 },
  master_addr: { key: 'masterAddr', kind: 'string' },
  master_port: { key: 'masterPort', kind: 'int', min: 1 },
  max_restarts: { key: 'maxRestarts', kind: 'int', min: 0 },
  monitor_interval: { key: 'monitorInterval', kind: 'float', min: 0 },
  grace_period: { key: 'grace', kind: 'float', min: 0 },
};

export class LaunchUsageError extends Error {
  readonly exitCode = EXIT.refused;
}

/** Splits `[launcher flags] COMMAND [its arguments]`; torchrun's spellings (--nproc-per-node, --x=v) are accepted. */
export function parseLaunchArgs(argv: string[]): { options: LaunchOptions; command: string; args: string[] } {
  const o: LaunchOptions = { ...LAUNCH_DEFAULTS };
  let i = 0;
  for (; i < argv.length && argv[i].startsWith('--'); i++) {
    const [rawName, inline] = argv[i].slice(2).split(/=(.*)/s, 2);
    const name = rawName.replace(/-/g, '_');
    const spec = FLAGS[name];
    if (!spec) throw new LaunchUsageError(`unknown launcher flag --${rawName} (known: ${Object.keys(FLAGS).map((f) => '--' + f).join(', ')})`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new LaunchUsageError(`--${rawName} needs a value`);
    if (spec.kind === 'string') {
      (o[spec.key] as string) = value;
      continue;
    }
    const n = Number(value);
    if (!Number.isFinite(n) || (spec.kind === 'int' && !Number.isInteger(n)) || n < (spec.min ?? -Infinity)) {
      throw new LaunchUsageError(`--${rawName} ${value}: expected ${spec.kind === 'int' ? 'an integer' : 'a number'} >= ${spec.min}`);
    }
    (o[spec.key] as number) = n;
  }
  if (o.masterPort > 65535) throw new LaunchUsageError(`--master_port ${o.masterPort}: expected a port in 1..65535`);
  if (o.nodeRank >= o.nnodes) throw new LaunchUsageError(`--node_rank ${o.nodeRank} is not below --nnodes ${o.nnodes}`);
  const command = argv[i];
  if (!command) throw new LaunchUsageError('no command to launch (e.g. sere launch --nproc_per_node 2 train --data_path DIR)');
  return { options: o, command, args: argv.slice(i + 1) };
}

export interface Failure {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

function describe(f: Failure): string {
  return f.signal ? `killed by ${f.signal}` : `exit code ${f.code}`;
}

/** The exit code a failure is reported with: the process's own, or 128 + the signal's number. */
function exitCodeOf(f: Failure): number {
  if (f.code !== null && f.code !== 0) return f.code;
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };
  return 128 + (f.signal ? numbers[f.signal] ?? 0 : 0) || EXIT.failed;
}

export interface LaunchIo {
  /** Builds the command line of one process: [executable, ...arguments]. */
  commandLine: string[];
  write: (line: string) => void;
}

/** Runs the group (with restarts) and resolves with the exit code for the launcher. */
export async function launch(o: LaunchOptions, io: LaunchIo): Promise<number> {
  const worldSize = o.nnodes * o.nprocPerNode;
  let signalled: NodeJS.Signals | null = null;
  let children: ChildProcess[] = [];
  const forward = (sig: NodeJS.Signals) => {
    signalled = sig;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(sig);
  };
  const onInt = () => forward('SIGINT');
  const onTerm = () => forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    for (let attempt = 0; ; attempt++) {
      const failure = await runGroup(attempt, (c) => (children = c));
      if (!failure) return EXIT.ok;
      if (signalled) return EXIT.interrupted;
      const rank = o.nodeRank * o.nprocPerNode + failure.rank;
      if (attempt < o.maxRestarts) {
        io.write(`sere launch: rank ${rank} failed first (${describe(failure)}); restarting the group from the last checkpoint (restart ${attempt + 1} of ${o.maxRestarts})`);
        continue;
      }
      io.write(`sere launch: rank ${rank} (local rank ${failure.rank}) failed first (${describe(failure)})${o.maxRestarts ? `; no restarts left (--max_restarts ${o.maxRestarts})` : ''}`);
      return exitCodeOf(failure);
    }
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }

  function runGroup(attempt: number, publish: (c: ChildProcess[]) => void): Promise<Failure | null> {
    return new Promise((resolve) => {
      let first: Failure | null = null;
      let running = o.nprocPerNode;
      let killer: NodeJS.Timeout | null = null;
      const procs = Array.from({ length: o.nprocPerNode }, (_, local) => {
        const env = {
          ...process.env,
          RANK: String(o.nodeRank * o.nprocPerNode + local),
          LOCAL_RANK: String(local),
          WORLD_SIZE: String(worldSize),
          LOCAL_WORLD_SIZE: String(o.nprocPerNode),
          GROUP_RANK: String(o.nodeRank),
          MASTER_ADDR: o.masterAddr,
          MASTER_PORT: String(o.masterPort),
          TORCHELASTIC_RESTART_COUNT: String(attempt),
          TORCHELASTIC_MAX_RESTARTS: String(o.maxRestarts),
        };
        const [exe, ...args] = io.commandLine;
        const child = spawn(exe, args, { env, stdio: 'inherit' });
        child.on('exit', (code, signal) => {
          running--;
          const failed = code !== 0;
          if (failed && !first) {
            first = { rank: local, code, signal };
            stopOthers();
          }
          if (running === 0) {
            if (killer) clearTimeout(killer);
            resolve(first);
          }
        });
        child.on('error', (e) => io.write(`sere launch: could not start local rank ${local}: ${e.message}`));
        return child;
      });
      publish(procs);
      function stopOthers() {
        for (const c of procs) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
        // A process blocked in a collective with a dead peer may not get to its handler.
        killer = setTimeout(() => {
          for (const c of procs) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
        }, o.grace * 1000);
      }
    });
  }
}
