/**
 * A training run from command-line flags, as `sere train` and the trainer's entry point
 * (apps/trainer) both start one: parse the reference's flags (snake_case or kebab-case),
 * print and save the resolved configuration, then train on a folder or on the data
 * service's Kafka stream. SIGINT or SIGTERM finishes the current step, saves a checkpoint
 * and returns; a second one exits at once. Running the same command again continues.
 */
import * as os from 'os';
import * as path from 'path';
import { dataSource, EXIT, FlagError, parseFlags, storeLocation, type ExitCode, type StoreLocation } from '@sere/config';
import { rendezvousFrom } from './rendezvous';
import { openRunStore } from './open-run-store';
import { runTraining } from './run-training';
import { TrainerTelemetry, type RunTelemetry } from './telemetry';

export interface TrainCommandOptions {
  /** How the resolved-configuration line names the program, e.g. `sere train`. */
  program: string;
  /** Where progress lines go (default stdout). */
  write?: (line: string) => void;
}

/** Runs the flags' training; errors the user can act on carry their exit code (see @sere/config's EXIT). */
export async function trainCommand(argv: string[], o: TrainCommandOptions): Promise<ExitCode> {
  const config = parseFlags(argv);
  // A folder (--data_path or --data DIR) or the data service's stream (--data kafka://broker/prefix),
  // resolved here once, before the store is opened, so a bad --data is reported first.
  const data = dataSource(config);
  const store = await openRunStore(storeLocation(config), config.store !== null ? '--store' : '--output_dir');
  // Several processes: rank 0 speaks for the run, the others print only errors.
  const rendezvous = rendezvousFrom(process.env, os.hostname(), config.dist_url);
  const lead = !rendezvous || rendezvous.rank === 0;
  const say = o.write ?? ((line: string) => void process.stdout.write(line + '\n'));
  const write = lead ? say : () => undefined;
  write(`${o.program} — resolved configuration (also saved as ${store.describe('config.json')}):`);
  for (const [k, v] of Object.entries(config)) write(`  ${k} = ${Array.isArray(v) ? v.join(' ') : v}`);

  let stop = false;
  const onSignal = (sig: string) => {
    if (stop) {
      write(`${sig} again: exiting now; the last saved checkpoint is intact`);
      process.exit(EXIT.interrupted);
    }
    stop = true;
    write(`${sig}: finishing this step and saving a checkpoint (press again to exit at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let telemetry: RunTelemetry | null = null;
  try {
    const port = config.metrics_port ?? metricsPortFromEnv(process.env.SERE_METRICS_PORT);
    if (port !== null) {
      // One endpoint per process: the ranks of a machine take consecutive ports.
      const started = await TrainerTelemetry.start({
        run: runName(storeLocation(config)),
        rank: rendezvous?.rank ?? 0,
        worldSize: rendezvous?.worldSize ?? 1,
        host: config.metrics_host,
        port: port === 0 ? 0 : port + (rendezvous?.localRank ?? 0),
      });
      telemetry = started.telemetry;
      write(`metrics: ${started.url}`);
    }
    if (rendezvous) write(`world size ${rendezvous.worldSize} (${rendezvous.from}; master ${rendezvous.masterAddr}:${rendezvous.masterPort}, timeout ${config.dist_timeout} s)`);
    // runTraining silences the other ranks' lines itself.
    const r = await runTraining({ config, store, data, write: say, stopRequested: () => stop, rendezvous, telemetry });
    write(`done: ${r.iterations} iterations, ${r.imagesPerSecond.toFixed(1)} images/s${r.stoppedEarly ? ' (stopped early; run again to continue)' : ''}`);
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await telemetry?.close();
  }
}

/** SERE_METRICS_PORT, where --metrics_port is not given. */
function metricsPortFromEnv(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new FlagError(`SERE_METRICS_PORT: expected a port number 0..65535, got '${v}'`, '--metrics_port');
  return n;
}

/** The run's name in metric labels: the last segment of its output location. */
function runName(location: StoreLocation): string {
  const where = location.kind === 'local' ? path.resolve(location.path) : `${location.bucket}/${location.prefix}`;
  return where.split('/').filter(Boolean).pop() ?? 'run';
}
