import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkpointEpoch, checkpointName, listCheckpoints, loadLatestCheckpoint } from './checkpoints';
import { StoreError } from './errors';
import { LocalStore } from './local-store';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-ckpt-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('checkpoint names', () => {
  it('follow the reference: checkpoint.pth and checkpoint%04d.pth', () => {
    expect(checkpointName()).toBe('checkpoint.pth');
    expect(checkpointName(40)).toBe('checkpoint0040.pth');
    expect(checkpointName(0)).toBe('checkpoint0000.pth');
    expect(checkpointName(12345)).toBe('checkpoint12345.pth');
    expect(() => checkpointName(-1)).toThrow(/whole number >= 0/);
    expect(() => checkpointName(1.5)).toThrow(/whole number >= 0/);
  });

  it('parse back to epochs', () => {
    expect(checkpointEpoch('checkpoint0040.pth')).toBe(40);
    expect(checkpointEpoch('checkpoint12345.pth')).toBe(12345);
    expect(checkpointEpoch('checkpoint.pth')).toBeNull();
    expect(checkpointEpoch('checkpoint040.pth')).toBeNull();
    expect(checkpointEpoch('checkpoint0040.pth.sha256')).toBeNull();
  });
});

describe('listCheckpoints', () => {
  it('finds the resume checkpoint and numbered ones, oldest first, in one folder only', async () => {
    const store = new LocalStore(dir);
    for (const name of ['run/checkpoint0100.pth', 'run/checkpoint0020.pth', 'run/checkpoint.pth', 'run/log.txt', 'run/old/checkpoint0300.pth', 'checkpoint0500.pth']) {
      await store.put(name, Buffer.from(name));
    }
    const listing = await listCheckpoints(store, 'run');
    expect(listing.resume).toBe('run/checkpoint.pth');
    expect(listing.numbered).toEqual([
      { name: 'run/checkpoint0020.pth', epoch: 20 },
      { name: 'run/checkpoint0100.pth', epoch: 100 },
    ]);
    expect(listing.latest).toBe('run/checkpoint.pth');
    expect((await listCheckpoints(store, '')).latest).toBe('checkpoint0500.pth');
  });

  it('falls back to the newest numbered checkpoint, and to null on a fresh location', async () => {
    const store = new LocalStore(dir);
    expect(await listCheckpoints(store)).toEqual({ resume: null, numbered: [], latest: null });
    await store.put('checkpoint0009.pth', Buffer.from('9'));
    await store.put('checkpoint0010.pth', Buffer.from('10'));
    expect((await listCheckpoints(store)).latest).toBe('checkpoint0010.pth');
  });
});

describe('loadLatestCheckpoint', () => {
  it('returns null when there is nothing to resume', async () => {
    expect(await loadLatestCheckpoint(new LocalStore(dir))).toBeNull();
  });

  it('loads checkpoint.pth when it verifies', async () => {
    const store = new LocalStore(dir);
    await store.put('checkpoint0010.pth', Buffer.from('ten'));
    await store.put('checkpoint.pth', Buffer.from('latest'));
    const got = await loadLatestCheckpoint(store);
    expect(got?.name).toBe('checkpoint.pth');
    expect(got?.bytes.toString()).toBe('latest');
    expect(got?.skipped).toEqual([]);
  });

  it('skips damaged checkpoints newest first and says which', async () => {
    const store = new LocalStore(dir);
    await store.put('checkpoint0010.pth', Buffer.from('ten'));
    await store.put('checkpoint0020.pth', Buffer.from('twenty'));
    await store.put('checkpoint.pth', Buffer.from('latest'));
    await fs.writeFile(path.join(dir, 'checkpoint.pth'), 'lates');
    await fs.writeFile(path.join(dir, 'checkpoint0020.pth'), 'twenty!');
    const got = await loadLatestCheckpoint(store);
    expect(got?.name).toBe('checkpoint0010.pth');
    expect(got?.skipped.map((e) => e.location)).toEqual([path.join(dir, 'checkpoint.pth'), path.join(dir, 'checkpoint0020.pth')]);
    expect(got?.skipped.every((e) => e.kind === 'corrupt')).toBe(true);
  });

  it('fails as corrupt when no checkpoint verifies', async () => {
    const store = new LocalStore(dir);
    await store.put('checkpoint.pth', Buffer.from('latest'));
    await fs.writeFile(path.join(dir, 'checkpoint.pth'), 'x');
    const e = await loadLatestCheckpoint(store).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).kind).toBe('corrupt');
    expect((e as StoreError).message).toMatch(/no checkpoint under .* verifies/);
  });
});
