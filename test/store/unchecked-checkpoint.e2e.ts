/**
 * `sere train` meeting a checkpoint without its checksum file in the output folder (copied
 * in from elsewhere): the refusal names the flag that accepts it, and that flag works.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthDataset } from '@sere/dataset';
import { runSere } from '../support/run-sere';
import { TINY_FLAGS } from '../support/tiny-run';

jest.setTimeout(180_000);

const sere = (args: string[]) => runSere(['train', ...TINY_FLAGS, '--saveckp_freq', '0', ...args]);

describe('a checkpoint without its checksum file', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-unchecked-'));
  const data = path.join(root, 'data');
  const out = path.join(root, 'run');
  beforeAll(async () => {
    await synthDataset(data, { classes: 2, perClass: 4, size: 48, seed: 5 });
    const r = sere(['--epochs', '1', '--data_path', data, '--output_dir', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    fs.rmSync(path.join(out, 'checkpoint.pth.sha256'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('is refused with the flag that accepts it, and that flag resumes from it', () => {
    const refused = sere(['--epochs', '2', '--data_path', data, '--output_dir', out]);
    expect(refused.code).toBe(65);
    expect(refused.stderr).toBe(
      `sere train: cannot verify ${path.join(out, 'checkpoint.pth')}: it has no checksum file checkpoint.pth.sha256, so it was not written by a checkpoint store; ` +
        'if you trust it, resume from it unchecked with --load_from checkpoint.pth\n',
    );

    const accepted = sere(['--epochs', '2', '--data_path', data, '--output_dir', out, '--load_from', 'checkpoint.pth']);
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toMatch(/resumed from .*checkpoint\.pth: epoch 2, iteration 1/);
  });
});
