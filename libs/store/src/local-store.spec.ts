import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sha256Hex } from './checksum';
import { StoreError } from './errors';
import { FaultFs, SimulatedCrash, type FaultRule } from './testing';
import { nodeFs, type FsLayer } from './fs-layer';
import { LocalStore } from './local-store';
import { tempName, THIS_WRITER } from './temp-files';

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-store-'));
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Distinct, position-dependent bytes so a mix of two versions cannot pass for either. */
function bytes(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function expectCrash(p: Promise<unknown>): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StoreError);
  expect((e as StoreError).cause).toBeInstanceOf(SimulatedCrash);
}

async function expectStoreError(p: Promise<unknown>, kind: StoreError['kind']): Promise<StoreError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).kind).toBe(kind);
    return e as StoreError;
  }
  throw new Error(`expected a StoreError of kind '${kind}', but the call succeeded`);
}

describe('LocalStore', () => {
  it('round-trips bytes and keeps a sha256sum-compatible checksum beside them', async () => {
    const store = new LocalStore(dir);
    const data = bytes(300_000, 1);
    await store.put('checkpoint.pth', data);
    expect((await store.get('checkpoint.pth')).equals(data)).toBe(true);
    const sidecar = await fs.readFile(path.join(dir, 'checkpoint.pth.sha256'), 'utf8');
    expect(sidecar).toBe(`${sha256Hex(data)}  checkpoint.pth\n`);
    expect((await fs.readdir(dir)).sort()).toEqual(['checkpoint.pth', 'checkpoint.pth.sha256']);
  });

  it('overwrites, lists names sorted without its own files, and deletes', async () => {
    const store = new LocalStore(dir);
    await store.put('checkpoint.pth', bytes(10, 1));
    await store.put('checkpoint.pth', bytes(20, 2));
    await store.put('run1/checkpoint0040.pth', bytes(5, 3));
    await store.put('run1/checkpoint0020.pth', bytes(5, 4));
    await store.put('run10/checkpoint.pth', bytes(5, 5));
    expect((await store.get('checkpoint.pth')).equals(bytes(20, 2))).toBe(true);
    expect(await store.list()).toEqual([
      'checkpoint.pth',
      'run1/checkpoint0020.pth',
      'run1/checkpoint0040.pth',
      'run10/checkpoint.pth',
    ]);
    expect(await store.list('run1/')).toEqual(['run1/checkpoint0020.pth', 'run1/checkpoint0040.pth']);
    expect(await store.list('run1')).toHaveLength(3);
    expect(await store.exists('run1/checkpoint0040.pth')).toBe(true);
    await store.delete('run1/checkpoint0040.pth');
    await store.delete('run1/checkpoint0040.pth'); // already gone: not an error
    expect(await store.exists('run1/checkpoint0040.pth')).toBe(false);
    expect(await fs.readdir(path.join(dir, 'run1'))).toEqual(['checkpoint0020.pth', 'checkpoint0020.pth.sha256']);
  });

  it('lists nothing for a folder that does not exist yet', async () => {
    expect(await new LocalStore(path.join(dir, 'not-yet')).list()).toEqual([]);
  });

  it('reports a missing checkpoint as not-found with its path', async () => {
    const e = await expectStoreError(new LocalStore(dir).get('checkpoint.pth'), 'not-found');
    expect(e.location).toBe(path.join(dir, 'checkpoint.pth'));
    expect(e.message).toContain(path.join(dir, 'checkpoint.pth'));
  });

  it('detects a flipped byte and a truncated file', async () => {
    const store = new LocalStore(dir);
    const data = bytes(50_000, 7);
    await store.put('checkpoint.pth', data);
    const file = path.join(dir, 'checkpoint.pth');
    const flipped = Buffer.from(data);
    flipped[12_345] ^= 0x01;
    await fs.writeFile(file, flipped);
    const e1 = await expectStoreError(store.get('checkpoint.pth'), 'corrupt');
    expect(e1.message).toMatch(/damaged or truncated/);
    expect(e1.message).toContain(file);
    await fs.writeFile(file, data.subarray(0, 40_000));
    const e2 = await expectStoreError(store.get('checkpoint.pth'), 'corrupt');
    expect(e2.message).toContain('40000 bytes');
  });

  it('refuses a file without checksum unless asked to accept it unchecked', async () => {
    await fs.writeFile(path.join(dir, 'foreign.pth'), 'made elsewhere');
    const store = new LocalStore(dir);
    const e = await expectStoreError(store.get('foreign.pth'), 'corrupt');
    expect(e.message).toMatch(/no checksum file foreign\.pth\.sha256/);
    expect(e.message).not.toMatch(/verify:|if-present/); // the API's words mean nothing to the person reading this
    const hinted = await expectStoreError(store.get('foreign.pth', { uncheckedHint: 'pass --load_from foreign.pth to use it unchecked' }), 'corrupt');
    expect(hinted.message).toBe(
      `cannot verify ${path.join(dir, 'foreign.pth')}: it has no checksum file foreign.pth.sha256, so it was not written by a checkpoint store; ` +
        'pass --load_from foreign.pth to use it unchecked',
    );
    expect((await store.get('foreign.pth', { verify: 'if-present' })).toString()).toBe('made elsewhere');
  });

  it('reports a damaged checksum file as corrupt', async () => {
    const store = new LocalStore(dir);
    await store.put('checkpoint.pth', bytes(10, 1));
    await fs.writeFile(path.join(dir, 'checkpoint.pth.sha256'), 'not a digest\n');
    const e = await expectStoreError(store.get('checkpoint.pth'), 'corrupt');
    expect(e.message).toMatch(/not a sha256sum line/);
  });

  it('appends to logs in place, dropping a checksum that would go stale', async () => {
    const store = new LocalStore(dir);
    await store.put('log.txt', Buffer.from('{"epoch": 0}\n'));
    await store.append('log.txt', '{"epoch": 1}\n');
    await store.append('sub/metrics.jsonl', 'a\n');
    expect((await store.get('log.txt', { verify: 'if-present' })).toString()).toBe('{"epoch": 0}\n{"epoch": 1}\n');
    expect((await store.get('sub/metrics.jsonl', { verify: 'if-present' })).toString()).toBe('a\n');
    expect(await store.list()).toEqual(['log.txt', 'sub/metrics.jsonl']);
  });

  it('reads a log whole and cuts it back in place; a missing log reads as null', async () => {
    const store = new LocalStore(dir);
    expect(await store.readLog('metrics.jsonl')).toBeNull();
    await store.put('metrics.jsonl', Buffer.from('a\n'));
    await store.append('metrics.jsonl', 'b\nc\n');
    expect((await store.readLog('metrics.jsonl'))?.toString()).toBe('a\nb\nc\n');
    await store.truncateLog('metrics.jsonl', 4);
    expect((await store.readLog('metrics.jsonl'))?.toString()).toBe('a\nb\n');
    expect((await fs.readdir(dir)).sort()).toEqual(['metrics.jsonl']); // the stale checksum went with the first append
    const e = await expectStoreError(store.truncateLog('metrics.jsonl', 5), 'invalid');
    expect(e.message).toBe(`cannot cut ${path.join(dir, 'metrics.jsonl')} back to 5 bytes: it holds 4`);
    expect((await store.readLog('metrics.jsonl'))?.toString()).toBe('a\nb\n');
  });

  it('refuses names that escape the folder or collide with its own files', async () => {
    const store = new LocalStore(dir);
    for (const bad of ['', '../x.pth', '/abs.pth', 'a//b', '.hidden', 'x.pth.sha256', 'a/./b', 'a\\b']) {
      const e = await expectStoreError(store.put(bad, Buffer.from('x')), 'invalid');
      expect(e.message).toContain(`'${bad}'`);
    }
    expect(await fs.readdir(dir)).toEqual([]);
  });

  describe('a full disk', () => {
    it('while writing the new bytes: no-space, previous checkpoint intact, no leftovers', async () => {
      await new LocalStore(dir).put('checkpoint.pth', bytes(1000, 1));
      const faults = new FaultFs((step) => (step.startsWith('write ') && step.endsWith('.tmp') ? 'enospc' : undefined));
      const e = await expectStoreError(new LocalStore(dir, faults).put('checkpoint.pth', bytes(5000, 2)), 'no-space');
      expect(e.message).toContain(path.join(dir, 'checkpoint.pth'));
      expect(e.message).toMatch(/disk full \(ENOSPC\).*previous checkpoint\.pth, if any, is intact/);
      const store = new LocalStore(dir);
      expect((await store.get('checkpoint.pth')).equals(bytes(1000, 1))).toBe(true);
      expect((await fs.readdir(dir)).sort()).toEqual(['checkpoint.pth', 'checkpoint.pth.sha256']);
    });

    it('while writing the checksum after the commit: no-space, the new bytes still verify', async () => {
      await new LocalStore(dir).put('checkpoint.pth', bytes(1000, 1));
      const faults = new FaultFs((step) => (step.startsWith('write ') && step.includes('.sha256.') && step.endsWith('.tmp') ? 'enospc' : undefined));
      const e = await expectStoreError(new LocalStore(dir, faults).put('checkpoint.pth', bytes(5000, 2)), 'no-space');
      expect(e.message).toMatch(/new checkpoint\.pth is in place and verifiable/);
      const store = new LocalStore(dir);
      expect((await store.get('checkpoint.pth')).equals(bytes(5000, 2))).toBe(true);
      // The next put settles the pending checksum and leaves the usual pair.
      await store.put('checkpoint.pth', bytes(10, 3));
      expect((await fs.readdir(dir)).sort()).toEqual(['checkpoint.pth', 'checkpoint.pth.sha256']);
    });
  });

  it('maps permission errors to permission', async () => {
    const faults = new FaultFs((step) => (step.startsWith('open:w') ? 'eacces' : undefined));
    const e = await expectStoreError(new LocalStore(dir, faults).put('checkpoint.pth', bytes(10, 1)), 'permission');
    expect(e.message).toMatch(/permission denied \(EACCES\)/);
  });

  describe('temporary files a killed writer left behind', () => {
    // A pid that ran and has exited: what a writer killed with SIGKILL leaves in its names.
    const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
    const leftover = async (name: string, owner: Partial<typeof THIS_WRITER>, n: number) => {
      const file = tempName(path.join(dir, name), { ...THIS_WRITER, ...owner }, n);
      await fs.writeFile(file, bytes(100_000, n)); // part of a checkpoint, as a kill mid-write leaves it
      return path.basename(file);
    };

    it('are removed by the next put into the folder; those of live or foreign writers are kept', async () => {
      const store = new LocalStore(dir);
      await store.put('checkpoint.pth', bytes(1000, 1));
      const dead = deadPid();
      await leftover('checkpoint.pth', { pid: dead }, 1);
      await leftover('checkpoint.pth.sha256', { pid: dead }, 2);
      await leftover('checkpoint0040.pth', { pid: dead }, 3);
      // This pid and thread with no put in progress: a restarted container is often pid 1 again.
      await leftover('checkpoint.pth', {}, 999_999);
      const kept = [
        await leftover('checkpoint.pth', { pid: process.ppid }, 4), // a live process
        await leftover('checkpoint.pth', { pid: dead, host: 'another-host' }, 5), // cannot tell from here
        await leftover('checkpoint.pth', { thread: THIS_WRITER.thread + 1 }, 6), // another thread of ours
      ];
      await fs.writeFile(path.join(dir, '.keep'), '');
      await fs.writeFile(path.join(dir, 'notes.tmp'), '');

      await store.put('config.json', Buffer.from('{}'));
      expect((await fs.readdir(dir)).sort()).toEqual(
        ['.keep', 'checkpoint.pth', 'checkpoint.pth.sha256', 'config.json', 'config.json.sha256', 'notes.tmp', ...kept].sort(),
      );
      expect((await store.get('checkpoint.pth')).equals(bytes(1000, 1))).toBe(true);
    });

    it('never include a put still in progress in this process', async () => {
      // The first put stops after opening its temporary file until a second put has run.
      let resume!: () => void;
      const paused = new Promise<void>((r) => (resume = r));
      let reached!: () => void;
      const atWrite = new Promise<void>((r) => (reached = r));
      const pausing: FsLayer = {
        ...nodeFs,
        open: async (file, flags) => {
          const fh = await nodeFs.open(file, flags);
          if (flags !== 'w' || !/\.checkpoint\.pth\.\d+\.\d+\.\d+\.[A-Za-z0-9-]+\.tmp$/.test(file)) return fh;
          return { ...fh, writeFile: async (data) => (reached(), await paused, fh.writeFile(data)), sync: () => fh.sync(), close: () => fh.close() };
        },
      };
      const data = bytes(200_000, 7);
      const first = new LocalStore(dir, pausing).put('checkpoint.pth', data);
      await atWrite;
      await new LocalStore(dir).put('config.json', Buffer.from('{}'));
      resume();
      await first;
      expect((await new LocalStore(dir).get('checkpoint.pth')).equals(data)).toBe(true);
    });
  });

  describe('a crash at any point of a put', () => {
    const before = bytes(40_000, 11);
    const after = bytes(60_000, 12);

    async function stepsOfCleanPut(): Promise<string[]> {
      const probeDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-store-probe-'));
      try {
        await new LocalStore(probeDir).put('checkpoint.pth', before);
        const trace = new FaultFs();
        await new LocalStore(probeDir, trace).put('checkpoint.pth', after);
        return trace.steps;
      } finally {
        await fs.rm(probeDir, { recursive: true, force: true });
      }
    }

    it('leaves either the old or the new checkpoint, verified, and the next put cleans up', async () => {
      const steps = await stepsOfCleanPut();
      expect(steps.length).toBeGreaterThan(10);
      const outcomes = new Set<string>();
      for (let at = 0; at < steps.length; at++) {
        const runDir = path.join(dir, `crash-${at}`);
        await new LocalStore(runDir).put('checkpoint.pth', before);
        const rule: FaultRule = (_step, index) => (index === at ? 'crash' : undefined);
        await expectCrash(new LocalStore(runDir, new FaultFs(rule)).put('checkpoint.pth', after));

        // A new process opens the folder.
        const store = new LocalStore(runDir);
        const got = await store.get('checkpoint.pth');
        const which = got.equals(before) ? 'before' : got.equals(after) ? 'after' : 'neither';
        expect(`${at} ${steps[at]}: ${which}`).not.toMatch(/neither$/);
        outcomes.add(which);
        expect(await store.list()).toEqual(['checkpoint.pth']);

        const next = bytes(1000, 100 + at);
        await store.put('checkpoint.pth', next);
        expect((await store.get('checkpoint.pth')).equals(next)).toBe(true);
        // Nothing is left over, not even the crashed put's temporary file.
        expect((await fs.readdir(runDir)).sort()).toEqual(['checkpoint.pth', 'checkpoint.pth.sha256']);
      }
      // Crashes before the rename keep the old bytes, after it the new ones: both happen.
      expect([...outcomes].sort()).toEqual(['after', 'before']);
    });

    it('a second crash right after settling still keeps a verifiable checkpoint', async () => {
      // Crash between commit and checksum, then crash the next put before its own commit.
      const steps = await stepsOfCleanPut();
      const commit = steps.findIndex((s) => /^rename .* -> .*\/checkpoint\.pth$/.test(s));
      expect(commit).toBeGreaterThan(0);
      const runDir = path.join(dir, 'x');
      await new LocalStore(runDir).put('checkpoint.pth', before);
      await expectCrash(new LocalStore(runDir, new FaultFs((_s, i) => (i === commit + 1 ? 'crash' : undefined))).put('checkpoint.pth', after));
      const third = bytes(2000, 13);
      const crashBeforeThirdCommit: FaultRule = (s) => (/^write .*\/\.checkpoint\.pth\.\d+\.\d+\.\d+\.[A-Za-z0-9-]+\.tmp$/.test(s) ? 'crash' : undefined);
      await expectCrash(new LocalStore(runDir, new FaultFs(crashBeforeThirdCommit)).put('checkpoint.pth', third));
      expect((await new LocalStore(runDir).get('checkpoint.pth')).equals(after)).toBe(true);
    });
  });
});

describe('LocalStore.version', () => {
  it('is the recorded sha256, else size and mtime for a foreign file, else null', async () => {
    const store = new LocalStore(dir);
    expect(await store.version('checkpoint.pth')).toBeNull();
    const a = bytes(100, 1);
    await store.put('checkpoint.pth', a);
    expect(await store.version('checkpoint.pth')).toBe(`sha256:${sha256Hex(a)}`);
    await store.put('checkpoint.pth', bytes(100, 2));
    expect(await store.version('checkpoint.pth')).toBe(`sha256:${sha256Hex(bytes(100, 2))}`);
    await fs.writeFile(path.join(dir, 'foreign.pth'), a);
    expect(await store.version('foreign.pth')).toMatch(/^size:100:mtime:\d+(\.\d+)?$/);
  });
});
