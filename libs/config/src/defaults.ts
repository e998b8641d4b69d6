import type { SereConfig } from './types';

/**
 * Defaults of every flag. The reference flags keep the reference script's defaults, even
 * where a recipe always overrides them (teacher_temp 0.04, shared_head off,
 * local_crops_number 0): a published command line must mean the same thing here.
 */
export const DEFAULTS: Readonly<SereConfig> = Object.freeze({
  arch: 'vit_small',
  patch_size: 16,
  window_size: 7,
  out_dim: 8192,
  patch_out_dim: 8192,
  shared_head: false,
  shared_head_teacher: true,
  norm_last_layer: true,
  norm_in_head: null,
  act_in_head: 'gelu',
  drop_path: 0.1,

  momentum_teacher: 0.996,
  warmup_teacher_temp: 0.04,
  teacher_temp: 0.04,
  warmup_teacher_patch_temp: 0.04,
  teacher_patch_temp: 0.07,
  warmup_teacher_temp_epochs: 30,

  use_masked_im_modeling: true,
  pred_ratio: [0.3],
  pred_ratio_var: [0],
  pred_shape: 'block',
  pred_start_epoch: 0,
  lambda1: 1.0,
  lambda2: 1.0,

  use_fp16: true,
  weight_decay: 0.04,
  weight_decay_end: 0.4,
  clip_grad: 3.0,
  batch_size_per_gpu: 128,
  epochs: 100,
  freeze_last_layer: 1,
  lr: 0.0005,
  warmup_epochs: 10,
  min_lr: 1e-6,
  optimizer: 'adamw',
  load_from: null,
  accum_iter: 1,

  global_crops_number: 2,
  global_crops_scale: [0.14, 1.0],
  local_crops_number: 0,
  local_crops_scale: [0.05, 0.4],

  overlap_size: [13, 13],
  alpha: 1.0,
  beta: 1.0,
  temperature_pixel: 0.5,
  temperature_channel: 0.1,

  data_path: '/path/to/imagenet/train/',
  output_dir: '.',
  saveckp_freq: 40,
  seed: 0,
  num_workers: 10,
  dist_url: 'env://',
  local_rank: 0,

  device: 'cpu',
  precision: 'fp32',
  data: null,
  store: null,
  steps: null,
  compat_local_heads: false,
  threads: null,
  json: false,
} satisfies SereConfig);
