import { RunLog } from './run-log';
import type { RunStore } from './run-store';

/** An in-memory store with the append semantics of the real ones. */
class MemoryStore implements RunStore {
  files = new Map<string, string>();
  async put(name: string, bytes: Buffer) {
    this.files.set(name, bytes.toString('utf8'));
  }
  async get(name: string) {
    const f = this.files.get(name);
    if (f === undefined) throw new Error(`no ${name}`);
    return Buffer.from(f);
  }
  async exists(name: string) {
    return this.files.has(name);
  }
  async append(name: string, text: string) {
    this.files.set(name, (this.files.get(name) ?? '') + text);
  }
  async readLog(name: string) {
    const f = this.files.get(name);
    return f === undefined ? null : Buffer.from(f);
  }
  async truncateLog(name: string, length: number) {
    const f = Buffer.from(this.files.get(name) ?? '');
    if (length > f.length) throw new Error(`${name} holds ${f.length} bytes, not ${length}`);
    this.files.set(name, f.subarray(0, length).toString('utf8'));
  }
  describe(name: string) {
    return `mem:${name}`;
  }
}

const metric = (epoch: number, it: number) => ({ epoch, it, loss: 10 - it });

describe('RunLog', () => {
  it('starts a new run with empty logs', async () => {
    const store = new MemoryStore();
    const log = await RunLog.open(store, { it: 0, epoch: 0 });
    expect(log.resumedEpochLines).toEqual([]);
    await log.iteration(metric(0, 0));
    expect(store.files.has('metrics.jsonl')).toBe(false); // batched until a flush
    await log.epoch({ epoch: 0, train_loss: 10 });
    expect(store.files.get('metrics.jsonl')).toBe('{"epoch":0,"it":0,"loss":10}\n');
    expect(store.files.get('log.txt')).toBe('{"epoch":0,"train_loss":10}\n');
  });

  it('drops what the checkpoint does not cover and hands back this epoch so far', async () => {
    const store = new MemoryStore();
    // Killed after logging epoch 1 (iterations 3..5) but before its checkpoint; resumes from
    // a mid-epoch checkpoint at iteration 4 of epoch 1.
    store.files.set('metrics.jsonl', [0, 1, 2, 3, 4, 5].map((it) => JSON.stringify(metric(it < 3 ? 0 : 1, it))).join('\n') + '\n');
    store.files.set('log.txt', '{"epoch":0,"train_loss":9}\n{"epoch":1,"train_loss":6}\n');
    const log = await RunLog.open(store, { it: 4, epoch: 1 });
    expect(log.resumedEpochLines).toEqual([metric(1, 3)]);
    expect(store.files.get('metrics.jsonl')!.trim().split('\n').map((l) => JSON.parse(l).it)).toEqual([0, 1, 2, 3]);
    expect(store.files.get('log.txt')).toBe('{"epoch":0,"train_loss":9}\n');
  });

  it('drops a last line cut short by a kill, and refuses a damaged line before others', async () => {
    const store = new MemoryStore();
    store.files.set('metrics.jsonl', '{"epoch":0,"it":0,"loss":1}\n{"epoch":0,"it":1,"lo');
    await RunLog.open(store, { it: 5, epoch: 0 });
    expect(store.files.get('metrics.jsonl')).toBe('{"epoch":0,"it":0,"loss":1}\n');

    store.files.set('metrics.jsonl', '{"epoch":0,"it":0,"loss":1}\nnot json\n{"epoch":0,"it":2,"loss":1}\n');
    await expect(RunLog.open(store, { it: 5, epoch: 0 })).rejects.toThrow('mem:metrics.jsonl: line 2 is not JSON');
  });

  it('leaves logs that match the checkpoint untouched', async () => {
    const store = new MemoryStore();
    const text = '{"epoch":0,"it":0,"loss":1}\n';
    store.files.set('metrics.jsonl', text);
    const writes = [jest.spyOn(store, 'put'), jest.spyOn(store, 'truncateLog'), jest.spyOn(store, 'append')];
    await RunLog.open(store, { it: 1, epoch: 1 });
    for (const w of writes) expect(w).not.toHaveBeenCalled();
  });

  it('cuts a log by bytes, multi-byte characters included, and restores a missing last newline', async () => {
    const store = new MemoryStore();
    store.files.set('log.txt', '{"epoch":0,"note":"α→β"}\n{"epoch":1}\n');
    await RunLog.open(store, { it: 0, epoch: 1 });
    expect(store.files.get('log.txt')).toBe('{"epoch":0,"note":"α→β"}\n');

    store.files.set('log.txt', '{"epoch":0}\n{"epoch":1}');
    await RunLog.open(store, { it: 0, epoch: 2 });
    expect(store.files.get('log.txt')).toBe('{"epoch":0}\n{"epoch":1}\n');
  });
});
