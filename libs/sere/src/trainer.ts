/**
 * One training iteration of SERE exactly in the reference's order (spec §4.6):
 * schedules → teacher/student forward → losses (centre update) → backward → [unscale] →
 * per-parameter clipping → last-layer freeze → AdamW → [scaler update] → EMA teacher.
 * Everything a step allocates is released before it returns; parameters, optimiser
 * moments, centres and the loss scale are the only tensors that persist.
 */
import * as T from '@sere/torch';
import { FlagError, type SereConfig } from '@sere/config';
import { archByName, VitArch, vitConfig } from './model/arch';
import { emaPairs, emaUpdate } from './optimisation/ema';
import { headConfig } from './model/ibot-head';
import { IBOT_LOSS_DEFAULTS, IBOTLoss } from './objective/ibot-loss';
import { computeObjective, ObjectiveBatch, ObjectiveConfig } from './objective/objective';
import { AdamW, paramGroups } from './optimisation/adamw';
import { cancelLastLayerGradients, clipGradientsPerParameter } from './optimisation/gradients';
import { createNetworks, disposeNetworks, Networks, trainableParameters } from './model/networks';
import { GradScaler } from './optimisation/grad-scaler';
import { buildSchedules, Schedules } from './optimisation/schedules';
import { DataParallel, rankSeed } from './distributed/data-parallel';

export type TrainerFlags = Pick<
  SereConfig,
  | 'arch' | 'patch_size' | 'out_dim' | 'patch_out_dim' | 'shared_head' | 'shared_head_teacher' | 'norm_last_layer'
  | 'use_masked_im_modeling' | 'lambda1' | 'lambda2' | 'drop_path' | 'clip_grad' | 'freeze_last_layer' | 'accum_iter'
  | 'local_crops_number' | 'alpha' | 'beta' | 'temperature_pixel' | 'temperature_channel' | 'compat_local_heads'
  | 'compat_channel_divisor' | 'global_size' | 'local_size'
  | 'lr' | 'min_lr' | 'warmup_epochs' | 'epochs' | 'batch_size_per_gpu' | 'weight_decay' | 'weight_decay_end'
  | 'momentum_teacher' | 'momentum_teacher_end' | 'warmup_teacher_temp' | 'teacher_temp' | 'warmup_teacher_patch_temp' | 'teacher_patch_temp'
  | 'warmup_teacher_temp_epochs' | 'pred_start_epoch' | 'optimizer' | 'device' | 'precision' | 'seed' | 'act_in_head'
> & {
  /** A backbone shape other than the named archs (small models in tests and demos). */
  arch_spec?: VitArch;
  /** iBOT head MLP sizes (reference: 2048 hidden, 256 bottleneck). */
  head_hidden_dim?: number;
  head_bottleneck_dim?: number;
};

/**
 * The channel self-relation sums over token positions, so its divisor stands for the token
 * grid side (spec §4.1): the reference hard-codes 14 and 6, right only for 224/96-px crops
 * with 16-px patches. We use the real grid side unless --compat_channel_divisor asks for
 * the reference's constants.
 */
export function channelDivisors(flags: Pick<TrainerFlags, 'compat_channel_divisor' | 'global_size' | 'local_size' | 'patch_size'>) {
  if (flags.compat_channel_divisor) return { channelDivisorGlobal: 14, channelDivisorLocal: 6 };
  return { channelDivisorGlobal: flags.global_size / flags.patch_size, channelDivisorLocal: flags.local_size / flags.patch_size };
}

export class NonFiniteLossError extends Error {
  constructor(readonly iteration: number, readonly value: number) {
    super(`loss is ${value} at iteration ${iteration}; stopping (the last checkpoint is kept)`);
  }
}

export interface StepMetrics {
  loss: number;
  ibot: number;
  ibotCls: number;
  ibotPatch: number;
  pixel: number;
  channel: number;
  /** Collapse monitor, nats (see IBOTLossOutput): teacher target entropy, per image and of the batch mean. */
  teacherEntropy: number;
  teacherBatchEntropy: number;
  lr: number;
  wd: number;
  momentum: number;
  /** fp16 only: the step was skipped because of inf/NaN gradients. */
  skipped: boolean;
}

const LOW_PRECISION: Record<string, T.DType | null> = { fp32: null, fp16: 'float16', bf16: 'bfloat16' };

export class SereTrainer {
  readonly nets: Networks;
  readonly loss: IBOTLoss;
  readonly optimizer: AdamW;
  readonly schedules: Schedules;
  readonly scaler: GradScaler | null;
  private readonly pairs: ReturnType<typeof emaPairs>;
  private readonly objective: ObjectiveConfig;
  private readonly autocastDtype: T.DType | null;
  private microStep = 0;

