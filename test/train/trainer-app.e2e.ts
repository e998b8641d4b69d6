/**
 * The trainer's entry point (apps/trainer, the training container's command) is `sere train`
 * under another name: the same help, the same refusals with the same exit codes, and the
 * same run from the same flags.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT } from '@sere/config';
import { synthDataset } from '@sere/dataset';
import { SERE, TINY_FLAGS, TRAINER } from '../support/tiny-run';

jest.setTimeout(240_000);

const TINY = [...TINY_FLAGS, '--epochs', '1', '--saveckp_freq', '0'];

function trainer(args: string[]) {
  const r = spawnSync(process.execPath, [...TRAINER, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const losses = (dir: string) =>
  fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => [JSON.parse(l).it, JSON.parse(l).loss]);

describe('apps/trainer', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-trainer-app-'));
  const data = path.join(root, 'data');
  beforeAll(() => synthDataset(data, { classes: 2, perClass: 4, size: 48, seed: 3 }));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('answers --help with every flag and the exit codes of a run', () => {
    const r = trainer(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: npm run trainer -- \[flags\]/);
    expect(r.stdout).toMatch(/--batch_size_per_gpu/);
    expect(r.stdout).toMatch(/exit codes:\n(.*\n)*  130 /);
  });

  it('refuses a bad flag with exit 2, naming it, and no stack trace', () => {
    const r = trainer([...TINY, '--epocs', '3', '--data_path', data]);
    expect(r.code).toBe(EXIT.refused);
    expect(r.stderr).toMatch(/^trainer: unknown flag --epocs; did you mean --epochs\?\n$/);
  });

  it('trains as sere train does from the same flags', () => {
    const mine = path.join(root, 'trainer');
    const cli = path.join(root, 'cli');
    const r = trainer([...TINY, '--data_path', data, '--output_dir', mine]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^trainer — resolved configuration/);
    expect(r.stdout).toMatch(/\ndone: 2 iterations/);
    expect(fs.existsSync(path.join(mine, 'checkpoint.pth'))).toBe(true);

    const s = spawnSync(process.execPath, [SERE, 'train', ...TINY, '--data_path', data, '--output_dir', cli], { encoding: 'utf8' });
    expect(s.status).toBe(0);
    expect(losses(mine)).toEqual(losses(cli));
  });
});
