/**
 * `sere train` killed with SIGKILL at arbitrary moments (start-up, mid-step, mid-write)
 * and started again, until it finishes: the result equals a run that was never killed —
 * the same per-iteration losses, the same epoch log, a checkpoint that loads.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthDataset } from '@sere/dataset';
import { SERE, TINY_FLAGS } from '../support/tiny-run';

jest.setTimeout(240_000);

const FLAGS = [...TINY_FLAGS, '--epochs', '3', '--saveckp_freq', '1'];

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stderr: string;
}

/** Runs `sere train`; with `killAfterMs`, sends SIGKILL then (if it is still running). */
function train(data: string, out: string, killAfterMs?: number): Promise<Outcome> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [SERE, 'train', ...FLAGS, '--data_path', data, '--output_dir', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const timer = killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - t0, stderr });
    }),
  );
}

const read = (dir: string, name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
const lossesByIt = (dir: string) => read(dir, 'metrics.jsonl').trim().split('\n').map((l) => [JSON.parse(l).it, JSON.parse(l).loss]);

/** A small seeded generator, so the kill moments are the same on every run of this test. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('sere train killed with SIGKILL and started again', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-kill-'));
  const data = path.join(root, 'data');

  beforeAll(async () => {
    await synthDataset(data, { classes: 2, perClass: 6, size: 48, seed: 3 });
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('ends with the losses, epoch log and checkpoint of an uninterrupted run', async () => {
    // Both runs use the same output folder, which the checkpoints record in their args.
    const killed = path.join(root, 'run');
    const straight = path.join(root, 'straight');
    const ref = await train(data, killed);
    expect(ref.stderr).toBe('');
    expect(ref.code).toBe(0);
    fs.renameSync(killed, straight);

    const rand = mulberry32(7);
    let kills = 0;
    for (let attempt = 0; attempt < 12; attempt++) {
      // Kill moments spread over start-up, steps and checkpoint writes (a resumed run has
      // less to do, so they stop short of the uninterrupted run's length); after six kills,
      // let it finish.
      const outcome = await train(data, killed, kills < 6 ? 300 + rand() * 0.7 * ref.ms : undefined);
      if (outcome.signal === 'SIGKILL') {
        kills++;
        continue;
      }
      // It finished before its kill moment: that is the end of the run.
      expect(outcome.stderr).toBe('');
      expect(outcome.code).toBe(0);
      break;
    }
    expect(kills).toBeGreaterThanOrEqual(3);

    expect(lossesByIt(killed)).toEqual(lossesByIt(straight));
    expect(read(killed, 'log.txt')).toBe(read(straight, 'log.txt'));
    const files = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.pth')).sort();
    expect(files(killed)).toEqual(['checkpoint.pth', 'checkpoint0001.pth', 'checkpoint0002.pth']);
    expect(files(straight)).toEqual(files(killed));
    const differing = files(killed).filter((f) => !fs.readFileSync(path.join(killed, f)).equals(fs.readFileSync(path.join(straight, f))));
    expect(differing).toEqual([]);
  });
});
