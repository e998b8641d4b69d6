import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { evalSplit, splitPerClass } from './split';
import { tempDir } from './testing/python';

const entries = (counts: number[]) => counts.flatMap((m, label) => Array.from({ length: m }, (_, i) => ({ path: `/d/c${label}/img${i}.jpg`, label })));

describe('evaluation split', () => {
  it('holds out about the fraction of every class, at least one, never all', () => {
    const all = entries([10, 5, 2, 1, 50]);
    const { train, val } = splitPerClass(all, 0.2, 0);
    const count = (xs: { label: number }[], l: number) => xs.filter((x) => x.label === l).length;
    expect([0, 1, 2, 3, 4].map((l) => count(val, l))).toEqual([2, 1, 1, 0, 10]);
    expect(train.length + val.length).toBe(all.length);
    expect(new Set([...train, ...val].map((x) => x.path)).size).toBe(all.length);
    // Both halves keep the index order.
    const order = (xs: { path: string }[]) => xs.map((x) => all.findIndex((e) => e.path === x.path));
    expect(order(val)).toEqual([...order(val)].sort((a, b) => a - b));
  });

  it('is fixed by the seed and does not simply take the last files', () => {
    const all = entries([40, 40]);
    const a = splitPerClass(all, 0.25, 0).val.map((x) => x.path);
    expect(splitPerClass(all, 0.25, 0).val.map((x) => x.path)).toEqual(a);
    expect(splitPerClass(all, 0.25, 1).val.map((x) => x.path)).not.toEqual(a);
    expect(a).not.toEqual(all.filter((e) => Number(/img(\d+)/.exec(e.path)![1]) >= 30).map((e) => e.path));
    expect(() => splitPerClass(all, 1)).toThrow(/fraction must be in \(0, 1\)/);
  });

  it('maps validation class folders onto the train labels by name', async () => {
    const { dir, remove } = tempDir('sere-eval-split-');
    try {
      const put = async (root: string, cls: string, file: string) => {
        await fs.mkdir(path.join(dir, root, cls), { recursive: true });
        await fs.writeFile(path.join(dir, root, cls, file), 'x');
      };
      await put('train', 'ant', 'a.jpg');
      await put('train', 'bee', 'b.jpg');
      await put('train', 'cat', 'c.jpg');
      await put('val', 'cat', 'c1.jpg'); // only some classes: labels must still be the train ones
      const s = await evalSplit({ trainDir: path.join(dir, 'train'), valDir: path.join(dir, 'val') });
      expect(s.classes).toEqual(['ant', 'bee', 'cat']);
      expect(s.val).toEqual([{ path: path.join(dir, 'val', 'cat', 'c1.jpg'), label: 2 }]);
      await put('val', 'dog', 'd.jpg');
      await expect(evalSplit({ trainDir: path.join(dir, 'train'), valDir: path.join(dir, 'val') })).rejects.toThrow(/class folders that .* lacks: dog/);
      await expect(evalSplit({ trainDir: path.join(dir, 'train') })).rejects.toThrow(/no class with two or more images/);
    } finally {
      remove();
    }
  });
});
