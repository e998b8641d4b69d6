/**
 * sere train [reference training flags] [--device] [--precision] [--data] [--store] ...
 * The run itself is @sere/train's trainCommand, shared with the trainer's entry point
 * (apps/trainer): Ctrl-C finishes the current step, saves a checkpoint and exits, and
 * running the same command again continues from it.
 */
import { EXIT, wantsHelp } from '@sere/config';
import { trainCommand } from '@sere/train';
import { trainHelp } from '../help/texts';

export async function train(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(trainHelp());
    return EXIT.ok;
  }
  return trainCommand(argv, { program: 'sere train' });
}
