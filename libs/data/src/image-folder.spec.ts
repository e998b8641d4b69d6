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
