/**
 * Two ranks fed by the data service through the real broker: the service (apps/data-service,
 * its own process, --ranks 2, exact pixels on the wire) streams topics <prefix>.rank0 and
 * <prefix>.rank1, and `sere launch --nproc_per_node 2 train --data kafka://…` trains on them.
 *   - Its losses are those of the same launch on the folder: the service shares each epoch
 *     between the ranks as DistributedSampler does, and cuts the same views from the same
 *     seeded streams, so only the transport differs (and raw views carry exact pixels).
 *   - Stopped inside an epoch and continued, it gives the same losses: the checkpoint holds
 *     every rank's stream position.
 *   - A trainer of another world size is refused with both counts named.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT } from '@sere/config';
import { synthDataset } from '@sere/dataset';
import { closedPort } from '@sere/stream/testing';
import { DATA_SERVICE, startServiceProcess, type ServiceProcess } from '../support/service-process';
import { SERE, TINY_FLAGS } from '../support/tiny-run';
import { BROKERS, ensureKafka, type KafkaHandle } from './kafka-harness';

jest.setTimeout(300_000);

// 14 images over 2 ranks: 7 per rank in batches of 2, so 3 iterations per epoch and a short batch to drop.
// The view flags are the data service's --recipe vit-small (its default); its masking ratio
// of 0 or 0.3 per image leaves some batches without a masked token on one rank only.
const VIT_SMALL_VIEWS = ['--global_crops_scale', '0.40', '1', '--local_crops_scale', '0.05', '0.40', '--pred_ratio', '0', '0.3', '--pred_ratio_var', '0', '0.2'];
const FLAGS = [
  ...TINY_FLAGS.filter((f, i, a) => f !== '--batch_size_per_gpu' && a[i - 1] !== '--batch_size_per_gpu'),
  ...VIT_SMALL_VIEWS,
  '--batch_size_per_gpu', '2', '--epochs', '2', '--saveckp_freq', '0', '--drop_path', '0', '--dist_timeout', '30',
];

const losses = (dir: string): number[] => fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss);

function sere(args: string[]) {
  const r = spawnSync(process.execPath, [SERE, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const launch = async (args: string[]) => sere(['launch', '--nproc_per_node', '2', `--master_port=${await closedPort()}`, 'train', ...FLAGS, ...args]);

let kafka: KafkaHandle;
let root: string;
let data: string;
const services: ServiceProcess[] = [];

/** The data service for `prefix`, as a process of its own; resolves once it streams. */
async function dataService(prefix: string, ranks: number): Promise<ServiceProcess> {
  const args = ['--data-dir', data, '--brokers', BROKERS.join(','), '--prefix', prefix, '--ranks', String(ranks), '--epochs', '2'];
  const views = ['--codec', 'raw', '--global-size', '32', '--local-size', '16', '--local-crops', '2', '--slot-size', '3', '--port', '0'];
  const p = await startServiceProcess(DATA_SERVICE, [...args, ...views], /dataset indexed/);
  services.push(p);
  return p;
}

beforeAll(async () => {
  kafka = await ensureKafka();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-kafka-ranks-'));
  data = path.join(root, 'data');
  await synthDataset(data, { classes: 2, perClass: 7, size: 48, seed: 3 });
});

afterAll(async () => {
  await Promise.all(services.map((p) => p.stop()));
  await kafka?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('sere launch --nproc_per_node 2 train --data kafka://', () => {
  it('trains 2 ranks from the data service as from the folder, and continues a stopped run exactly', async () => {
    const folder = path.join(root, 'folder');
    const f = await launch(['--data_path', data, '--output_dir', folder]);
    expect({ code: f.code, stderr: f.stderr }).toEqual({ code: 0, stderr: '' });

    const prefix = `sere.e2e.ranks.${randomUUID().slice(0, 8)}`;
    const stream = `kafka://${BROKERS[0]}/${prefix}`;
    await dataService(prefix, 2);
    const straight = path.join(root, 'straight');
    const s = await launch(['--data', stream, '--output_dir', straight]);
    expect({ code: s.code, stderr: s.stderr }).toEqual({ code: 0, stderr: '' });
    expect(s.stdout).toContain(`data: ${prefix}.rank0 at ${BROKERS[0]}, 7 images per epoch for this trainer (rank 0 of 2); 3 iterations per epoch`);
    expect(losses(straight)).toHaveLength(6);
    // The same float32 work in the same order: the runs agree to the last bit but for the
    // wire, and raw views are exact, so any difference is a real one.
    expect(losses(straight)).toEqual(losses(folder));

    // Stopped after iteration 2 of epoch 1, inside the epoch, then continued.
    const stopped = path.join(root, 'stopped');
    const first = await launch(['--data', stream, '--output_dir', stopped, '--steps', '2']);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/stopped at epoch 1, iteration 2; checkpoint saved/);
    const second = await launch(['--data', stream, '--output_dir', stopped]);
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });
    expect(second.stdout).toMatch(/resumed from .*checkpoint\.pth: epoch 1, iteration 3/);
    expect(losses(stopped)).toEqual(losses(folder));
  });

  it('refuses a trainer whose world size is not the data service\'s rank count, naming both', async () => {
    const prefix = `sere.e2e.ranks.${randomUUID().slice(0, 8)}`;
    await dataService(prefix, 2);
    const r = sere(['train', ...FLAGS, '--data', `kafka://${BROKERS[0]}/${prefix}`, '--output_dir', path.join(root, 'one')]);
    expect(r.code).toBe(EXIT.refused);
    expect(r.stderr).toMatch(/the data service shares each epoch between 2 trainer ranks \(its --ranks 2\); this run has world size 1/);
    expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
