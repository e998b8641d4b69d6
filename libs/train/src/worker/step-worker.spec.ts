/** The off-thread worker computes what the trainer computes in-thread, while the main event loop keeps running. */
import { tinyRun as inThread, tinySamples as samples, tinyTrainerFlags as smallFlags } from '@sere/sere/testing';
import { StepWorker } from './step-worker';

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

      expect(await second.load(file, 'checkpoint.pth')).toEqual({ epoch: 0, dataPosition, worldSize: 1 });
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
