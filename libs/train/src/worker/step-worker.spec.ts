/** The off-thread worker computes what the trainer computes in-thread, while the main event loop keeps running. */
import { parseFlags } from '@sere/config';
import { SereTrainer, toObjectiveBatch, type TrainerFlags } from '@sere/sere';
import { syntheticSamples } from '@sere/sere/testing';
import * as T from '@sere/torch';
import { StepWorker } from './step-worker';

function smallFlags(): TrainerFlags {
  const cfg = parseFlags([
    '--arch', 'vit_tiny', '--batch_size_per_gpu', '2', '--local_crops_number', '3', '--out_dim', '64',
    '--epochs', '2', '--warmup_epochs', '1', '--warmup_teacher_temp_epochs', '1', '--shared_head', 'true',
    '--norm_last_layer', 'false', '--clip_grad', '0.3', '--alpha', '0.2', '--beta', '0.5', '--threads', '2',
    '--pred_ratio', '0', '0.3', '--pred_ratio_var', '0', '0.2',
  ]);
  return { ...cfg, arch_spec: { name: 'test', embedDim: 24, depth: 2, numHeads: 2, mlpRatio: 4 }, head_hidden_dim: 32, head_bottleneck_dim: 16 };
}

function samples(batch: number, seed: number) {
  return syntheticSamples({
    batch, localCrops: 3, globalSize: 64, localSize: 32, patchSize: 16, overlapSize: [5, 5],
    globalScale: [0.4, 1], localScale: [0.05, 0.4], predRatio: [0, 0.3], predRatioVar: [0, 0.2], seed,
  });
}

function inThread(flags: TrainerFlags, steps: number): number[] {
  const trainer = new SereTrainer(flags, 10);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    T.scope(() => {
      const m = trainer.step(toObjectiveBatch(samples(2, i), 'cpu'), i, 0);
      losses.push(m.loss, m.pixel, m.channel);
    });
  }
  trainer.dispose();
  return losses;
}

describe('StepWorker', () => {
  it('runs steps off the main thread with the same results, while timers keep firing', async () => {
    const flags = smallFlags();
    const expected = inThread(flags, 2);
    const worker = new StepWorker();
    try {
      await worker.init(flags, 10);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const losses: number[] = [];
      const live: number[] = [];
      for (let i = 0; i < 2; i++) {
        const { metrics, liveTensors } = await worker.step(samples(2, i), i, 0);
        losses.push(metrics.loss, metrics.pixel, metrics.channel);
        live.push(liveTensors);
      }
      clearInterval(timer);
      expect(losses).toEqual(expected);
      expect(live[1]).toBe(live[0]);
      expect(ticks).toBeGreaterThan(3);
      await expect(worker.step([], 2, 0)).rejects.toThrow(/empty batch/);
    } finally {
      await worker.close();
    }
  });
});

describe('StepWorker resume', () => {
  it('parses a checkpoint once: load() says where it continues before init, restore() applies it after', async () => {
    const flags = smallFlags();
    const uninterrupted = inThread(flags, 3);
    const first = new StepWorker();
    const second = new StepWorker();
    try {
      await first.init(flags, 10);
      for (let i = 0; i < 2; i++) await first.step(samples(2, i), i, 0);
      const dataPosition = { epoch: 0, step: 2 };
      const file = await first.save({ epoch: 0, iteration: 2, dataPosition, args: { arch: 'vit_tiny' } });

      expect(await second.load(file, 'checkpoint.pth')).toEqual({ epoch: 0, dataPosition });
      await second.init({ ...flags, seed: 99 }, 10); // another init: everything must come from the file
      const info = await second.restore();
      expect(info).toMatchObject({ epoch: 0, iteration: 2, dataPosition });
      // The parsed file is applied once and let go.
      await expect(second.restore()).rejects.toThrow(/no checkpoint was loaded/);

      // libtorch's generator is one per process: only one of the two may step from here on.
      const m = (await second.step(samples(2, 2), 2, 0)).metrics;
      expect([m.loss, m.pixel, m.channel]).toEqual(uninterrupted.slice(6));
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('names the file when load() gets something that is not a training checkpoint', async () => {
    const worker = new StepWorker();
    try {
      await expect(worker.load(Buffer.from('not a checkpoint'), 'runs/x/checkpoint.pth')).rejects.toThrow(/runs\/x\/checkpoint\.pth/);
    } finally {
      await worker.close();
    }
  });
});
