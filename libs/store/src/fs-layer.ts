/**
 * The few file-system calls the local store makes, behind an interface so tests can inject
 * a full disk or a crash between any two calls without root or a special file system.
 */
import { promises as fsp, type Dirent, type Stats } from 'node:fs';

export interface FileHandleLike {
  writeFile(data: Uint8Array | string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FsLayer {
  open(file: string, flags: 'w' | 'a' | 'r'): Promise<FileHandleLike>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  readFile(file: string): Promise<Buffer>;
  readdir(dir: string): Promise<Dirent[]>;
  mkdir(dir: string): Promise<void>;
  stat(file: string): Promise<Stats>;
  truncate(file: string, length: number): Promise<void>;
}

export const nodeFs: FsLayer = {
  open: (file, flags) => fsp.open(file, flags),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (file) => fsp.unlink(file),
  readFile: (file) => fsp.readFile(file),
  readdir: (dir) => fsp.readdir(dir, { withFileTypes: true }),
  mkdir: async (dir) => {
    await fsp.mkdir(dir, { recursive: true });
  },
  stat: (file) => fsp.stat(file),
  truncate: (file, length) => fsp.truncate(file, length),
};
