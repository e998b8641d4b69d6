/**
 * The help of the commands other than `sere data` (./data.ts) and `sere train` (libs/config's
 * formatTrainHelp, shared with apps/trainer), kept apart from the commands so that
 * `sere eval --help` and `sere verify-fixtures --help` answer without loading libtorch or
 * the image decoder.
 */
import { type CommandHelp, STORE_EXITS } from './command-help';

export const DEMO_HELP: CommandHelp = {
  name: 'demo',
  usage: 'sere demo [--json] [--dir runs/demo] [--data data/demo-v4] [-- training flags]',
  description:
    'Makes the embedded dataset if it is missing, pretrains vit_tiny with iBOT + SERE on the CPU, then scores k-NN and a\n' +
    'linear probe of the pretrained teacher against the same network at random initialisation. Writes demo-report.json\n' +
    'and demo-report.html in --dir. Running it again reuses the dataset and resumes or reuses the run.',
  options: [
    ['--json', 'print the summary as one JSON line on stdout (progress goes to stderr)'],
    ['--dir DIR', 'the run folder (default runs/demo); one left by other settings is moved aside'],
    ['--data DIR', 'the dataset: a root with train/ and val/, or one class-per-folder folder (default data/demo-v4)'],
    ['-- FLAGS', 'training flags that override the demo\'s (see sere train --help), e.g. -- --epochs 20'],
  ],
  exits: ['ok', 'failed', 'refused', 'diverged', ...STORE_EXITS],
};

export const LAUNCH_HELP: CommandHelp = {
  name: 'launch',
  usage: 'sere launch [--nproc_per_node N] [--nnodes M --node_rank R] [--master_addr A] [--master_port P] [--max_restarts K] [--monitor_interval S] train [training flags]',
  description:
    'Starts N copies of sere train with torchrun\'s variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR,\n' +
    'MASTER_PORT); they train one model on N shares of each batch (gradients all-reduced, SyncBatchNorm, centres over\n' +
    'all ranks). Rank 0 writes checkpoints and logs and prints progress; the others print only errors. When a process\n' +
    'fails, the others are stopped and the group restarts from the last checkpoint, up to --max_restarts times.\n' +
    'A recipe `python -m torch.distributed.launch --nproc_per_node=8 main_sere.py FLAGS` runs as\n' +
    '`sere launch --nproc_per_node=8 train FLAGS`. Flags are also accepted as --nproc-per-node and --flag=value.',
  options: [
    ['--nproc_per_node N', 'processes on this machine (default 1)'],
    ['--nnodes M', 'machines in the run (default 1); each runs sere launch with its --node_rank'],
    ['--node_rank R', 'this machine\'s index, 0..M-1 (default 0)'],
    ['--master_addr A', 'host of rank 0, which serves the rendezvous (default 127.0.0.1)'],
    ['--master_port P', 'its port (default 29500)'],
    ['--max_restarts K', 'restarts of the whole group after a failure (default 0)'],
    ['--monitor_interval S', 'accepted for torchrun compatibility; processes are watched by their exit events'],
    ['--grace_period S', 'seconds a process stopped after another failed gets to save before SIGKILL (default 30)'],
  ],
  exits: ['ok', ['failed', 'a process failed: the exit code is that of the rank that failed first, named in the message'], 'refused', 'interrupted'],
};

export const EVAL_HELP: CommandHelp = {
  name: 'eval',
  usage:
    'sere eval (--checkpoint FILE|s3://BUCKET/KEY | --random) --data_path DIR [--val_path DIR] [--arch vit_small] [--patch_size 16] [--size 224] [--linear_epochs 100] [--output FILE] [--device cpu] [--seed 0] [--checkpoint_key teacher|student] [--json]',
  description:
    'Scores frozen features: weighted k-NN (k = 10, 20, 100, 200; T = 0.07) on the CLS token and a linear probe.\n' +
    'Without --val_path, 20 % of each class of --data_path is held out.',
  options: [
    ['--checkpoint FILE', 'a checkpoint of sere train (or of the reference), a file or s3://bucket/key'],
    ['--random', 'score the architecture at random initialisation instead'],
    ['--data_path DIR', 'class-per-folder images the probes fit on'],
    ['--val_path DIR', 'class-per-folder images the probes are scored on'],
    ['--arch NAME', 'vit_tiny, vit_small (default), vit_base or vit_large'],
    ['--patch_size N', 'patch side in pixels (default 16)'],
    ['--size N', 'crop side fed to the backbone (default 224), a multiple of --patch_size'],
    ['--linear_epochs N', 'epochs of the linear probe (default 100; 0 skips it)'],
    ['--output FILE', 'also write the report as JSON to FILE'],
    ['--device DEV', 'cpu (default), cuda or cuda:N'],
    ['--seed N', 'seeds the hold-out split, the probe and --random (default 0)'],
    ['--checkpoint_key KEY', 'teacher (default) or student: which network of the checkpoint to score'],
    ['--json', 'print the report as one JSON line'],
  ],
  exits: ['ok', 'failed', 'refused', 'usage', 'corrupt', 'unavailable', 'io', 'permission'],
};

export const VERIFY_FIXTURES_HELP: CommandHelp = {
  name: 'verify-fixtures',
  usage: 'sere verify-fixtures <dir> [--device cpu|cuda[:N]] [--json] [--failures-only]',
  description: 'Runs every parity check of the reference fixtures in <dir> and prints each with its largest deviation and bound.',
  options: [
    ['--device DEV', 'cpu (default), cuda or cuda:N; fp32 checks run with TF32 off'],
    ['--json', 'one JSON document with every check'],
    ['--failures-only', 'print only the checks that failed'],
  ],
  exits: [
    ['ok', 'every check passed'],
    ['failed', 'a check failed or a fixture file is malformed (the report names it)'],
    ['refused', 'refused: a bad flag, or the folder is missing or holds no fixture file'],
  ],
};
