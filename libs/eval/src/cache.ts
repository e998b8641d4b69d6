/**
 * On-disk cache of extracted features, so evaluating the same checkpoint again (another k,
 * another probe schedule) skips the backbone entirely.
 *
 * The key is a SHA-256 over everything that changes the numbers: the backbone's parameter
 * values (not its file name: the same teacher saved twice hits), the transform, the feature
 * layout, the view seed and index, and the image list with each file's size and mtime.
 *
 * File format (little-endian): "SEREFEAT", u32 version, u32 header length, a UTF-8 JSON
 * header {key, arrays: [{name, type, length}], meta}, zero padding to a multiple of 4, then
 * each array's raw values in header order. Written to a temporary name and renamed, so a
 * crash never leaves a half-written file under a valid name; a file that does not parse or
 * whose key differs is a miss, and is overwritten.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as T from '@sere/torch';

const MAGIC = 'SEREFEAT';
const VERSION = 1;

type StoredArray = Float32Array | Int32Array;

export interface CacheEntry {
  arrays: Record<string, StoredArray>;
  meta: Record<string, unknown>;
}

export class FeatureCache {
  constructor(readonly dir: string) {}

  fileFor(key: string): string {
    return path.join(this.dir, `${key.slice(0, 40)}.feat`);
  }

  async get(key: string): Promise<CacheEntry | null> {
    let buf: Buffer;
    try {
      buf = await fs.readFile(this.fileFor(key));
    } catch {
      return null;
    }
    return decodeEntry(buf, key);
  }

  async put(key: string, entry: CacheEntry): Promise<string> {
    await fs.mkdir(this.dir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`feature cache: cannot create ${this.dir} (${e.code ?? e.message})`);
    });
    const file = this.fileFor(key);
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, encodeEntry(key, entry));
    await fs.rename(tmp, file);
    return file;
  }
}

function encodeEntry(key: string, entry: CacheEntry): Buffer {
  const names = Object.keys(entry.arrays);
  const arrays = names.map((name) => {
    const a = entry.arrays[name];
    return { name, type: a instanceof Float32Array ? 'float32' : 'int32', length: a.length };
  });
  const header = Buffer.from(JSON.stringify({ key, arrays, meta: entry.meta }), 'utf8');
  const head = 16 + header.length;
  const pad = (4 - (head % 4)) % 4;
  const parts: Buffer[] = [Buffer.from(MAGIC, 'latin1'), u32(VERSION), u32(header.length), header, Buffer.alloc(pad)];
  for (const name of names) {
    const a = entry.arrays[name];
    parts.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  }
  return Buffer.concat(parts);
}

function decodeEntry(buf: Buffer, key: string): CacheEntry | null {
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== MAGIC || buf.readUInt32LE(8) !== VERSION) return null;
  const headerLength = buf.readUInt32LE(12);
  if (16 + headerLength > buf.length) return null;
  let header: { key: string; arrays: { name: string; type: string; length: number }[]; meta: Record<string, unknown> };
  try {
    header = JSON.parse(buf.toString('utf8', 16, 16 + headerLength));
  } catch {
    return null;
  }
  if (header.key !== key) return null;
  let offset = 16 + headerLength;
  offset += (4 - (offset % 4)) % 4;
  const arrays: Record<string, StoredArray> = {};
  for (const a of header.arrays) {
    const bytes = a.length * 4;
    if (offset + bytes > buf.length) return null;
    // Copy out so the arrays are aligned and independent of the file buffer.
    const slice = buf.subarray(offset, offset + bytes);
    const copy = new ArrayBuffer(bytes);
    new Uint8Array(copy).set(slice);
    arrays[a.name] = a.type === 'float32' ? new Float32Array(copy) : new Int32Array(copy);
    offset += bytes;
  }
  if (offset !== buf.length) return null;
  return { arrays, meta: header.meta };
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

/** SHA-256 over a JSON-able description; the cache key of one extraction. */
export function cacheKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify({ format: VERSION, ...parts })).digest('hex');
}

/**
 * Fingerprint of a parameter set: names, dtypes, shapes and values (any device). Hashing
 * ViT-S's 22 M parameters takes well under a second, small next to extracting features.
 */
export function paramsFingerprint(state: Map<string, T.Tensor>, extra: unknown = null): string {
  const h = createHash('sha256').update(JSON.stringify(extra));
  for (const name of [...state.keys()].sort()) {
    const t = state.get(name)!;
    h.update(`${name}|${t.dtype}|${t.shape.join('x')}|`);
    const data = t.data();
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return h.digest('hex');
}

/** Fingerprint of an image list: each path, label, file size and modification time. */
export async function itemsFingerprint(items: readonly { path: string; label: number }[]): Promise<string> {
  const h = createHash('sha256');
  for (const it of items) {
    const st = await fs.stat(it.path).catch(() => null);
    h.update(`${it.path}\t${it.label}\t${st ? st.size : -1}\t${st ? st.mtimeMs : -1}\n`);
  }
  return h.digest('hex');
}