  /**
   * `dp`: train with the other ranks of its group (their batches together form the global
   * batch); the schedules then scale the learning rate by its world size.
   */
  constructor(
    readonly flags: TrainerFlags,
    itersPerEpoch: number,
    readonly dp: DataParallel | null = null,
  ) {
    const worldSize = dp?.worldSize ?? 1;
    if (flags.optimizer !== 'adamw') throw new FlagError(`--optimizer: '${flags.optimizer}' is not implemented yet (adamw is)`, '--optimizer');
    if (flags.act_in_head !== 'gelu') throw new FlagError(`--act_in_head: '${flags.act_in_head}' is not implemented (gelu is)`, '--act_in_head');
    const device = T.checkDevice(flags.device);
    if (flags.precision !== 'fp32' && device === 'cpu') throw new FlagError(`--precision ${flags.precision} needs a CUDA device (got --device cpu)`, '--precision');
    T.manualSeed(flags.seed);
    const arch = flags.arch_spec ?? archByName(flags.arch);
    const vit = vitConfig(arch, flags.patch_size, {
      dropPath: flags.drop_path,
      maskedEmbed: flags.use_masked_im_modeling,
      localHeads: flags.local_crops_number > 0,
      ...channelDivisors(flags),
    });
    const sharedAny = flags.shared_head || flags.shared_head_teacher;
    const patchDim = sharedAny ? flags.out_dim : flags.patch_out_dim;
    const sizes = {
      outDim: flags.out_dim,
      patchOutDim: patchDim,
      ...(flags.head_hidden_dim ? { hiddenDim: flags.head_hidden_dim } : {}),
      ...(flags.head_bottleneck_dim ? { bottleneckDim: flags.head_bottleneck_dim } : {}),
    };
    this.nets = createNetworks(
      vit,
      headConfig(arch.embedDim, { ...sizes, sharedHead: flags.shared_head, normLastLayer: flags.norm_last_layer }),
      headConfig(arch.embedDim, { ...sizes, sharedHead: flags.shared_head_teacher, normLastLayer: true }),
      device,
    );
    this.loss = new IBOTLoss({ ...IBOT_LOSS_DEFAULTS, lambda1: flags.lambda1, lambda2: flags.lambda2 }, flags.out_dim, patchDim, device);
    this.optimizer = new AdamW(paramGroups(trainableParameters(this.nets.student)));
    this.schedules = buildSchedules(flags, itersPerEpoch, worldSize);
    if (dp) {
      dp.attach(this.nets, { findUnusedParameters: flags.compat_local_heads && flags.local_crops_number > 0 && flags.local_crops_number <= 2 });
      this.loss.crossRankMean = (t) => dp.mean(t);
      // Rank 0 keeps the stream that follows initialisation, as one process does; the other
      // ranks draw their drop-path from generators of their own.
      if (dp.rank > 0) T.manualSeed(rankSeed(flags.seed, dp.rank));
    }
    this.pairs = emaPairs(this.nets.student, this.nets.teacher);
    this.objective = {
      temperaturePixel: flags.temperature_pixel,
      temperatureChannel: flags.temperature_channel,
      alpha: flags.alpha,
      beta: flags.beta,
      compatLocalHeads: flags.compat_local_heads,
    };
    this.autocastDtype = LOW_PRECISION[flags.precision];
    this.scaler = flags.precision === 'fp16' ? new GradScaler(device) : null;
  }

  /** Runs iteration `it` (global index) of `epoch` on one batch. */
  step(batch: ObjectiveBatch, it: number, epoch: number): StepMetrics {
    const f = this.flags;
    const lr = this.schedules.lr[it];
    const wd = this.schedules.weightDecay[it];
    const momentum = this.schedules.teacherMomentum[it];
    return T.scope(() => {
      const temps = { teacherTemp: this.schedules.teacherTemp[epoch], teacherPatchTemp: this.schedules.teacherPatchTemp[epoch] };
      const out = T.autocast(this.autocastDtype, () => computeObjective(this.nets, this.loss, this.objective, batch, temps, true));
      const local = T.stack([out.total, out.ibot, out.ibotCls, out.ibotPatch, out.pixel, out.channel, out.teacherEntropy, out.teacherBatchEntropy].map((t) => t.float().detach()), 0);
      // Averaged over ranks: the loss of the global batch, and every rank stops together.
      const values = (this.dp ? this.dp.mean(local) : local).toFloat32Array();
      if (!Number.isFinite(values[0])) throw new NonFiniteLossError(it, values[0]);
      this.loss.updateCenter(out.teacherCls, out.teacherPatchMean, f.accum_iter);
      const scaled = f.accum_iter > 1 ? out.total.div(f.accum_iter) : out.total;
      const objective = this.scaler ? this.scaler.scale(scaled) : scaled;
      this.dp?.beforeBackward(objective);
      objective.backward();

      let skipped = false;
      this.microStep += 1;
      if (this.microStep % f.accum_iter === 0) {
        const named = trainableParameters(this.nets.student);
        if (this.scaler) skipped = this.scaler.unscale(named.map(([, p]) => p));
        clipGradientsPerParameter(named.map(([, p]) => p), f.clip_grad);
        cancelLastLayerGradients(named, epoch, f.freeze_last_layer);
        if (!skipped) this.optimizer.step(lr, [wd, 0]);
        this.scaler?.update();
        this.optimizer.zeroGrad();
        emaUpdate(this.pairs, momentum);
      }
      return {
        loss: values[0],
        ibot: values[1],
        ibotCls: values[2],
        ibotPatch: values[3],
        pixel: values[4],
        channel: values[5],
        teacherEntropy: values[6],
        teacherBatchEntropy: values[7],
        lr,
        wd,
        momentum,
        skipped,
      };
    });
  }

  dispose(): void {
    disposeNetworks(this.nets);
    this.loss.dispose();
    this.optimizer.dispose();
    this.scaler?.dispose();
    this.dp?.dispose();
  }
}
