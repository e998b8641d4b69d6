/**
 * The trainer's entry point, the command a training container runs: one training run from
 * the flags of `sere train` (same flags, same output, same exit codes; both call
 * @sere/train's trainCommand). `npm run trainer -- FLAGS`, or `nx run trainer:start -- FLAGS`.
 * Like the `sere` command line, it loads the run loop (libtorch, the models, the Kafka
 * client) only once it has a run to start, so --help answers at once.
 */
import { EXIT, formatTrainHelp, reportFailure, wantsHelp } from '@sere/config';

const PROGRAM = 'trainer';

export async function main(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(formatTrainHelp(`npm run ${PROGRAM} -- [flags]   (the flags of sere train)`));
    return EXIT.ok;
  }
  try {
    const { trainCommand } = require('@sere/train') as typeof import('@sere/train');
    return await trainCommand(argv, { program: PROGRAM });
  } catch (e) {
    return reportFailure(PROGRAM, e);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
