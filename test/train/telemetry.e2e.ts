/**
 * `sere train --metrics_port 0`: the trainer serves Prometheus metrics while it trains.
 * Scraped mid-run and at the end, the series are there with sane values and the iteration
 * counter rises; a taken port is refused naming the flag.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT } from '@sere/config';
import { synthDataset } from '@sere/dataset';
import { SERE, TINY_FLAGS } from '../support/tiny-run';

jest.setTimeout(240_000);

/** The value of one series in Prometheus' text format (NaN when absent). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : Number.NaN;
}

describe('sere train --metrics_port', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-telemetry-'));
  const data = path.join(root, 'data');
  beforeAll(() => synthDataset(data, { classes: 2, perClass: 8, size: 48, seed: 6 }));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('serves the run\'s metrics while it trains, the iteration counter rising', async () => {
    const out = path.join(root, 'run-a');
    const p = spawn(process.execPath, [SERE, 'train', ...TINY_FLAGS, '--epochs', '6', '--data_path', data, '--output_dir', out, '--metrics_port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => p.on('exit', r));
    const scrapes: string[] = [];
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      const url = /^metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m.exec(stdout)?.[1];
      if (url) {
        const text = await fetch(url).then((r) => r.text(), () => null);
        if (text && value(text, 'sere_trainer_iterations_total{run="run-a",rank="0"}') > 0) scrapes.push(text);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    expect({ code: await exited, stderr }).toEqual({ code: 0, stderr: '' });
    expect(scrapes.length).toBeGreaterThanOrEqual(2);
    const first = scrapes[0];
    const last = scrapes[scrapes.length - 1];
    const its = (t: string) => value(t, 'sere_trainer_iterations_total{run="run-a",rank="0"}');
    expect(its(last)).toBeGreaterThan(its(first));
    expect(its(last)).toBeLessThanOrEqual(24);
    const loss = value(last, 'sere_trainer_loss{term="total",run="run-a",rank="0"}');
    const logged = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss as number);
    expect(logged).toContain(loss);
    expect(value(last, 'sere_trainer_learning_rate{run="run-a",rank="0"}')).toBeGreaterThanOrEqual(0);
    expect(value(last, 'sere_trainer_teacher_entropy_nats{of="batch",run="run-a",rank="0"}')).toBeGreaterThan(0);
    expect(value(last, 'sere_trainer_images_per_second{run="run-a",rank="0"}')).toBeGreaterThan(0);
    const share = value(last, 'sere_trainer_data_wait_ratio{run="run-a",rank="0"}');
    expect(share).toBeGreaterThanOrEqual(0);
    expect(share).toBeLessThan(1);
    expect(value(last, 'sere_trainer_live_tensors{run="run-a",rank="0"}')).toBeGreaterThan(0);
    expect(last).toMatch(/^sere_trainer_step_seconds_count\{run="run-a",rank="0"\} \d+$/m);
    expect(last).toMatch(/^sere_trainer_world_size\{run="run-a",rank="0"\} 1$/m);
  });

  it('refuses a port another program holds, naming the flag', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const r = spawnSync(process.execPath, [SERE, 'train', ...TINY_FLAGS, '--epochs', '1', '--data_path', data, '--output_dir', path.join(root, 'run-b'), '--metrics_port', String(port)], { encoding: 'utf8' });
      expect(r.status).toBe(EXIT.refused);
      expect(r.stderr).toMatch(new RegExp(`--metrics_port ${port}: cannot serve metrics on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
    } finally {
      srv.close();
    }
  });
});
