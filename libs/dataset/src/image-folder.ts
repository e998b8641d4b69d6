/**
 * ImageNet layout: <root>/<class>/<file>. Class folders sorted by name give labels 0..C-1;
 * files are sorted inside each class, so the index (and with it every epoch's order) is the
 * same on every machine that sees the same tree. Every regular file or symlink is indexed,
 * whatever its extension, and decoding decides what it is: that way a stray README or a
 * mislabelled PNG is counted and reported instead of vanishing from the count silently.
 *
 * Symlinks are followed, to files and folders, inside the root or outside it, but each real
 * file and folder (by its real path) is indexed once, at the first path that reaches it in
 * the index's order. Any other path to it is left out and listed in `repeats`: a link back
 * into a folder being walked (a loop, which would otherwise repeat the tree until the path
 * grew too long) or a second link to a file or folder already indexed (the same image twice,
 * maybe under two labels). A link that leads nowhere (dangling, or a loop of links) is
 * indexed, so decoding reports it as unreadable. Hard links are separate files here.
 */
import { promises as fs, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { DataError } from './errors';

export interface IndexEntry {
  /** Absolute path. */
  path: string;
  label: number;
}

export interface DatasetIndex {
  root: string;
  /** Class folder names; the label is the position. */
  classes: string[];
  entries: IndexEntry[];
  /** Class folders with no files; they keep their label so labels match the reference's. */
  emptyClasses: string[];
  /** Files at the root, outside any class folder: ignored, reported. */
  strayFiles: string[];
  /** Paths left out because they reach a real file or folder indexed already; in path order. */
  repeats: Repeat[];
}

export interface Repeat {
  path: string;
  /** loop: a folder being walked (an ancestor, or the folder itself); duplicate: a file or folder reached before. */
  kind: 'loop' | 'duplicate';
  /** The path the real file or folder was indexed at (the root itself for a loop to the root). */
  sameAs: string;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`dataset folder ${dir} does not exist (expected <root>/<class>/<image>)`);
    if (code === 'ENOTDIR') throw new DataError(`dataset path ${dir} is not a folder (expected <root>/<class>/<image>)`);
    throw new DataError(`cannot list dataset folder ${dir}: ${code ?? (e as Error).message}`);
  }
}

/** Hidden entries (.DS_Store, .git, editors' swap files) are never data. */
const visible = (d: Dirent) => !d.name.startsWith('.');

/** Where a symlink leads, or null when it leads nowhere (dangling, a loop of links, unreadable). */
async function follow(p: string): Promise<{ real: string; dir: boolean } | null> {
  try {
    const real = await fs.realpath(p);
    return { real, dir: (await fs.stat(real)).isDirectory() };
  } catch {
    return null;
  }
}

/** What one index walk has reached: real path → the path it was indexed at. */
class Reached {
  readonly dirs = new Map<string, string>();
  readonly files = new Map<string, string>();
  readonly repeats: Repeat[] = [];
}

/**
 * Files under a class folder, recursively (torchvision walks class folders too), sorted by
 * relative path. `real` is the folder's real path: a plain entry's real path is `real`/name,
 * so only links cost a system call.
 */
async function filesUnder(dir: string, real: string, ancestors: string[], reached: Reached): Promise<string[]> {
  const out: string[] = [];
  const entries = (await listDir(dir)).filter(visible).sort((a, b) => byName(a.name, b.name));
  for (const d of entries) {
    const full = path.join(dir, d.name);
    let target: { real: string; dir: boolean } | null = null;
    if (d.isDirectory()) target = { real: path.join(real, d.name), dir: true };
    else if (d.isFile()) target = { real: path.join(real, d.name), dir: false };
    else if (d.isSymbolicLink()) {
      target = await follow(full);
      if (!target) {
        out.push(full);
        continue;
      }
    } else continue; // sockets, devices, pipes: never images
    if (target.dir) {
      const sub = await walkFolder(full, target.real, ancestors, reached);
      out.push(...sub);
    } else {
      const first = reached.files.get(target.real);
      if (first !== undefined) reached.repeats.push({ path: full, kind: 'duplicate', sameAs: first });
      else {
        reached.files.set(target.real, full);
        out.push(full);
      }
    }
  }
  return out;
}

/** A folder's files, unless the folder is one being walked (a loop) or one walked before. */
async function walkFolder(dir: string, real: string, ancestors: string[], reached: Reached): Promise<string[]> {
  if (ancestors.includes(real)) {
    reached.repeats.push({ path: dir, kind: 'loop', sameAs: reached.dirs.get(real) ?? real });
    return [];
  }
  const first = reached.dirs.get(real);
  if (first !== undefined) {
    reached.repeats.push({ path: dir, kind: 'duplicate', sameAs: first });
    return [];
  }
  reached.dirs.set(real, dir);
  return filesUnder(dir, real, [...ancestors, real], reached);
}

async function isDirectory(p: string, d: Dirent): Promise<boolean> {
  if (d.isDirectory()) return true;
  if (!d.isSymbolicLink()) return false;
  return fs.stat(p).then((s) => s.isDirectory()).catch(() => false);
}

export async function indexImageFolder(dir: string): Promise<DatasetIndex> {
  const root = path.resolve(dir);
  const top = (await listDir(root)).filter(visible);
  const classDirs: string[] = [];
  const strayFiles: string[] = [];
  for (const d of top) {
    const full = path.join(root, d.name);
    if (await isDirectory(full, d)) classDirs.push(d.name);
    else strayFiles.push(full);
  }
  classDirs.sort(byName);
  strayFiles.sort(byName);
  if (classDirs.length === 0) {
    throw new DataError(`dataset folder ${root} has no class folders (expected <root>/<class>/<image>${strayFiles.length ? `; found ${strayFiles.length} files at the top level` : ''})`);
  }
  const entries: IndexEntry[] = [];
  const emptyClasses: string[] = [];
  const realRoot = await fs.realpath(root);
  const reached = new Reached();
  reached.dirs.set(realRoot, root);
  for (let label = 0; label < classDirs.length; label++) {
    const dir = path.join(root, classDirs[label]);
    const real = (await follow(dir))?.real ?? path.join(realRoot, classDirs[label]);
    const files = await walkFolder(dir, real, [realRoot], reached);
    if (files.length === 0) emptyClasses.push(classDirs[label]);
    for (const file of files) entries.push({ path: file, label });
  }
  if (entries.length === 0) {
    throw new DataError(`dataset folder ${root} has ${classDirs.length} class folders but no files in any of them`);
  }
  const repeats = reached.repeats.sort((a, b) => byName(a.path, b.path));
  return { root, classes: classDirs, entries, emptyClasses, strayFiles, repeats };
}
