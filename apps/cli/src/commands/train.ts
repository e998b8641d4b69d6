/**
 * sere train [reference training flags] [--device] [--precision] [--data] [--store] ...
 * The run itself is @sere/train's trainCommand, shared with the trainer's entry point
 * (apps/trainer): Ctrl-C finishes the current step, saves a checkpoint and exits, and
 * running the same command again continues from it. `--help` never gets here: main
 * answers it from libs/config's formatTrainHelp without loading the run loop.
 */
import { trainCommand } from '@sere/train';

export async function train(argv: string[]): Promise<number> {
  return trainCommand(argv, { program: 'sere train' });
}
