/**
 * sere launch [torchrun's flags] train [training flags]: N training processes on this
 * machine, joined by c10d (see @sere/train's launch.ts). `python -m torch.distributed.launch
 * --nproc_per_node=8 main_sere.py FLAGS` becomes `sere launch --nproc_per_node=8 train FLAGS`.
 */
import * as path from 'path';
import { launch, parseLaunchArgs } from '@sere/train';
import { UsageError } from '../usage';

export const LAUNCH_USAGE = 'sere launch [--nproc_per_node N] [--nnodes M --node_rank R] [--master_addr A] [--master_port P] [--max_restarts K] [--monitor_interval S] train [training flags]';

export async function runLaunch(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseLaunchArgs>;
  try {
    parsed = parseLaunchArgs(argv);
  } catch (e) {
    throw new UsageError((e as Error).message, LAUNCH_USAGE);
  }
  if (parsed.command !== 'train') throw new UsageError(`sere launch runs 'train', got '${parsed.command}'`, LAUNCH_USAGE);
  const bin = path.resolve(__dirname, '../../bin/sere.js');
  return launch(parsed.options, { commandLine: [process.execPath, bin, 'train', ...parsed.args], write: (l) => process.stderr.write(l + '\n') });
}
