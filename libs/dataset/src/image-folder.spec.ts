import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { indexImageFolder } from './image-folder';

async function tree(files: Record<string, string | null>): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-index-'));
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(root, rel);
    if (content === null) await fs.mkdir(full, { recursive: true });
    else {
      await fs.mkdir(path.dirname(full), { recursive: true });
      await fs.writeFile(full, content);
    }
  }
  return root;
}

describe('indexImageFolder', () => {
  it('labels sorted class folders and lists their files sorted, nested ones included', async () => {
    const root = await tree({
      'zebra/b.jpg': 'x',
      'zebra/a.jpg': 'x',
      'ant/sub/c.jpg': 'x',
      'ant/B.jpg': 'x',
      'ant/.DS_Store': 'x',
      'moth/': null,
      'README.txt': 'x',
    });
    const idx = await indexImageFolder(root);
    expect(idx.classes).toEqual(['ant', 'moth', 'zebra']);
    expect(idx.entries.map((e) => [path.relative(root, e.path), e.label])).toEqual([
      ['ant/B.jpg', 0],
      ['ant/sub/c.jpg', 0],
      ['zebra/a.jpg', 2],
      ['zebra/b.jpg', 2],
    ]);
    expect(idx.emptyClasses).toEqual(['moth']);
    expect(idx.strayFiles).toEqual([path.join(root, 'README.txt')]);
  });

  it('indexes a dangling symlink so decoding can report it as unreadable', async () => {
    const root = await tree({ 'a/x.jpg': 'x' });
    await fs.symlink(path.join(root, 'nowhere.jpg'), path.join(root, 'a/y.jpg'));
    const idx = await indexImageFolder(root);
    expect(idx.entries.map((e) => path.basename(e.path))).toEqual(['x.jpg', 'y.jpg']);
  });

  it('indexes each real file once: a symlink loop is cut, a second link to a file or folder is left out and listed', async () => {
    const root = await tree({ 'a/x.jpg': 'x', 'b/y.jpg': 'y' });
    await fs.symlink('..', path.join(root, 'a/up')); // a loop back to the root
    await fs.symlink('.', path.join(root, 'b/self')); // a loop onto its own folder
    await fs.symlink(path.join(root, 'a'), path.join(root, 'b/again')); // the same folder a second time
    await fs.symlink('y.jpg', path.join(root, 'b/z.jpg')); // the same file a second time
    const idx = await indexImageFolder(root);
    expect(idx.entries.map((e) => [path.relative(root, e.path), e.label])).toEqual([
      ['a/x.jpg', 0],
      ['b/y.jpg', 1],
    ]);
    expect(idx.repeats.map((r) => [path.relative(root, r.path), r.kind, path.relative(root, r.sameAs)])).toEqual([
      ['a/up', 'loop', ''],
      ['b/again', 'duplicate', 'a'],
      ['b/self', 'loop', 'b'],
      ['b/z.jpg', 'duplicate', 'b/y.jpg'],
    ]);
  });

  it('keeps following symlinks to files and folders, inside the root or outside it, that reach nothing twice', async () => {
    const outside = await tree({ 'far/o.jpg': 'o', 'lone.jpg': 'l', 'cls/k.jpg': 'k' });
    const root = await tree({ 'a/x.jpg': 'x' });
    await fs.symlink(path.join(outside, 'far'), path.join(root, 'a/far'));
    await fs.symlink(path.join(outside, 'lone.jpg'), path.join(root, 'a/lone.jpg'));
    await fs.symlink(path.join(outside, 'cls'), path.join(root, 'linked')); // a class folder that is a link
    const idx = await indexImageFolder(root);
    expect(idx.classes).toEqual(['a', 'linked']);
    expect(idx.entries.map((e) => path.relative(root, e.path))).toEqual(['a/far/o.jpg', 'a/lone.jpg', 'a/x.jpg', 'linked/k.jpg']);
    expect(idx.repeats).toEqual([]);
  });

  it('names the path when the folder is missing, not a folder, or holds nothing', async () => {
    await expect(indexImageFolder('/nonexistent/sere-data')).rejects.toThrow('dataset folder /nonexistent/sere-data does not exist');
    const file = path.join(await tree({ 'f.txt': 'x' }), 'f.txt');
    await expect(indexImageFolder(file)).rejects.toThrow(`dataset path ${file} is not a folder`);
    const flat = await tree({ 'a.jpg': 'x' });
    await expect(indexImageFolder(flat)).rejects.toThrow(`dataset folder ${flat} has no class folders`);
    const hollow = await tree({ 'a/': null, 'b/': null });
    await expect(indexImageFolder(hollow)).rejects.toThrow(`dataset folder ${hollow} has 2 class folders but no files`);
  });
});
