/**
 * A parsed `sere train` command line. Keys are the reference script's flag names in
 * snake_case, so a config, a log line and a published command line all use the same words;
 * SERE.ts's own flags follow the same style. Values are already validated.
 */

export const ARCHS = ['vit_tiny', 'vit_small', 'vit_base', 'vit_large'] as const;
export type Arch = (typeof ARCHS)[number];

export const PRECISIONS = ['fp32', 'fp16', 'bf16'] as const;
export type Precision = (typeof PRECISIONS)[number];

export const OPTIMIZERS = ['adamw', 'sgd', 'lars'] as const;
export type Optimizer = (typeof OPTIMIZERS)[number];

export const PRED_SHAPES = ['block', 'rand'] as const;
export type PredShape = (typeof PRED_SHAPES)[number];

export const HEAD_NORMS = ['bn', 'syncbn', 'ln'] as const;
export type HeadNorm = (typeof HEAD_NORMS)[number];

export const HEAD_ACTS = ['gelu', 'relu'] as const;
export type HeadAct = (typeof HEAD_ACTS)[number];

/** `cpu`, `cuda` or `cuda:N`. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

export interface SereConfig {
  // ---- model
  arch: Arch;
  patch_size: number;
  window_size: number;
  out_dim: number;
  patch_out_dim: number;
  shared_head: boolean;
  shared_head_teacher: boolean;
  norm_last_layer: boolean;
  norm_in_head: HeadNorm | null;
  act_in_head: HeadAct;
  drop_path: number;
  // ---- teacher
  momentum_teacher: number;
  warmup_teacher_temp: number;
  teacher_temp: number;
  warmup_teacher_patch_temp: number;
  teacher_patch_temp: number;
  warmup_teacher_temp_epochs: number;
  // ---- masked image modelling
  use_masked_im_modeling: boolean;
  /** One value, or several of which each crop picks one at random. */
  pred_ratio: number[];
  /** Same length as pred_ratio (a single value given on the command line is repeated). */
  pred_ratio_var: number[];
  pred_shape: PredShape;
  pred_start_epoch: number;
  lambda1: number;
  lambda2: number;
  // ---- optimisation
  use_fp16: boolean;
  weight_decay: number;
  weight_decay_end: number;
  clip_grad: number;
  batch_size_per_gpu: number;
  epochs: number;
  freeze_last_layer: number;
  lr: number;
  warmup_epochs: number;
  min_lr: number;
  optimizer: Optimizer;
  load_from: string | null;
  accum_iter: number;
  // ---- multi-crop
  global_crops_number: number;
  global_crops_scale: [number, number];
  local_crops_number: number;
  local_crops_scale: [number, number];
  // ---- SERE
  /** [S1, S2]; a single value on the command line sets both. */
  overlap_size: [number, number];
  alpha: number;
  beta: number;
  temperature_pixel: number;
  temperature_channel: number;
  // ---- data, output, launch
  data_path: string;
  output_dir: string;
  saveckp_freq: number;
  seed: number;
  num_workers: number;
  dist_url: string;
  local_rank: number;
  // ---- SERE.ts's own
  device: Device;
  /** Resolved: --precision if given, else fp32 on cpu and (use_fp16 ? fp16 : fp32) on cuda. */
  precision: Precision;
  /** Raw --data (folder or kafka://…); null = use data_path. See dataSource(). */
  data: string | null;
  /** Raw --store (folder or s3://…); null = use output_dir. See storeLocation(). */
  store: string | null;
  steps: number | null;
  compat_local_heads: boolean;
  compat_channel_divisor: boolean;
  /** Final value of the teacher momentum's cosine (reference: 1). */
  momentum_teacher_end: number;
  dist_timeout: number;
  metrics_port: number | null;
  metrics_host: string;
  threads: number | null;
  global_size: number;
  local_size: number;
  data_workers: number | null;
  head_hidden_dim: number;
  head_bottleneck_dim: number;
  json: boolean;
}

export type FlagKey = keyof SereConfig;
