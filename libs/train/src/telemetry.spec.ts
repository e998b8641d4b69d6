import { TrainerTelemetry } from './telemetry';

const metrics = { loss: 20, ibot: 10, ibotCls: 6, ibotPatch: 4, pixel: 5, channel: 5, teacherEntropy: 1.5, teacherBatchEntropy: 2.5, lr: 1e-4, wd: 0.04, momentum: 0.996, skipped: false };

describe('TrainerTelemetry', () => {
  it('serves the last iteration on GET /metrics (device memory where the worker reports it), and nothing else', async () => {
    const { telemetry, url } = await TrainerTelemetry.start({ run: 'r', rank: 1, worldSize: 2, host: '127.0.0.1', port: 0 });
    try {
      telemetry.step({ epoch: 0, iteration: 3, metrics, images: 4, waitSeconds: 0.5, stepSeconds: 1.5, liveTensors: 321, deviceMemory: { allocated: 1024, reserved: 4096 } });
      telemetry.checkpoint(2);
      const text = await (await fetch(url)).text();
      expect(text).toContain('sere_trainer_device_memory_bytes{kind="reserved",run="r",rank="1"} 4096');
      expect(text).toContain('sere_trainer_loss{term="ibot_patch",run="r",rank="1"} 4');
      // 4 images on each of 2 ranks in 2 s; a quarter of it waiting for data.
      expect(text).toContain('sere_trainer_images_per_second{run="r",rank="1"} 4');
      expect(text).toContain('sere_trainer_data_wait_ratio{run="r",rank="1"} 0.25');
      expect(text).toContain('sere_trainer_checkpoint_write_seconds_count{run="r",rank="1"} 1');
      expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
    } finally {
      await telemetry.close();
    }
  });
});
