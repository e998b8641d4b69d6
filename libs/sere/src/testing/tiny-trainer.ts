/**
 * A tiny trainer for specs: vit_tiny's flags on a 24-wide, 2-block backbone with small heads,
 * synthetic multi-crop samples of 64/32 px, and a run of a few steps that returns each step's
 * loss, pixel and channel terms. Shared by the trainer's and the step worker's specs, which
 * compare runs with each other.
 */
import { parseFlags } from '@sere/config';
import * as T from '@sere/torch';
import { toObjectiveBatch } from '../batch';
import { SereTrainer, type TrainerFlags } from '../trainer';
import { syntheticSamples } from './synthetic';

export function tinyTrainerFlags(extra: string[] = []): TrainerFlags {
  const cfg = parseFlags([
    '--arch', 'vit_tiny', '--batch_size_per_gpu', '2', '--local_crops_number', '3', '--out_dim', '64',
    '--epochs', '2', '--warmup_epochs', '1', '--warmup_teacher_temp_epochs', '1', '--shared_head', 'true',
    '--norm_last_layer', 'false', '--clip_grad', '0.3', '--alpha', '0.2', '--beta', '0.5', '--threads', '2',
    '--pred_ratio', '0', '0.3', '--pred_ratio_var', '0', '0.2', ...extra,
  ]);
  return { ...cfg, arch_spec: { name: 'test', embedDim: 24, depth: 2, numHeads: 2, mlpRatio: 4 }, head_hidden_dim: 32, head_bottleneck_dim: 16 };
}

export function tinySamples(batch: number, seed = 1, localCrops = 3) {
  return syntheticSamples({
    batch, localCrops, globalSize: 64, localSize: 32, patchSize: 16, overlapSize: [5, 5],
    globalScale: [0.4, 1], localScale: [0.05, 0.4], predRatio: [0, 0.3], predRatioVar: [0, 0.2], seed,
  });
}

export function tinyRun(flags: TrainerFlags, steps: number): number[] {
  const trainer = new SereTrainer(flags, 10);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    T.scope(() => {
      const m = trainer.step(toObjectiveBatch(tinySamples(2, i), 'cpu'), i, 0);
      losses.push(m.loss, m.pixel, m.channel);
    });
  }
  trainer.dispose();
  return losses;
}
