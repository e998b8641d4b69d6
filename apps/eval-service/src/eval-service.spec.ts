/**
 * The watcher over a real local store with a fake evaluator: newest first, one evaluation
 * per distinct bytes, failures recorded and not retried, a restarted service re-evaluating
 * nothing, and a store that fails making the service unready until it answers again.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LocalStore, type CheckpointStore } from '@sere/store';
import { loadConfig } from './config';
import type { EvalRequest, Evaluator } from './eval-worker/eval-worker';
import type { EvalAnswer } from './eval-worker/protocol';
import { EvalService, INDEX } from './eval-service';
import { EvalMetrics } from './metrics';

const quiet = { info() {}, warn() {} };

/** Scores a checkpoint by its first byte (its "epoch"); a file starting with 0xff is of another architecture. */
class FakeEvaluator implements Evaluator {
  readonly seen: string[] = [];
  async evaluate(job: EvalRequest): Promise<EvalAnswer> {
    this.seen.push(path.basename(job.source));
    const epoch = job.bytes[0];
    if (epoch === 0xff) return { id: 0, ok: false, kind: 'checkpoint', error: `${job.source}: lacks backbone weight 'backbone.cls_token'` };
    const report = { knn: { '10': { top1: epoch * 10, top5: 100 } }, linear: null } as never;
    return { id: 0, ok: true, epoch, report };
  }
  async close(): Promise<void> {}
}

function service(store: CheckpointStore, evaluator: Evaluator): EvalService {
  const cfg = loadConfig(['--store', '/runs/a', '--data_path', '/d', '--interval', '3600'], {});
  return new EvalService(cfg, store, evaluator, new EvalMetrics(), quiet);
}

describe('EvalService', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-eval-svc-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('evaluates newest first, once per distinct bytes, and a restart evaluates nothing again', async () => {
    const store = new LocalStore(dir);
    await store.put('checkpoint0001.pth', Buffer.from([2]));
    await store.put('checkpoint0002.pth', Buffer.from([3]));
    await store.put('checkpoint.pth', Buffer.from([3]));
    const fake = new FakeEvaluator();
    const a = service(store, fake);
    await a.scan();
    // checkpoint.pth first (the newest); checkpoint0002.pth holds its bytes and gets its result.
    expect(fake.seen).toEqual(['checkpoint.pth', 'checkpoint0001.pth']);
    expect(a.evals().evals.map((e) => [e.file, e.epoch, e.knn['10'].top1])).toEqual([['checkpoint0001.pth', 2, 20], ['checkpoint.pth', 3, 30], ['checkpoint0002.pth', 3, 30]]);
    expect(JSON.parse((await store.get('eval/checkpoint0002.pth.json')).toString())).toMatchObject({ checkpoint: path.join(dir, 'checkpoint0002.pth'), epoch: 3 });
    expect((await a.metrics.text())).toContain('sere_eval_knn_top1{run="a",epoch="3",k="10"} 30');

    const again = new FakeEvaluator();
    const b = service(store, again);
    await b.start();
    await b.scan();
    expect(again.seen).toEqual([]);
    expect(b.evals().evals).toHaveLength(3);

    // checkpoint.pth moves on: evaluated again, its earlier epoch kept in the index.
    await store.put('checkpoint.pth', Buffer.from([4]));
    await b.scan();
    expect(again.seen).toEqual(['checkpoint.pth']);
    expect(b.evals().evals.filter((e) => e.file === 'checkpoint.pth').map((e) => e.epoch)).toEqual([3, 4]);
    await b.stop();
  });

  it('records a checkpoint it cannot use and does not retry it until its bytes change', async () => {
    const store = new LocalStore(dir);
    await store.put('checkpoint0001.pth', Buffer.from([0xff]));
    fs.writeFileSync(path.join(dir, 'checkpoint0002.pth'), 'truncated, and never written by a store');
    const fake = new FakeEvaluator();
    const s = service(store, fake);
    await s.scan();
    await s.scan();
    expect(fake.seen).toEqual(['checkpoint0001.pth']);
    expect(s.evals().failed.map((f) => [f.file, f.kind])).toEqual([['checkpoint0002.pth', 'checkpoint'], ['checkpoint0001.pth', 'checkpoint']]);
    expect(JSON.parse((await store.get(INDEX)).toString()).failed).toHaveLength(2);
    await store.put('checkpoint0001.pth', Buffer.from([2]));
    await s.scan();
    expect(fake.seen).toEqual(['checkpoint0001.pth', 'checkpoint0001.pth']);
    expect(s.evals().failed.map((f) => f.file)).toEqual(['checkpoint0002.pth']);
  });

  it('is unready while the store fails, and catches up once it answers', async () => {
    const store = new LocalStore(dir);
    await store.put('checkpoint0001.pth', Buffer.from([2]));
    let down = true;
    const flaky = Object.assign(Object.create(store) as CheckpointStore, {
      list: (p?: string) => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : store.list(p)),
    });
    const fake = new FakeEvaluator();
    const s = service(flaky, fake);
    await s.scan();
    expect(s.ready()).toMatchObject({ ready: false, lastError: expect.stringMatching(/listing: connect ECONNREFUSED/) });
    down = false;
    await s.scan();
    expect(s.ready().ready).toBe(true);
    expect(fake.seen).toEqual(['checkpoint0001.pth']);
  });
});
