/**
 * c10d through the binding, between real processes on loopback: the collectives' values,
 * the differentiable all-reduce's gradient, DDP's Reducer, and every way a group can fail
 * to form or break — each an error naming the operation and the rank, within the timeout.
 */
import { spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { hasCollectives } from './distributed';

jest.setTimeout(120_000);

const CHILD = path.join(__dirname, 'testing', 'collectives-child.ts');
const TSX = require.resolve('tsx/cli');

interface Result {
  ok: boolean;
  out?: Record<string, unknown>;
  error?: string;
  /** The error carried the binding's COLLECTIVE_ERROR_CODE. */
  collective?: boolean;
  ms?: number;
  code: number | null;
  wallMs: number;
}

function rankProcess(env: Record<string, string>): Promise<Result> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [TSX, CHILD], { env: { ...process.env, MASTER_ADDR: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.on('exit', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      let parsed: { ok: boolean } = { ok: false };
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = { ok: false, error: `no result (stdout: ${stdout})` } as never;
      }
      resolve({ ...parsed, code, wallMs: Date.now() - t0 });
    });
  });
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const group = async (worldSize: number, env: Record<string, string>, ranks = worldSize, sizes?: number[]) => {
  const port = String(await freePort());
  return Promise.all(Array.from({ length: ranks }, (_, r) => rankProcess({ RANK: String(r), WORLD_SIZE: String(sizes?.[r] ?? worldSize), MASTER_PORT: port, ...env })));
};

describe('c10d collectives (Gloo, 2 processes)', () => {
  it('is built into this addon', () => {
    expect(hasCollectives()).toBe(true);
  });

  it('all-reduces, broadcasts, gathers, differentiates an all-reduce, and averages gradients in the Reducer', async () => {
    const [r0, r1] = await group(2, { SERE_TEST_CASE: 'collectives' });
    for (const [rank, r] of [r0, r1].entries()) {
      expect(r).toMatchObject({ ok: true });
      expect(r.out).toEqual({
        sum: [3, 30],
        avg: [1.5],
        max: [1],
        broadcast: [8],
        gathered: [0, 2],
        allReduceSum: [3, 6],
        grad: [3 * (rank + 1), 3 * (rank + 1)],
        reducer: [[1.5, 1.5, 1.5], [3, 3, 3]],
      });
    }
  });

  it('turns a peer that dies into an error naming the operation and the rank, not a hang', async () => {
    const [r0, r1] = await group(2, { SERE_TEST_CASE: 'peer-dies', TIMEOUT: '10' });
    expect(r1.code).toBe(9);
    expect(r0.ok).toBe(false);
    expect(r0.error).toMatch(/^allReduce: all-reduce \(rank 0 of 2\) failed: /);
    expect(r0.collective).toBe(true);
    expect(r0.wallMs).toBeLessThan(15_000);
  });

  it('reports a rank that never arrives, naming it, after the timeout', async () => {
    const [r0] = await group(2, { TIMEOUT: '2' }, 1);
    expect(r0.ok).toBe(false);
    expect(r0.error).toMatch(/rendezvous \(rank 0 of 2\): rank 1 of 2 did not arrive within 2/);
    expect(r0.collective).toBe(true);
  });

  it('reports a master that cannot be reached', async () => {
    const port = String(await freePort());
    const r1 = await rankProcess({ RANK: '1', WORLD_SIZE: '2', MASTER_PORT: port, TIMEOUT: '2' });
    expect(r1.ok).toBe(false);
    expect(r1.error).toMatch(new RegExp(`rendezvous \\(rank 1\\): could not reach the master at 127\\.0\\.0\\.1:${port} within the timeout`));
    expect(r1.collective).toBe(true);
  });

  it('reports a master port that another program holds', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = String((srv.address() as net.AddressInfo).port);
    try {
      const r0 = await rankProcess({ RANK: '0', WORLD_SIZE: '2', MASTER_PORT: port, TIMEOUT: '2' });
      expect(r0.ok).toBe(false);
      expect(r0.error).toMatch(new RegExp(`rendezvous \\(rank 0\\): could not serve the store on 127\\.0\\.0\\.1:${port} \\(is --master_port taken by another job\\?\\)`));
    } finally {
      srv.close();
    }
  });

  it('refuses ranks that disagree on the world size, on both sides', async () => {
    const [r0, r1] = await group(2, { TIMEOUT: '5' }, 2, [2, 3]);
    expect(r1.error).toMatch(/world sizes disagree: rank 1 has WORLD_SIZE=3, rank 0 has WORLD_SIZE=2/);
    expect(r0.error).toMatch(/world sizes disagree: rank 1 has WORLD_SIZE=3, rank 0 has WORLD_SIZE=2/);
    expect([r0.collective, r1.collective]).toEqual([true, true]);
  });

  it('gives other errors no collective code', async () => {
    const r = await rankProcess({ RANK: '3', WORLD_SIZE: '2', MASTER_PORT: '1', TIMEOUT: '1' });
    expect(r.error).toMatch(/RANK must be in \[0, WORLD_SIZE\)/);
    expect(r.collective).toBe(false);
  });
});
