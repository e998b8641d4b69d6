/**
 * Bad input to `sere`, as a user meets it: the exit code of the one table (2 for input the
 * command refuses) and one message naming the flag and the path, never an errno or a stack
 * trace. Covers the output folder, checkpoints that are not there, the fixture folder and a
 * dataset too small for one batch; test/train/cli-errors.e2e.ts covers the training flags.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT } from '@sere/config';
import { synthDataset } from '@sere/dataset';
import { ACCESS_KEY, ensureS3, S3_PORT, SECRET_KEY, type S3Server } from '../store/s3-harness';
import { runSere as sere, type SereRun } from '../support/run-sere';
import { TINY_FLAGS } from '../support/tiny-run';

jest.setTimeout(180_000);

const TINY = [...TINY_FLAGS, '--epochs', '1', '--saveckp_freq', '0'];

/** Exit `code` and one line on stderr, `sere <command>: ...`, matching every pattern. */
function expectRefused(r: SereRun, command: string, ...patterns: RegExp[]): void {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: EXIT.refused, stderr: expect.stringMatching(new RegExp(`^sere ${command}: [^\\n]+\\n$`)) });
  for (const p of patterns) expect(r.stderr).toMatch(p);
  expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .+:\d+:\d+|EEXIST|ENOTDIR|ENOENT|SERE_DEBUG/);
}

const re = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

describe('sere on bad input', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-bad-input-'));
  const data = path.join(root, 'data');
  const file = path.join(root, 'a-file');
  beforeAll(async () => {
    await synthDataset(data, { classes: 2, perClass: 4, size: 48, seed: 3 });
    fs.writeFileSync(file, 'not a folder\n');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  describe('an output folder that is a file', () => {
    it('sere train --output_dir FILE names the flag and the file', () => {
      expectRefused(sere(['train', ...TINY, '--data_path', data, '--output_dir', file]), 'train', re(`--output_dir ${file}: ${file} is a file, not a folder`));
      expect(fs.readFileSync(file, 'utf8')).toBe('not a folder\n');
    });

    it('sere train --output_dir FILE/sub names the file on the way', () => {
      const under = path.join(file, 'run');
      expectRefused(sere(['train', ...TINY, '--data_path', data, '--output_dir', under]), 'train', re(`--output_dir ${under}: ${file} is a file, not a folder`));
    });

    it('sere train --store FILE names --store', () => {
      expectRefused(sere(['train', ...TINY, '--data_path', data, '--store', file]), 'train', re(`--store ${file}: ${file} is a file`));
    });

    it('sere demo --dir FILE names --dir', () => {
      expectRefused(sere(['demo', '--dir', file, '--data', data, '--', ...TINY]), 'demo', re(`--dir ${file}: ${file} is a file`));
    });
  });

  describe('a checkpoint that is not there', () => {
    it('sere train --load_from NAME (inside --output_dir) says where it looked', () => {
      const out = path.join(root, 'run-load-name');
      expectRefused(sere(['train', ...TINY, '--data_path', data, '--output_dir', out, '--load_from', 'missing.pth']), 'train', re(`--load_from missing.pth: no such checkpoint (looked for ${path.join(out, 'missing.pth')}`));
    });

    it('sere train --load_from PATH', () => {
      const missing = path.join(root, 'nowhere', 'missing.pth');
      expectRefused(sere(['train', ...TINY, '--data_path', data, '--output_dir', path.join(root, 'run-load-path'), '--load_from', missing]), 'train', re(`--load_from ${missing}: no such file`));
    });

    it('sere eval --checkpoint FILE', () => {
      const missing = path.join(root, 'missing.pth');
      expectRefused(sere(['eval', '--checkpoint', missing, '--data_path', data, '--arch', 'vit_tiny', '--size', '32']), 'eval', re(`--checkpoint ${missing}: no such file`));
    });

    it('sere eval --checkpoint FOLDER', () => {
      expectRefused(sere(['eval', '--checkpoint', root, '--data_path', data, '--arch', 'vit_tiny', '--size', '32']), 'eval', re(`--checkpoint ${root}: is a folder, not a checkpoint file`));
    });

    describe('on S3 (the real server, see test/store/s3-harness.ts)', () => {
      let s3: S3Server;
      beforeAll(async () => {
        s3 = await ensureS3(S3_PORT);
      });
      afterAll(() => s3?.release());

      it('sere eval --checkpoint s3://BUCKET/KEY', () => {
        const url = `s3://sere-bad-input-${process.pid}/runs/missing.pth`;
        const env = { SERE_S3_ENDPOINT: s3.endpoint, SERE_S3_ACCESS_KEY: ACCESS_KEY, SERE_S3_SECRET_KEY: SECRET_KEY };
        expectRefused(sere(['eval', '--checkpoint', url, '--data_path', data, '--arch', 'vit_tiny', '--size', '32'], env), 'eval', re(`--checkpoint ${url}: no such object`));
      });
    });
  });

  describe('a fixture folder without fixtures', () => {
    it('sere verify-fixtures MISSING', () => {
      const missing = path.join(root, 'no-fixtures');
      expectRefused(sere(['verify-fixtures', missing]), 'verify-fixtures', re(`fixture folder '${missing}' does not exist`));
    });

    it('sere verify-fixtures EMPTY', () => {
      expectRefused(sere(['verify-fixtures', data]), 'verify-fixtures', re(`fixture folder '${data}' holds none of vit_forward.json`));
    });
  });

  it('sere train on fewer images than one batch names --data_path and --batch_size_per_gpu', async () => {
    const few = path.join(root, 'few');
    await synthDataset(few, { classes: 2, perClass: 1, size: 48, seed: 3 });
    expectRefused(sere(['train', ...TINY, '--data_path', few, '--output_dir', path.join(root, 'run-few')]), 'train', re(`--data_path ${few}: 2 images is fewer than one batch of --batch_size_per_gpu 4`));
  });

  it('a flag refused on the training thread keeps its exit code across the thread', () => {
    expectRefused(sere(['train', ...TINY, '--data_path', data, '--output_dir', path.join(root, 'run-sgd'), '--optimizer', 'sgd']), 'train', /--optimizer: 'sgd' is not implemented/);
  });
});
