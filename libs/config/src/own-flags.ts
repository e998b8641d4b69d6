/** Flags that SERE.ts adds to the reference command line. */
import type { FlagSpec } from './flag-spec';
import { parseDataSource, parseStoreLocation } from './locations';
import { PRECISIONS } from './types';

function messageOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const checkDevice = (v: string) =>
  /^(cpu|cuda|cuda:\d+)$/.test(v) ? undefined : `'${v}' is not one of cpu, cuda, cuda:N`;

export const OWN_FLAGS: readonly FlagSpec[] = [
  {
    key: 'device', group: 'SERE.ts runtime', origin: 'ours', type: 'string', check: checkDevice, rule: 'cpu, cuda or cuda:N', metavar: 'cpu|cuda|cuda:N',
    help: 'Where to train. cuda is the first visible GPU (a multi-GPU launcher gives each process its own); cuda:N picks GPU N. cpu is for demos, tests and debugging: a recipe-sized step takes minutes there.',
  },
  {
    key: 'precision', group: 'SERE.ts runtime', origin: 'ours', type: 'choice', choices: PRECISIONS,
    defaultText: 'fp32 on cpu; on cuda fp16 if --use_fp16 is on, else fp32',
    help: 'Arithmetic of the forward pass and loss; takes precedence over --use_fp16. fp16 is the reference mixed precision with loss scaling. bf16 has the range of fp32, needs no loss scaling and is the better choice on Ampere/Hopper GPUs; it is also the only reduced precision on CPU. fp32 for checking numerics.',
  },
  {
    key: 'data', group: 'SERE.ts runtime', origin: 'ours', type: 'string', nullable: true,
    check: (v) => messageOf(() => parseDataSource(v)), metavar: 'DIR|kafka://HOST:PORT/PREFIX',
    defaultText: 'None (use --data_path)',
    help: "Where the images come from: a local folder in ImageNet layout (decoded in this process), or kafka://host:port/prefix to train on the views the data service streams under that topic prefix (its --prefix), which frees the trainer from decoding; start the data service with this run's --global_size, --local_size, --local_crops_number and --patch_size. Several brokers: kafka://h1:9092,h2:9092/prefix. Takes precedence over --data_path.",
  },
  {
    key: 'store', group: 'SERE.ts runtime', origin: 'ours', type: 'string', nullable: true,
    check: (v) => messageOf(() => parseStoreLocation(v)), metavar: 'DIR|s3://BUCKET/PREFIX',
    defaultText: 'None (use --output_dir)',
    help: 'Where checkpoints and logs go: a local folder, or s3://bucket/prefix on any S3-compatible server (endpoint and keys are configured separately), which the eval service watches. Takes precedence over --output_dir.',
  },
  {
    key: 'steps', group: 'SERE.ts runtime', origin: 'ours', type: 'int', min: 1, nullable: true, metavar: 'N',
    help: 'Stop after N iterations in total while the schedules still follow --epochs, so the first N steps are those of the full run. For benchmarks and smoke tests; None trains every epoch.',
  },
  {
    key: 'compat_local_heads', group: 'SERE.ts runtime', origin: 'ours', type: 'bool',
    help: "On: reproduce the reference's choice of SERE heads for local crops, which sends them through the global heads (divisor 14) whenever --local_crops_number is 1 or 2 (spec §9.1). Off (default): local crops always use the local heads. Makes no difference with 3 or more local crops, as in the recipes; turn it on only to match a reference run with 1-2 local crops.",
  },
  {
    key: 'compat_channel_divisor', group: 'SERE.ts runtime', origin: 'ours', type: 'bool',
    help: "On: divide channel self-relations by the reference's hard-coded 14 (global) and 6 (local) whatever the crop and patch sizes (spec §9.2). Off (default): divide by the token grid side, --global_size / --patch_size and --local_size / --patch_size, which is 14 and 6 for the recipes' 224/96-px crops with 16-px patches, so the recipes are unchanged. With smaller crops the hard-coded divisors shrink the relations until their softmax is flat and the channel term teaches nothing (the channel loss sits at log D).",
  },
  {
    key: 'momentum_teacher_end', group: 'Teacher and temperatures', origin: 'ours', type: 'float', above: 0, max: 1,
    help: "Where the teacher's EMA momentum ends its cosine from --momentum_teacher. 1 (default) is the reference's schedule, right for runs of many thousand steps. On a run of a few hundred steps the cosine to 1 freezes the teacher for the last third and leaves part of its random initialisation in it (about 10 % with --momentum_teacher 0.98 over 225 steps), so the teacher scores below its own student; an end of 0.98-0.99 keeps it following the student.",
  },
  {
    key: 'dist_timeout', group: 'SERE.ts runtime', origin: 'ours', type: 'float', above: 0, metavar: 'SECONDS',
    help: "Bound on the rendezvous of a multi-process run and on every collective: a rank that never arrives, or dies, ends the others' wait with an error naming the operation after this long. 1800 (default) is PyTorch's; tests use seconds.",
  },
  {
    key: 'metrics_port', group: 'SERE.ts runtime', origin: 'ours', type: 'int', min: 0, nullable: true, metavar: 'PORT',
    help: 'Serve Prometheus metrics of the run (losses, lr, teacher entropies, images/s, step and data-wait times, checkpoint writes) on http://HOST:PORT/metrics while it trains; also SERE_METRICS_PORT. Rank r of a multi-process run serves PORT + local rank. 0 picks a free port. None: no endpoint.',
  },
  {
    key: 'metrics_host', group: 'SERE.ts runtime', origin: 'ours', type: 'string', metavar: 'HOST',
    help: 'Address the metrics endpoint binds: loopback unless given (0.0.0.0 in a pod, for Prometheus to reach it).',
  },
  {
    key: 'threads', group: 'SERE.ts runtime', origin: 'ours', type: 'int', min: 1, nullable: true, metavar: 'N',
    help: 'CPU threads for tensor arithmetic. None lets the tensor library choose (about one per core). Set it when several trainers or the data service share a machine, so they do not fight over cores.',
  },
  {
    key: 'global_size', group: 'SERE.ts runtime', origin: 'ours', type: 'int', min: 16, metavar: 'PX',
    help: 'Side of the global crops in pixels (the reference fixes 224). Must be a multiple of --patch_size. Smaller crops (e.g. 96 with 64-px local crops) make CPU demos fast; the positional table stays the 224-px one, interpolated as for local crops.',
  },
  {
    key: 'local_size', group: 'SERE.ts runtime', origin: 'ours', type: 'int', min: 16, metavar: 'PX',
    help: 'Side of the local crops in pixels (the reference fixes 96). Must be a multiple of --patch_size.',
  },
  {
    key: 'data_workers', group: 'SERE.ts runtime', origin: 'ours', type: 'int', min: 1, nullable: true, metavar: 'N',
    help: 'Threads that decode and augment images for a local --data_path (the reference uses --num_workers processes). None: one per CPU core minus one. Raise it when the progress line shows the GPU waiting for data.',
  },
  {
    key: 'head_hidden_dim', group: 'SERE.ts runtime', origin: 'ours', type: 'int', min: 8, metavar: 'N',
    help: 'Width of the iBOT head MLP (the reference fixes 2048). Keep 2048 for the recipes; on a CPU with small crops the head costs as much as the backbone, and 512 halves a step.',
  },
  {
    key: 'head_bottleneck_dim', group: 'SERE.ts runtime', origin: 'ours', type: 'int', min: 8, metavar: 'N',
    help: 'Bottleneck width of the iBOT head before its weight-normalised last layer (the reference fixes 256).',
  },
  {
    key: 'json', group: 'SERE.ts runtime', origin: 'ours', type: 'bool',
    help: 'Print progress as one JSON object per line instead of text, for scripts and log collectors.',
  },
];
