/**
 * sere train [reference training flags] [--device] [--precision] [--data] [--store] ...
 * Parses the reference's flags (snake_case or kebab-case), prints and saves the resolved
 * configuration, then trains on a folder or on the data service's Kafka stream; Ctrl-C
 * finishes the current step, saves a checkpoint and exits, and running the same command
 * again continues from it.
 */
import { dataSource, EXIT, parseFlags, storeLocation, wantsHelp } from '@sere/config';
import { runTraining } from '@sere/train';
import { trainHelp } from '../help/texts';
import { openRunStore } from '../run-store';

export async function train(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(trainHelp());
    return EXIT.ok;
  }
  const config = parseFlags(argv);
  // A folder (--data_path or --data DIR) or the data service's stream (--data kafka://broker/prefix).
  const data = dataSource(config);
  const store = await openRunStore(storeLocation(config), config.store !== null ? '--store' : '--output_dir');
  const write = (line: string) => process.stdout.write(line + '\n');
  write(`sere train — resolved configuration (also saved as ${store.describe('config.json')}):`);
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
  try {
    const r = await runTraining({ config, store, dataDir: data.kind === 'folder' ? data.path : undefined, write, stopRequested: () => stop });
    write(`done: ${r.iterations} iterations, ${r.imagesPerSecond.toFixed(1)} images/s${r.stoppedEarly ? ' (stopped early; run again to continue)' : ''}`);
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
