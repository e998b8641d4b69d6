/**
 * `sere demo --json` end to end on a tiny dataset and tiny flags: the last stdout line is
 * the JSON summary the README promises, the reports are written, and a demo folder left by
 * a run with other settings is moved aside rather than resumed or deleted.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthDataset } from '@sere/dataset';

jest.setTimeout(240_000);

const SERE = path.resolve(__dirname, '../../apps/cli/bin/sere.js');
const TINY = [
  '--epochs', '1', '--warmup_epochs', '1', '--warmup_teacher_temp_epochs', '1', '--batch_size_per_gpu', '8', '--global_size', '32',
  '--local_size', '16', '--out_dim', '64', '--head_hidden_dim', '64', '--head_bottleneck_dim', '32', '--threads', '1', '--data_workers', '1',
];

function demo(dir: string, data: string, extra: string[] = []) {
  const r = spawnSync(process.execPath, [SERE, 'demo', '--json', '--dir', dir, '--data', data, '--', ...TINY, ...extra], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sere demo', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-demo-'));
  const data = path.join(root, 'data');
  const dir = path.join(root, 'run');
  beforeAll(() => synthDataset(data, { classes: 3, perClass: 10, size: 48, seed: 1, style: 'even-motifs' }));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('ends with one JSON line: k-NN and linear probe, pretrained and random, and the seconds', () => {
    const r = demo(dir, data);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1); // with --json, stdout holds the summary alone
    const s = JSON.parse(lines[0]);
    for (const part of [s.knn.pretrained, s.knn.random, s.linear.pretrained, s.linear.random]) {
      expect(part).toEqual({ top1: expect.any(Number), top5: expect.any(Number) });
      expect(part.top1).toBeGreaterThanOrEqual(0);
      expect(part.top1).toBeLessThanOrEqual(part.top5);
      expect(part.top5).toBeLessThanOrEqual(100);
    }
    expect(s.seconds).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/pretraining vit_tiny for 1 epochs/);
    expect(r.stderr).toMatch(/scored on 6 held out of the training folder/); // 20 % of 10 per class
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'demo-report.json'), 'utf8'));
    expect(report.knn.pretrained).toEqual(s.knn.pretrained);
    expect(report.train.iterations).toBe(3); // 30 images, batch 8, drop_last
    const html = fs.readFileSync(path.join(dir, 'demo-report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain(s.knn.pretrained.top1.toFixed(1));
  });

  it('lets sere eval score the student of the demo checkpoint, and names a bad --checkpoint_key', () => {
    const args = ['eval', '--checkpoint', path.join(dir, 'checkpoint.pth'), '--arch', 'vit_tiny', '--size', '32', '--data_path', data, '--linear_epochs', '0', '--json'];
    const ok = spawnSync(process.execPath, [SERE, ...args, '--checkpoint_key', 'student'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    const report = JSON.parse(ok.stdout.trim().split('\n').pop()!);
    expect(report.checkpoint_key).toBe('student');
    expect(report.knn['20'].top1).toBeGreaterThanOrEqual(0);
    const bad = spawnSync(process.execPath, [SERE, ...args, '--checkpoint_key', 'ema'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--checkpoint_key: 'ema' is not one of teacher, student/);
  });

  it('pretrains on train/ only and scores the probes on val/ when the data folder has both', async () => {
    const split = path.join(root, 'split');
    await synthDataset(path.join(split, 'train'), { classes: 3, perClass: 10, size: 48, seed: 1, style: 'even-motifs' });
    await synthDataset(path.join(split, 'val'), { classes: 3, perClass: 4, size: 48, seed: 2, style: 'even-motifs' });
    const r = demo(path.join(root, 'split-run'), split);
    expect(r.code).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(root, 'split-run', 'demo-report.json'), 'utf8'));
    expect(report.train.iterations).toBe(3); // the 30 train/ pictures, not the 42 in all
    for (const side of [report.full.pretrained, report.full.random]) expect([side.n_train, side.n_val]).toEqual([30, 12]);
    expect(r.stderr).toContain(`scored on 12 in ${path.join(split, 'val')}`);
  });

  it('moves a demo folder with other settings aside instead of resuming it', () => {
    const r = demo(dir, data, ['--out_dim', '32']);
    expect(r.code).toBe(0);
    const aside = fs.readdirSync(root).filter((f) => f.startsWith('run.previous-'));
    expect(aside).toHaveLength(1);
    expect(r.stderr).toContain(`moved it to ${path.join(root, aside[0])}`);
    expect(fs.existsSync(path.join(root, aside[0], 'checkpoint.pth'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).out_dim).toBe(32);
  });
});
