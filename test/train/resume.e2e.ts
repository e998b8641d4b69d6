/**
 * A run stopped part-way and started again gives the same losses as one that was not
 * stopped: real image folder, real worker-thread pipeline and step worker, real checkpoints.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseFlags } from '@sere/config';
import { synthDataset } from '@sere/dataset';
import { openStore } from '@sere/store';
import { runTraining } from '@sere/train';
import { TINY_FLAGS } from '../support/tiny-run';

const FLAGS = [...TINY_FLAGS, '--epochs', '2', '--saveckp_freq', '1'];

function losses(dir: string): number[] {
  return fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).loss);
}

describe('sere train: stop and resume', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-resume-'));
  const data = path.join(root, 'data');

  beforeAll(async () => {
    await synthDataset(data, { classes: 2, perClass: 6, size: 48, seed: 3 });
  });

  const train = async (out: string, extra: string[] = []) => {
    const config = parseFlags([...FLAGS, '--data_path', data, '--output_dir', out, ...extra]);
    return runTraining({ config, store: openStore(out), data: { kind: 'folder', path: data }, write: () => undefined });
  };

  it('continues from the checkpoint with identical losses', async () => {
    const straight = path.join(root, 'straight');
    const r = await train(straight);
    expect(r.iterations).toBe(6); // 12 images / batch 4 = 3 iterations per epoch, 2 epochs

    const stopped = path.join(root, 'stopped');
    const first = await train(stopped, ['--steps', '2']);
    expect(first.stoppedEarly).toBe(true);
    const second = await train(stopped);
    expect(second.iterations).toBe(4);

    expect(losses(stopped)).toEqual(losses(straight));
    // The epoch averages cover the iterations before the stop too.
    const epochLog = (dir: string) => fs.readFileSync(path.join(dir, 'log.txt'), 'utf8');
    expect(epochLog(stopped)).toBe(epochLog(straight));
    expect(fs.existsSync(path.join(stopped, 'checkpoint0001.pth'))).toBe(true);
    const log = fs.readFileSync(path.join(stopped, 'log.txt'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.map((e) => e.epoch)).toEqual([0, 1]);
    expect(Object.keys(log[0])).toEqual(expect.arrayContaining(['train_loss', 'train_lr', 'train_wd', 'epoch']));
  });
});
