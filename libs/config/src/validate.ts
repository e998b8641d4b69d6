/**
 * Checks that involve several flags, and the defaults that depend on other flags.
 * Each message names the flags involved and what would be valid.
 */
import { DEFAULTS } from './defaults';
import { FlagError } from './errors';
import type { FlagKey, Precision, SereConfig } from './types';
import type { FlagValue } from './values';

/** The precision a run uses when --precision is not given. */
export function defaultPrecision(config: Pick<SereConfig, 'device' | 'use_fp16'>): Precision {
  if (config.device === 'cpu') return 'fp32';
  return config.use_fp16 ? 'fp16' : 'fp32';
}

/** Builds a frozen SereConfig from the defaults and the parsed values, then checks it as a whole. */
export function validateConfig(
  values: Partial<Record<FlagKey, FlagValue>>,
  explicit: ReadonlySet<FlagKey>,
): SereConfig {
  const c = structuredClone({ ...DEFAULTS, ...values }) as SereConfig;
  if (!explicit.has('precision')) c.precision = defaultPrecision(c);

  // One --overlap_size value sets S1 and S2 alike.
  const overlap: number[] = c.overlap_size;
  if (overlap.length === 1) c.overlap_size = [overlap[0], overlap[0]];
  checkMaskRatios(c);
  checkScaleRange('--global_crops_scale', c.global_crops_scale);
  checkScaleRange('--local_crops_scale', c.local_crops_scale);

  if (c.warmup_epochs > c.epochs) {
    throw new FlagError(
      `--warmup_epochs: ${c.warmup_epochs} is longer than the run (--epochs ${c.epochs}); use at most ${c.epochs}`,
      '--warmup_epochs',
    );
  }
  if (c.warmup_teacher_temp_epochs + c.pred_start_epoch > c.epochs) {
    const room = Math.max(0, c.epochs - c.pred_start_epoch);
    throw new FlagError(
      `--warmup_teacher_temp_epochs: ${c.warmup_teacher_temp_epochs}` +
        (c.pred_start_epoch > 0 ? ` after --pred_start_epoch ${c.pred_start_epoch}` : '') +
        ` does not fit in --epochs ${c.epochs}; use at most ${room}`,
      '--warmup_teacher_temp_epochs',
    );
  }
  if (c.alpha + c.beta > 4) {
    throw new FlagError(
      `--alpha ${c.alpha} + --beta ${c.beta} exceeds 4, which would give the iBOT loss a negative weight (4 - alpha - beta)/2`,
      '--alpha',
    );
  }
  if (c.precision === 'fp16' && c.device === 'cpu') {
    throw new FlagError("--precision: 'fp16' needs --device cuda; on cpu use fp32 or bf16", '--precision');
  }
  return deepFreeze(c);
}

function checkMaskRatios(c: SereConfig): void {
  const ratios = c.pred_ratio;
  if (c.pred_ratio_var.length === 1 && ratios.length > 1) {
    c.pred_ratio_var = ratios.map(() => c.pred_ratio_var[0]);
  }
  const vars = c.pred_ratio_var;
  if (vars.length !== ratios.length) {
    throw new FlagError(
      `--pred_ratio_var: ${vars.length} values for ${ratios.length} --pred_ratio values; give one value, or one per ratio`,
      '--pred_ratio_var',
    );
  }
  ratios.forEach((r, k) => {
    if (vars[k] > r || r + vars[k] > 1) {
      throw new FlagError(
        `--pred_ratio_var: ${vars[k]} around --pred_ratio ${r} leaves [0, 1]; use at most ${Math.min(r, 1 - r)}`,
        '--pred_ratio_var',
      );
    }
  });
}

function checkScaleRange(flag: string, [lo, hi]: [number, number]): void {
  if (lo > hi) throw new FlagError(`${flag}: the minimum ${lo} exceeds the maximum ${hi}`, flag);
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object') Object.freeze(v);
  return Object.freeze(o);
}
