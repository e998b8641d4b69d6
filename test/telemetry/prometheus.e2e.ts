/**
 * A real Prometheus (Debian's package, installed by set-up) scrapes the three services on
 * loopback — a running `sere train --metrics_port`, the data service streaming to the real
 * broker, and the eval service watching the trainer's folder — and its HTTP API shows the
 * series with sane values: every target up, the trainer's iteration counter rising, k-NN
 * accuracy for each epoch the eval service evaluated, the data service's images counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthDataset } from '@sere/dataset';
import { closedPort } from '@sere/stream/testing';
import { BROKERS, ensureKafka, type KafkaHandle } from '../data/kafka-harness';
import { DATA_SERVICE, EVAL_SERVICE, startServiceProcess, type ServiceProcess } from '../support/service-process';
import { SERE, TINY_FLAGS } from '../support/tiny-run';

jest.setTimeout(300_000);

const PROMETHEUS = process.env.SERE_PROMETHEUS ?? '/usr/bin/prometheus';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function until<T>(what: string, probe: () => Promise<T | null>, ms = 150_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('Prometheus scraping the trainer, the data service and the eval service', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-prometheus-'));
  const data = path.join(root, 'data');
  const run = path.join(root, 'run');
  let kafka: KafkaHandle;
  const services: ServiceProcess[] = [];
  const children: ChildProcess[] = [];
  let promPort = 0;

  const query = async (q: string): Promise<Sample[]> => {
    const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as { status: string; data: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${JSON.stringify(body)}`);
    return body.data.result;
  };

  beforeAll(async () => {
    if (!fs.existsSync(PROMETHEUS)) throw new Error(`${PROMETHEUS} is missing: run scripts/setup.sh (it installs Debian's prometheus package)`);
    kafka = await ensureKafka();
    await synthDataset(data, { classes: 2, perClass: 8, size: 48, seed: 9 });
    fs.mkdirSync(run);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.all(services.map((s) => s.stop()));
    await kafka?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('finds every series it scraped, with sane values', async () => {
    const dataService = await startServiceProcess(
      DATA_SERVICE,
      ['--data-dir', data, '--brokers', BROKERS.join(','), '--prefix', `sere.e2e.prom.${randomUUID().slice(0, 8)}`, '--epochs', '1', '--global-size', '32', '--local-size', '16', '--local-crops', '2', '--port', '0'],
      /"msg":"listening".*"port":(\d+)/,
    );
    services.push(dataService);
    const evalService = await startServiceProcess(EVAL_SERVICE, ['--store', run, '--data_path', data, '--arch', 'vit_tiny', '--size', '32', '--linear_epochs', '0', '--interval', '1', '--port', '0'], /"msg":"listening".*"port":(\d+)/);
    services.push(evalService);
    const trainerPort = await closedPort();
    const trainer = spawn(process.execPath, [SERE, 'train', ...TINY_FLAGS, '--epochs', '8', '--saveckp_freq', '1', '--data_path', data, '--output_dir', run, '--metrics_port', String(trainerPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(trainer);
    let trainerErr = '';
    trainer.stderr!.on('data', (d) => (trainerErr += d));
    const trainerDone = new Promise<number | null>((r) => trainer.on('exit', r));

    promPort = await closedPort();
    const config = path.join(root, 'prometheus.yml');
    const target = (job: string, port: number | string) => `  - job_name: ${job}\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`;
    fs.writeFileSync(config, `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n${target('trainer', trainerPort)}${target('data-service', dataService.match[1])}${target('eval-service', evalService.match[1])}`);
    const prom = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(root, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(prom);
    await until('Prometheus ready', async () => ((await fetch(`http://127.0.0.1:${promPort}/-/ready`)).ok ? true : null));

    // The trainer's counter, seen twice while it trains, rising.
    const its = async () => {
      const r = await query('sere_trainer_iterations_total{job="trainer"}');
      return r.length ? Number(r[0].value[1]) : null;
    };
    const first = await until('the trainer scraped', its);
    const later = await until('the counter rising', async () => {
      const v = await its();
      return v !== null && v > first ? v : null;
    });
    expect(later).toBeGreaterThan(first);
    const [loss] = await query('sere_trainer_loss{term="total"}');
    expect(Number(loss.value[1])).toBeGreaterThan(0);
    expect(loss.metric).toMatchObject({ run: 'run', rank: '0', job: 'trainer' });

    expect(await trainerDone).toBe(0);
    expect(trainerErr).toBe('');
    // Every epoch's checkpoint evaluated: checkpoint.pth at each epoch it was seen, numbered ones 1..7.
    const knn = await until('k-NN of the last epoch', async () => {
      const r = await query('sere_eval_knn_top1{k="10"}');
      return r.some((s) => s.metric.epoch === '8') ? r : null;
    });
    for (const s of knn) {
      expect(s.metric.run).toBe('run');
      expect(Number(s.value[1])).toBeGreaterThanOrEqual(0);
      expect(Number(s.value[1])).toBeLessThanOrEqual(100);
    }
    const epochs = new Set(knn.map((s) => Number(s.metric.epoch)));
    for (let e = 2; e <= 8; e++) expect(epochs).toContain(e);
    const [last] = await query('sere_eval_last_epoch');
    expect(Number(last.value[1])).toBe(8);
    const [images] = await query('sere_data_images_total');
    expect(Number(images.value[1])).toBeGreaterThan(0);
    // The trainer has exited by now: whether each target answered while it ran.
    const up = await query('max_over_time(up[5m])');
    expect(up.map((s) => [s.metric.job, s.value[1]]).sort()).toEqual([['data-service', '1'], ['eval-service', '1'], ['trainer', '1']].sort());
  });
});
