import * as path from 'node:path';

/** The `sere` command line as users run it. */
export const SERE = path.resolve(__dirname, '../../apps/cli/bin/sere.js');

/** The trainer's entry point (apps/trainer), run with tsx as `npm run trainer` does. */
export const TRAINER = [require.resolve('tsx/cli'), path.resolve(__dirname, '../../apps/trainer/src/main.ts')];

/**
 * The smallest real run: vit_tiny on 32 px global and 16 px local crops with a narrow head,
 * one thread, so end-to-end tests of `sere train` take seconds per epoch.
 */
export const TINY_FLAGS = [
  '--arch', 'vit_tiny', '--batch_size_per_gpu', '4', '--warmup_epochs', '1', '--warmup_teacher_temp_epochs', '1',
  '--local_crops_number', '2', '--global_size', '32', '--local_size', '16', '--out_dim', '64', '--head_hidden_dim', '64',
  '--head_bottleneck_dim', '32', '--threads', '1', '--data_workers', '1',
];
