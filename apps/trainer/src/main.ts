/**
 * The trainer's entry point, the command a training container runs: one training run from
 * the flags of `sere train` (same flags, same output, same exit codes; both call
 * @sere/train's trainCommand). `npm run trainer -- FLAGS`, or `nx run trainer:start -- FLAGS`.
 * It runs where libtorch is, so unlike the `sere` command line it loads the run loop even
 * for --help.
 */
import { EXIT, formatTrainHelp, reportFailure, wantsHelp } from '@sere/config';
import { trainCommand } from '@sere/train';

const PROGRAM = 'trainer';

export async function main(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(formatTrainHelp(`npm run ${PROGRAM} -- [flags]   (the flags of sere train)`));
    return EXIT.ok;
  }
  try {
    return await trainCommand(argv, { program: PROGRAM });
  } catch (e) {
    return reportFailure(PROGRAM, e);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
