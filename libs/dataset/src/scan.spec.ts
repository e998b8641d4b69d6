import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatScanReport, scanDataset } from './scan';
import { synthDataset } from './synth';

describe('scanDataset', () => {
  it('counts each real file once under a symlink loop and lists the links it left out', async () => {
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-scan-'));
    try {
      const root = path.join(work, 'd');
      await synthDataset(root, { classes: 2, perClass: 1, size: 32, seed: 1 });
      const [first] = (await fs.readdir(root)).sort();
      const loop = path.join(root, first, 'up');
      await fs.symlink('..', loop);
      const r = await scanDataset(root);
      expect(r).toMatchObject({ classes: 2, files: 2, usable: 2, skipped: [] });
      expect(r.repeats).toEqual([{ path: loop, kind: 'loop', sameAs: root }]);
      const text = formatScanReport(r);
      expect(text).toContain('links left out (each real file is indexed once): 1');
      expect(text).toContain(`loop     ${loop} -> ${root}`);
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  });
});
