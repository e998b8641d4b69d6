/**
 * The local store on a real kernel: a genuinely full file system (a 1 MiB tmpfs) and a
 * writer killed with SIGKILL in the middle of its puts. The unit specs inject the same
 * failures through a fake file-system layer; these show the real thing agrees.
 */
import { execFileSync, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStore, StoreError } from '@sere/store';
import { versionBytes } from './put-loop';

jest.setTimeout(60_000);

const REPO = path.resolve(__dirname, '../..');

describe('a full disk (1 MiB tmpfs)', () => {
  let mnt: string;
  let mounted = false;

  beforeAll(async () => {
    mnt = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'pipe' });
      mounted = true;
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      throw new Error(
        `this test needs a real full disk: 'mount -t tmpfs -o size=1m tmpfs ${mnt}' failed ` +
          `(${err.stderr?.toString().trim() || err.message}). Run it as root (CI does), ` +
          'or rely on the injected ENOSPC cases in libs/store/src/local-store.spec.ts.',
      );
    }
  });

  afterAll(async () => {
    if (mounted) execFileSync('umount', [mnt]);
    await fs.rm(mnt, { recursive: true, force: true });
  });

  it('fails the put with no-space and keeps the previous checkpoint whole', async () => {
    const store = new LocalStore(mnt);
    const previous = versionBytes(1, 400 * 1024);
    await store.put('checkpoint.pth', previous);
    const e = await store.put('checkpoint.pth', versionBytes(2, 800 * 1024)).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).kind).toBe('no-space');
    expect((e as StoreError).message).toMatch(/disk full \(ENOSPC\)/);
    expect((await new LocalStore(mnt).get('checkpoint.pth')).equals(previous)).toBe(true);
    expect((await fs.readdir(mnt)).sort()).toEqual(['checkpoint.pth', 'checkpoint.pth.sha256']);
    // The space came back: the next put succeeds.
    await store.put('checkpoint.pth', versionBytes(3, 300 * 1024));
  });
});

describe('a writer killed with SIGKILL mid-put', () => {
  let dir: string;
  beforeAll(async () => {
    // On tmpfs the sync calls cost nothing, so the writes themselves (where a torn file
    // would show) fill most of each put and most kills land inside one.
    const base = await fs.stat('/dev/shm').then(
      (s) => (s.isDirectory() ? '/dev/shm' : os.tmpdir()),
      () => os.tmpdir(),
    );
    dir = await fs.mkdtemp(path.join(base, 'sere-kill-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  // Kill delays after the writer's first put, in ms, spread over several puts of 16 MiB.
  it.each([3, 11, 17, 29, 41, 67])('leaves a whole, verified version when killed %i ms in', async (delayMs) => {
    const size = 16 * 1024 * 1024;
    const start = delayMs * 1000;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'put-loop.ts'), dir, String(size), String(start)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`put-loop exited (${code}) before its first put: ${stderr}`)));
    });
    await new Promise((r) => setTimeout(r, delayMs));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const got = await new LocalStore(dir).get('checkpoint.pth');
    const version = got.readUInt32LE(0);
    expect(version).toBeGreaterThanOrEqual(start);
    expect(got.equals(versionBytes(version, size))).toBe(true);

    // A kill inside a put leaves its temporary file (up to 16 MiB); the next put removes it.
    await new LocalStore(dir).put('checkpoint.pth', got);
    expect((await fs.readdir(dir)).sort()).toEqual(['checkpoint.pth', 'checkpoint.pth.sha256']);
  });
});
