/**
 * `sere train` given bad input, as a user meets it: a process, its exit code and the one
 * message it prints. No stack traces, and what was already written stays as it was.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthDataset } from '@sere/dataset';
import { runSere, type SereRun } from '../support/run-sere';
import { TINY_FLAGS } from '../support/tiny-run';

jest.setTimeout(180_000);

const TINY = [...TINY_FLAGS, '--epochs', '2', '--saveckp_freq', '0'];

const sere = (args: string[], env: Record<string, string> = {}) => runSere(['train', ...args], env);

/** One line on stderr that says what is wrong, and no stack trace. */
function expectMessage(r: SereRun, code: number, ...patterns: RegExp[]): void {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: expect.stringMatching(/^sere train: .+\n$/) });
  for (const p of patterns) expect(r.stderr).toMatch(p);
  expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

const sha = (file: string) => require('node:crypto').createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('sere train on bad input', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-cli-errors-'));
  const data = path.join(root, 'data');
  const good = path.join(root, 'good');

  beforeAll(async () => {
    await synthDataset(data, { classes: 2, perClass: 4, size: 48, seed: 5 });
    const r = sere([...TINY, '--data_path', data, '--output_dir', good]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const out = (name: string) => path.join(root, name);

  it('names an unknown flag and suggests the closest one', () => {
    expectMessage(sere([...TINY, '--epocs', '3', '--data_path', data]), 2, /unknown flag --epocs; did you mean --epochs\?/);
  });

  it('names a flag with a bad value and what it expects', () => {
    expectMessage(sere([...TINY, '--epochs', 'abc', '--data_path', data]), 2, /--epochs: 'abc' is not an integer/);
    expectMessage(sere([...TINY, '--precision', 'fp8', '--data_path', data]), 2, /--precision/, /fp16/);
  });

  it('names a missing or empty data folder', () => {
    expectMessage(sere([...TINY, '--data_path', out('nowhere'), '--output_dir', out('o1')]), 2, /nowhere does not exist/);
    fs.mkdirSync(out('empty'));
    expectMessage(sere([...TINY, '--data_path', out('empty'), '--output_dir', out('o1')]), 2, /empty has no class folders/);
  });

  it('refuses a truncated checkpoint in the output folder and leaves it untouched', () => {
    const dir = out('truncated');
    fs.mkdirSync(dir);
    const full = fs.readFileSync(path.join(good, 'checkpoint.pth'));
    fs.writeFileSync(path.join(dir, 'checkpoint.pth'), full.subarray(0, full.length >> 1));
    fs.copyFileSync(path.join(good, 'checkpoint.pth.sha256'), path.join(dir, 'checkpoint.pth.sha256'));
    const before = sha(path.join(dir, 'checkpoint.pth'));
    expectMessage(sere([...TINY, '--data_path', data, '--output_dir', dir]), 65, /checkpoint\.pth is damaged or truncated/);
    expect(sha(path.join(dir, 'checkpoint.pth'))).toBe(before);
  });

  it('refuses a truncated --load_from file (no checksum beside it)', () => {
    const file = out('half.pth');
    const full = fs.readFileSync(path.join(good, 'checkpoint.pth'));
    fs.writeFileSync(file, full.subarray(0, full.length >> 1));
    expectMessage(sere([...TINY, '--data_path', data, '--output_dir', out('o2'), '--load_from', file]), 2, /half\.pth: .*truncated/);
  });

  it('names the first tensor of a checkpoint from another architecture', () => {
    const ckpt = path.join(good, 'checkpoint.pth');
    expectMessage(
      sere([...TINY, '--arch', 'vit_small', '--data_path', data, '--output_dir', out('o3'), '--load_from', ckpt]),
      2,
      /cls_token has shape \[1,1,192\] but the model expects \[1,1,384\]/,
      /another architecture/,
    );
  });

  it('says which S3 endpoint did not answer, after its retries', () => {
    const r = sere([...TINY, '--data_path', data, '--store', 's3://sere-missing/run'], {
      SERE_S3_ENDPOINT: 'http://127.0.0.1:9',
      SERE_S3_ACCESS_KEY: 'x',
      SERE_S3_SECRET_KEY: 'y',
    });
    expectMessage(r, 69, /s3:\/\/sere-missing\/run\/.* S3 endpoint http:\/\/127\.0\.0\.1:9 did not answer/, /ECONNREFUSED/);
  });

  describe('on a disk that fills up (a real tmpfs, needs root as in CI)', () => {
    const mnt = out('small-disk');
    let mounted = false;
    beforeAll(() => {
      fs.mkdirSync(mnt);
      // Room for one checkpoint (plus the logs), not for the temporary copy of the next.
      const size = fs.statSync(path.join(good, 'checkpoint.pth')).size;
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil((size * 1.5) / 4096) * 4096}`, 'tmpfs', mnt], { stdio: 'pipe' });
        mounted = true;
      } catch (e) {
        throw new Error(`this test needs to mount a small tmpfs at ${mnt} (run as root, as CI does): ${(e as Error).message}`);
      }
    });
    afterAll(() => {
      if (mounted) execFileSync('umount', [mnt]);
    });

    it('stops with "disk full", keeps the last checkpoint, and continues once there is room', () => {
      const dir = path.join(mnt, 'run');
      const r = sere([...TINY, '--data_path', data, '--output_dir', dir]);
      expectMessage(r, 73, /disk full \(ENOSPC\)/, /checkpoint\.pth/);
      // The first epoch's checkpoint survived the failed write of the second.
      expect(r.stdout).toMatch(/epoch 2\/2/);
      const moved = out('roomy');
      fs.cpSync(dir, moved, { recursive: true });
      const again = sere([...TINY, '--data_path', data, '--output_dir', moved]);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/resumed from .*checkpoint\.pth: epoch 2, iteration 1/);
      expect(fs.readFileSync(path.join(moved, 'log.txt'), 'utf8')).toBe(fs.readFileSync(path.join(good, 'log.txt'), 'utf8'));
    });
  });
});
