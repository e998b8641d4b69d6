/**
 * `sere train` and `sere eval` on an S3 store (the real server of scripts/s3/s3.sh), as a
 * user runs them: what they leave behind on the machine.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthDataset } from '@sere/dataset';
import { S3Store } from '@sere/store';
import { SERE, TINY_FLAGS } from '../support/tiny-run';
import { ACCESS_KEY, emptyBucket, ensureS3, rawClient, S3_PORT, SECRET_KEY, type S3Server } from './s3-harness';

jest.setTimeout(300_000);

const RUN = `${Date.now().toString(36)}-${process.pid}`;
const BUCKET = `sere-run-${RUN}`;

describe('sere on an S3 store', () => {
  let s3: S3Server;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-s3-run-'));
  const data = path.join(root, 'data');
  // The children's temporary folder (TMPDIR), so what they leave there can be seen.
  const tmp = path.join(root, 'tmp');
  const env = () => ({ ...process.env, SERE_S3_ENDPOINT: s3.endpoint, SERE_S3_ACCESS_KEY: ACCESS_KEY, SERE_S3_SECRET_KEY: SECRET_KEY, TMPDIR: tmp });
  const sere = (args: string[]) => {
    const r = spawnSync(process.execPath, [SERE, ...args], { encoding: 'utf8', cwd: root, env: env() });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const train = (epochs: number) =>
    sere(['train', ...TINY_FLAGS, '--epochs', String(epochs), '--saveckp_freq', '0', '--data_path', data, '--store', `s3://${BUCKET}/run`]);
  const store = () => new S3Store({ bucket: BUCKET, prefix: 'run', endpoint: s3.endpoint, accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
  const downloads = () => fs.readdirSync(tmp).filter((f) => f.startsWith('sere-ckpt-'));

  beforeAll(async () => {
    s3 = await ensureS3(S3_PORT);
    fs.mkdirSync(tmp);
    await synthDataset(data, { classes: 2, perClass: 4, size: 48, seed: 5 });
    const r = train(1);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 1_260_000);
  afterAll(async () => {
    fs.rmSync(root, { recursive: true, force: true });
    if (s3) await emptyBucket(rawClient(s3.port), BUCKET);
    await s3?.release();
  });

  const evalArgs = (...extra: string[]) => ['eval', '--checkpoint', `s3://${BUCKET}/run/checkpoint.pth`, '--data_path', data, '--arch', 'vit_tiny', '--size', '32', '--linear_epochs', '0', '--json', ...extra];

  it('sere eval removes its download of the checkpoint, after a result and after an error', () => {
    const ok = sere(evalArgs());
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout.trim()).knn).toBeDefined();
    expect(downloads()).toEqual([]);

    const wrongArch = sere(evalArgs('--arch', 'vit_small'));
    expect(wrongArch.code).not.toBe(0);
    expect(wrongArch.stderr).toMatch(/checkpoint\.pth/);
    expect(downloads()).toEqual([]);
  });

  it("sere train resumed on S3 continues its logs: every iteration's metrics once, in order", async () => {
    const first = (await store().readLog('metrics.jsonl'))!.toString().trim().split('\n');
    expect(first.length).toBeGreaterThan(0);
    const r = train(2);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/resumed from s3:\/\/.*checkpoint\.pth: epoch 2, iteration 1/);
    const its = (await store().readLog('metrics.jsonl'))!.toString().trim().split('\n').map((l) => JSON.parse(l).it);
    expect(its).toEqual([...Array(first.length * 2).keys()]);
    expect((await store().readLog('log.txt'))!.toString().trim().split('\n').map((l) => JSON.parse(l).epoch)).toEqual([0, 1]);
  });
});
