import { parseFlags } from '@sere/config';
import * as T from '@sere/torch';
import { toObjectiveBatch } from '../batch';
import { syntheticSamples } from '../testing/synthetic';
import { SereTrainer, TrainerFlags } from '../trainer';
import { restoreTrainingState, resumePosition, trainingState } from './training-state';

const flags: TrainerFlags = {
  ...parseFlags([
    '--arch', 'vit_tiny', '--batch_size_per_gpu', '2', '--local_crops_number', '2', '--out_dim', '32', '--epochs', '2',
    '--warmup_epochs', '1', '--warmup_teacher_temp_epochs', '1', '--clip_grad', '0.3', '--threads', '2',
  ]),
  arch_spec: { name: 'test', embedDim: 24, depth: 2, numHeads: 2, mlpRatio: 4 },
  head_hidden_dim: 32,
  head_bottleneck_dim: 16,
};

const batch = (i: number) =>
  syntheticSamples({
    batch: 2, localCrops: 2, globalSize: 64, localSize: 32, patchSize: 16, overlapSize: [5, 5],
    globalScale: [0.4, 1], localScale: [0.05, 0.4], predRatio: [0.3], predRatioVar: [0], seed: i,
  });

const step = (t: SereTrainer, i: number) => T.scope(() => t.step(toObjectiveBatch(batch(i), 'cpu'), i, 0)).loss;

describe('training state checkpoints', () => {
  const liveAtStart = T.liveTensors();
  afterAll(() => expect(T.liveTensors()).toBe(liveAtStart));

  it('resumes exactly: stop after 2 steps, restore into a new trainer, same losses as an uninterrupted run', () => {
    const straight = new SereTrainer(flags, 10);
    const uninterrupted = [0, 1, 2, 3].map((i) => step(straight, i));
    straight.dispose();

    const first = new SereTrainer(flags, 10);
    step(first, 0);
    step(first, 1);
    // A stream position as the Kafka source saves it: nested dicts and a list of them.
    const dataPosition = { epoch: 0, step: 2, source: { topic: 'job.rank0', images_per_epoch: 12, partitions: [{ partition: 0, offset: 7, metadata: '{"v":1}' }] } };
    const live = T.liveTensors();
    const file = T.writePth(trainingState(first, { epoch: 0, iteration: 2, dataPosition, args: { arch: 'vit_tiny' } }));
    expect(T.liveTensors()).toBe(live); // saving a checkpoint leaves no tensor behind
    first.dispose();
    const parsed = T.readPth(file, 'checkpoint.pth');
    expect(resumePosition(parsed, 'checkpoint.pth')).toEqual({ epoch: 0, dataPosition, worldSize: 1 });

    const second = new SereTrainer({ ...flags, seed: 99 }, 10); // different init: everything must come from the file
    const info = restoreTrainingState(second, parsed, 'checkpoint.pth');
    expect(info.iteration).toBe(2);
    expect(info.dataPosition).toEqual(dataPosition);
    const resumed = [2, 3].map((i) => step(second, i));
    second.dispose();
    expect(resumed).toEqual(uninterrupted.slice(2));
  });

  it('refuses a checkpoint of another architecture, naming the file and the tensor', () => {
    const a = new SereTrainer(flags, 10);
    const file = T.writePth(trainingState(a, { epoch: 1, iteration: 10, dataPosition: null, args: {} }));
    a.dispose();
    const b = new SereTrainer({ ...flags, arch_spec: { name: 'wide', embedDim: 32, depth: 2, numHeads: 2, mlpRatio: 4 } }, 10);
    expect(() => restoreTrainingState(b, T.readPth(file, 'ckpt.pth'), 'ckpt.pth')).toThrow(/ckpt\.pth: student\.backbone\.cls_token has shape \[1,1,24\] but the model expects \[1,1,32\]/);
    b.dispose();
  });
});
