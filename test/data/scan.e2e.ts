/**
 * `sere data scan` and `sere data synth` on real files: every kind of bad file is named with
 * its kind, every conversion is counted, and the synthetic dataset is reproducible.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanDataset, synthDataset } from '@sere/dataset';
import { runDataScan, runDataSynth } from '../../apps/cli/src/commands/data';
import { makeBadFolder, type BadFolder } from './bad-folder';

let work: string;
let bad: BadFolder;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-scan-e2e-'));
  bad = await makeBadFolder(path.join(work, 'bad'));
});

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('scanDataset', () => {
  it('reports every skipped and converted file with its kind, and the empty class folder', async () => {
    const r = await scanDataset(bad.root);
    const rel = (p: string) => path.relative(bad.root, p);
    expect(Object.fromEntries(r.skipped.map((s) => [rel(s.path), s.kind]))).toEqual(bad.skipped);
    expect(Object.fromEntries(r.converted.map((c) => [rel(c.path), c.conversions]))).toEqual(bad.converted);
    expect(r.usable).toBe(bad.usable.length);
    expect(r.files).toBe(bad.usable.length + Object.keys(bad.skipped).length);
    expect(r.emptyClasses).toEqual(bad.emptyClasses);
    expect(r.skippedByKind).toEqual({ empty: 1, 'not-an-image': 1, truncated: 1, corrupt: 1, 'too-large': 1, unreadable: process.getuid?.() === 0 ? 1 : 2 });
    expect(r.convertedByKind).toEqual({ png: 3, cmyk: 1, grayscale: 1, '16-bit': 1, alpha: 1, 'exif-rotated': 1 });
    for (const s of r.skipped) expect(s.detail).toContain(s.path);
  });

  it('prints JSON from the command and exits 1 when files would be skipped', async () => {
    const lines: string[] = [];
    const code = await runDataScan([bad.root, '--json'], { log: (s) => lines.push(s), error: (s) => lines.push(s) });
    expect(code).toBe(1);
    expect(JSON.parse(lines.join('\n'))).toMatchObject({ usable: bad.usable.length, emptyClasses: ['d_empty'] });
    const text: string[] = [];
    await runDataScan([bad.root], { log: (s) => text.push(s), error: (s) => text.push(s) });
    expect(text.join('\n')).toMatch(/skip\s+truncated\s+\S*c_broken\/truncated\.jpg/);
  });

  it('names the folder when it does not exist (exit 2, no stack trace)', async () => {
    const errors: string[] = [];
    expect(await runDataScan([path.join(work, 'nope')], { log: () => undefined, error: (s) => errors.push(s) })).toBe(2);
    expect(errors).toEqual([`sere data scan: dataset folder ${path.join(work, 'nope')} does not exist (expected <root>/<class>/<image>)`]);
  });
});

describe('synthDataset', () => {
  it('writes the same labelled JPEGs for the same seed, different ones for another', async () => {
    const a = path.join(work, 'a');
    const b = path.join(work, 'b');
    const c = path.join(work, 'c');
    expect(await runDataSynth([a, '--classes', '3', '--per-class', '2', '--size', '48', '--seed', '1'], { log: () => undefined, error: () => undefined })).toBe(0);
    await synthDataset(b, { classes: 3, perClass: 2, size: 48, seed: 1 });
    await synthDataset(c, { classes: 3, perClass: 2, size: 48, seed: 2 });
    const read = (root: string) => fs.readFile(path.join(root, 'class_01/img_00001.jpg'));
    expect(Buffer.compare(await read(a), await read(b))).toBe(0);
    expect(Buffer.compare(await read(a), await read(c))).not.toBe(0);
    const r = await scanDataset(a);
    expect(r).toMatchObject({ classes: 3, files: 6, usable: 6, skipped: [], converted: [] });
  });
});
