/**
 * The eval service end to end on a run's folder: started before a small `sere train`, it
 * evaluates every checkpoint the run writes while it trains; its k-NN figure for a
 * checkpoint equals `sere eval`'s; restarted, it evaluates nothing again; a truncated
 * checkpoint dropped into the folder is reported and skipped, not retried, and the service
 * keeps serving. The HTTP routes answer as documented, the state-changing one only with the token.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthDataset } from '@sere/dataset';
import { S3Store } from '@sere/store';
import { ACCESS_KEY, emptyBucket, ensureS3, rawClient, S3_PORT, SECRET_KEY, type S3Server } from '../store/s3-harness';
import { renderedDom, screenshot } from '../support/chromium';
import { EVAL_SERVICE, startServiceProcess, type ServiceProcess } from '../support/service-process';
import { SERE, TINY_FLAGS } from '../support/tiny-run';

jest.setTimeout(300_000);

const TOKEN = 'e2e-secret';
const EVAL_FLAGS = ['--arch', 'vit_tiny', '--size', '32', '--linear_epochs', '2'];

type Service = ServiceProcess & { port: number };

function startService(store: string, data: string, env: NodeJS.ProcessEnv = {}): Promise<Service> {
  const args = ['--store', store, '--data_path', data, ...EVAL_FLAGS, '--interval', '1', '--port', '0'];
  return startServiceProcess(EVAL_SERVICE, args, /"msg":"listening".*"port":(\d+)/, { ...env, SERE_EVAL_TOKEN: TOKEN }).then((p) => ({ ...p, port: Number(p.match[1]) }));
}

const stopService = (s: Service) => s.stop();

const get = async (s: Service, route: string, init?: RequestInit) => {
  const url = `http://127.0.0.1:${s.port}${route}`;
  // Once more on a closed socket: a keep-alive connection can expire while a spawnSync blocks this process.
  const r = await fetch(url, init).catch(() => fetch(url, init));
  return { status: r.status, body: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text() };
};

async function until<T>(what: string, probe: () => Promise<T | null>, log?: () => string, ms = 120_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}${log ? `; the service's log:\n${log()}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Index {
  evals: { file: string; epoch: number; knn: Record<string, { top1: number }>; linear: { top1: number } | null }[];
  failed: { file: string; kind: string; error: string }[];
}

describe('eval service on a run folder', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-eval-service-'));
  const data = path.join(root, 'data');
  const run = path.join(root, 'run');
  const services: Service[] = [];
  beforeAll(() => synthDataset(data, { classes: 2, perClass: 8, size: 48, seed: 4 }));
  afterAll(async () => {
    for (const s of services) await stopService(s);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('evaluates every checkpoint while the run trains, as sere eval does, once, skipping a truncated one', async () => {
    fs.mkdirSync(run);
    const first = await startService(run, data);
    services.push(first);
    expect((await get(first, '/health')).status).toBe(200);

    const train = spawnSync(process.execPath, [SERE, 'train', ...TINY_FLAGS, '--epochs', '3', '--saveckp_freq', '1', '--data_path', data, '--output_dir', run], { encoding: 'utf8' });
    expect({ code: train.status, stderr: train.stderr }).toEqual({ code: 0, stderr: '' });
    const written = fs.readdirSync(run).filter((f) => /^checkpoint\d*\.pth$/.test(f)).sort();
    expect(written).toEqual(['checkpoint.pth', 'checkpoint0001.pth', 'checkpoint0002.pth']);

    const index = await until('every checkpoint evaluated', async () => {
      const r = await get(first, `/runs/run/evals`);
      const files = [...new Set((r.body as Index).evals.map((e) => e.file))].sort();
      return files.join() === written.join() && (r.body as Index).evals.some((e) => e.file === 'checkpoint.pth' && e.epoch === 3) ? (r.body as Index) : null;
    }, first.log);
    // checkpoint.pth is evaluated as it moves on (each epoch it was seen at); the numbered
    // copies hold bytes it held, evaluated once under either name.
    expect(index.evals.map((e) => [e.file, e.epoch])).toEqual(expect.arrayContaining([['checkpoint0001.pth', 2], ['checkpoint0002.pth', 3], ['checkpoint.pth', 3]]));
    const versions = new Set(index.evals.map((e) => (e as unknown as { version: string }).version));
    // The index on disk follows the one served (it is written after each result).
    const onDisk = await until('eval/index.json written', async () => {
      const saved = JSON.parse(fs.readFileSync(path.join(run, 'eval', 'index.json'), 'utf8')) as Index;
      return saved.evals.length === index.evals.length ? saved : null;
    });
    expect(onDisk.evals).toEqual(index.evals);
    const result = JSON.parse(fs.readFileSync(path.join(run, 'eval', 'checkpoint0001.pth.json'), 'utf8'));
    expect(result).toMatchObject({ checkpoint: path.join(run, 'checkpoint0001.pth'), checkpoint_key: 'teacher', arch: 'vit_tiny', epoch: 2 });

    // The same figures from the one-shot command.
    const once = spawnSync(process.execPath, [SERE, 'eval', '--checkpoint', path.join(run, 'checkpoint0001.pth'), '--data_path', data, '--arch', 'vit_tiny', '--size', '32', '--linear_epochs', '2', '--json'], { encoding: 'utf8', cwd: root });
    expect(once.status).toBe(0);
    const cli = JSON.parse(once.stdout.trim().split('\n').pop()!);
    const mine = index.evals.find((e) => e.file === 'checkpoint0001.pth')!;
    expect(mine.knn).toEqual(cli.knn);
    expect(mine.linear!.top1).toBe(cli.linear.top1);

    const metrics = (await get(first, '/metrics')).body as string;
    expect(metrics).toContain(`sere_eval_knn_top1{run="run",epoch="2",k="10"} ${mine.knn['10'].top1}`);
    expect(metrics).toMatch(/sere_eval_last_epoch\{run="run"\} 3/);
    expect(metrics).toContain(`sere_eval_duration_seconds_count ${versions.size}`);
    expect(metrics).toContain('sere_eval_queue_length 0');

    // The report page in a real browser: three plots drawn, the table's figures those of the index.
    const report = `http://127.0.0.1:${first.port}/runs/run/report`;
    const dom = await renderedDom(report);
    const figures = [...dom.matchAll(/<figure id="(\w+)">([\s\S]*?)<\/figure>/g)];
    expect(figures.map((f) => f[1])).toEqual(['accuracy', 'losses', 'entropy', 'speed']);
    for (const [, , svg] of figures) expect([...svg.matchAll(/<path[^>]* d="M[^"]{20,}"/g)].length).toBeGreaterThan(0);
    const byEpoch = new Map(index.evals.map((e) => [e.epoch, e]));
    const rows = [...dom.matchAll(/<tr data-epoch="(\d+)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((r) => Number(r[1]))).toEqual([...byEpoch.keys()].sort((a, b) => a - b));
    for (const [, epoch, cells] of rows) {
      const e = byEpoch.get(Number(epoch))!;
      for (const [, k, v] of cells.matchAll(/<td class="knn" data-k="(\d+)">([^<]*)<\/td>/g)) expect(v).toBe(e.knn[k].top1.toFixed(2));
      expect(/<td class="linear">([^<]*)<\/td>/.exec(cells)![1]).toBe(e.linear!.top1.toFixed(2));
    }
    expect(dom).toContain('<td>arch</td><td>vit_tiny</td>');
    const shots = path.resolve(__dirname, '../../test-output/eval-service');
    fs.mkdirSync(shots, { recursive: true });
    await screenshot(report, path.join(shots, 'report.png'));
    expect(fs.statSync(path.join(shots, 'report.png')).size).toBeGreaterThan(10_000);

    // Restarted: nothing is evaluated again.
    await stopService(first);
    const second = await startService(run, data);
    services.push(second);
    await until('a listing', async () => ((await get(second, '/ready')).status === 200 ? true : null));
    await new Promise((r) => setTimeout(r, 2500));
    expect(second.log()).not.toMatch(/"msg":"evaluating"/);
    expect(((await get(second, '/runs')).body as { evaluated: number }[])[0].evaluated).toBe(index.evals.length);

    // A truncated checkpoint copied in by hand: reported, skipped, and not retried.
    const bytes = fs.readFileSync(path.join(run, 'checkpoint0002.pth'));
    fs.writeFileSync(path.join(run, 'checkpoint0004.pth'), bytes.subarray(0, bytes.length >> 1));
    const failed = await until('the truncated checkpoint reported', async () => {
      const f = ((await get(second, '/runs/run/evals')).body as Index).failed;
      return f.length > 0 ? f : null;
    });
    expect(failed).toEqual([expect.objectContaining({ file: 'checkpoint0004.pth', kind: 'checkpoint' })]);
    await new Promise((r) => setTimeout(r, 2500));
    expect(second.log().match(/"msg":"checkpoint skipped"/g)).toHaveLength(1);
    expect((await get(second, '/metrics')).body).toMatch(/sere_eval_failures_total\{kind="checkpoint"\} 1/);

    // Routes: a run that is not here, and the token guarding the one that changes state.
    expect((await get(second, '/runs/other/evals')).status).toBe(404);
    expect((await get(second, '/runs/run/scan', { method: 'POST' })).status).toBe(401);
    expect((await get(second, '/runs/run/scan', { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect(await get(second, '/runs/run/scan', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).toEqual({ status: 200, body: { scanned: true } });
  });

  it('refuses a bad flag with its name, before anything starts', () => {
    const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), EVAL_SERVICE, '--store', run, '--data_path', data, '--k', 'ten'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^eval-service: --k \/ SERE_EVAL_K must be positive integers separated by commas, got 'ten'\n$/);
  });
});

describe('eval service on a run bucket', () => {
  const BUCKET = 'sere-eval-service';
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-eval-s3-'));
  const data = path.join(root, 'data');
  let s3: S3Server;
  let service: Service | null = null;
  const env = () => ({ SERE_S3_ENDPOINT: s3.endpoint, SERE_S3_ACCESS_KEY: ACCESS_KEY, SERE_S3_SECRET_KEY: SECRET_KEY });
  beforeAll(async () => {
    s3 = await ensureS3(S3_PORT);
    await synthDataset(data, { classes: 2, perClass: 8, size: 48, seed: 4 });
  }, 900_000);
  afterAll(async () => {
    if (service) await stopService(service);
    if (s3) {
      await emptyBucket(rawClient(s3.port), BUCKET);
      await s3.release();
    }
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('evaluates the checkpoints a run writes to S3 and skips a truncated object dropped into the bucket', async () => {
    const url = `s3://${BUCKET}/run`;
    service = await startService(url, data, env());
    const train = spawnSync(process.execPath, [SERE, 'train', ...TINY_FLAGS, '--epochs', '2', '--saveckp_freq', '1', '--data_path', data, '--store', url], { encoding: 'utf8', env: { ...process.env, ...env() } });
    expect({ code: train.status, stderr: train.stderr }).toEqual({ code: 0, stderr: '' });
    const s = service;
    await until('the last epoch evaluated', async () => {
      const i = (await get(s, '/runs/run/evals')).body as Index;
      return i.evals.some((e) => e.file === 'checkpoint.pth' && e.epoch === 2) ? i : null;
    }, s.log);
    const store = new S3Store({ bucket: BUCKET, prefix: 'run', endpoint: s3.endpoint, accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    const stored = JSON.parse((await store.get('eval/index.json')).toString()) as Index;
    expect(stored.evals.map((e) => [e.file, e.epoch])).toEqual(expect.arrayContaining([['checkpoint.pth', 2]]));
    expect(JSON.parse((await store.get('eval/checkpoint.pth.json')).toString())).toMatchObject({ checkpoint: `${url}/checkpoint.pth`, epoch: 2 });

    // A truncated upload by another tool (no checksum metadata): reported and skipped.
    const bytes = await store.get('checkpoint.pth');
    const half = bytes.subarray(0, bytes.length >> 1);
    await rawClient(s3.port).putObject(BUCKET, 'run/checkpoint0007.pth', half, half.length);
    const failed = await until('the truncated object reported', async () => {
      const f = ((await get(s, '/runs/run/evals')).body as Index).failed;
      return f.length > 0 ? f : null;
    }, s.log);
    expect(failed).toEqual([expect.objectContaining({ file: 'checkpoint0007.pth', kind: 'checkpoint' })]);
    expect((await get(s, '/ready')).status).toBe(200);
  });
});
