/**
 * ImageNet layout: <root>/<class>/<file>. Class folders sorted by name give labels 0..C-1;
 * files are sorted inside each class, so the index (and with it every epoch's order) is the
 * same on every machine that sees the same tree. Every regular file or symlink is indexed,
 * whatever its extension, and decoding decides what it is: that way a stray README or a
 * mislabelled PNG is counted and reported instead of vanishing from the count silently.
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

async function isDirectory(p: string, d: Dirent): Promise<boolean> {
  if (d.isDirectory()) return true;
  if (!d.isSymbolicLink()) return false;
  return fs.stat(p).then((s) => s.isDirectory()).catch(() => false);
}

/** Files under a class folder, recursively (torchvision walks class folders too), sorted by relative path. */
async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = (await listDir(path.join(dir, rel))).filter(visible).sort((a, b) => byName(a.name, b.name));
  for (const d of entries) {
    const relPath = rel ? path.join(rel, d.name) : d.name;
    const full = path.join(dir, relPath);
    if (await isDirectory(full, d)) out.push(...(await filesUnder(dir, relPath)));
    else if (d.isFile() || d.isSymbolicLink()) out.push(full);
  }
  return out;
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
  for (let label = 0; label < classDirs.length; label++) {
    const files = await filesUnder(path.join(root, classDirs[label]));
    if (files.length === 0) emptyClasses.push(classDirs[label]);
    for (const file of files) entries.push({ path: file, label });
  }
  if (entries.length === 0) {
    throw new DataError(`dataset folder ${root} has ${classDirs.length} class folders but no files in any of them`);
  }
  return { root, classes: classDirs, entries, emptyClasses, strayFiles };
}
