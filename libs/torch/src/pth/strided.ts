/**
 * Turns a (storage, offset, size, stride) view into contiguous row-major bytes. Contiguous views
 * come back as slices of the storage (no copy); others are gathered in contiguous runs with
 * Buffer.copy, or element-wise through integer typed arrays when the innermost stride is not 1
 * (integer words, so NaN payloads and signed zeros are moved bit-exactly). What a read copies
 * is bounded by the size of its file (GatherAllowance).
 */

interface Dim {
  size: number;
  stride: number;
}

/** What a read may gather beyond its file: twice the file (views sharing storages) plus 1 MiB. */
const GATHER_FACTOR = 2;
const GATHER_SLACK = 1 << 20;

/**
 * Bytes one read may copy into new buffers. A view costs a few dozen pickle bytes whatever its
 * size, and with stride 0 (an expand) or many views of one storage, a file of a few hundred
 * bytes could otherwise make the reader allocate gigabytes before anyone looks at a key or a
 * shape. Contiguous views are slices of the file and cost nothing.
 */
export class GatherAllowance {
  private used = 0;

  constructor(readonly fileBytes: number) {}

  get bytes(): number {
    return GATHER_FACTOR * this.fileBytes + GATHER_SLACK;
  }

  take(n: number, fail: (detail: string) => never): void {
    if (this.used + n > this.bytes) {
      fail(
        `gathering it needs ${n} bytes${this.used ? ` after ${this.used} for earlier views` : ''}, more than a ` +
          `${this.fileBytes}-byte file may expand to (${this.bytes} bytes: ${GATHER_FACTOR} × the file + 1 MiB)`,
      );
    }
    this.used += n;
  }
}

export function materialize(
  storage: Buffer,
  itemSize: number,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
  fail: (detail: string) => never,
  allowance?: GatherAllowance,
): Buffer {
  let numel = 1;
  for (const s of size) numel *= s;
  if (numel === 0) return Buffer.alloc(0);
  let last = offset;
  for (let i = 0; i < size.length; i++) last += (size[i] - 1) * stride[i];
  const storageNumel = Math.floor(storage.length / itemSize);
  if (last >= storageNumel) {
    fail(`tensor of size [${size.join(', ')}] at offset ${offset} with stride [${stride.join(', ')}] reads element ${last}, but its storage holds ${storageNumel}`);
  }

  const dims = collapse(size, stride);
  if (dims.length === 0 || (dims.length === 1 && dims[0].stride === 1)) {
    return storage.subarray(offset * itemSize, (offset + numel) * itemSize);
  }
  allowance?.take(numel * itemSize, (d) => fail(`tensor of size [${size.join(', ')}] with stride [${stride.join(', ')}]: ${d}`));
  const inner = dims[dims.length - 1];
  if (inner.stride === 1) return copyRuns(storage, itemSize, offset, dims.slice(0, -1), inner.size, numel);
  return gatherElements(storage, itemSize, offset, dims, numel);
}

/** Drops size-1 dims and merges neighbours that are laid out back to back. */
function collapse(size: readonly number[], stride: readonly number[]): Dim[] {
  const dims: Dim[] = [];
  for (let i = size.length - 1; i >= 0; i--) {
    if (size[i] === 1) continue;
    const inner = dims[0];
    if (inner && stride[i] === inner.size * inner.stride) inner.size *= size[i];
    else dims.unshift({ size: size[i], stride: stride[i] });
  }
  return dims;
}

/** Visits every index of `outer` (row-major), passing the element offset of each. */
function forEachOffset(outer: readonly Dim[], start: number, visit: (base: number) => void): void {
  const counts = new Array<number>(outer.length).fill(0);
  let base = start;
  for (;;) {
    visit(base);
    let d = outer.length - 1;
    for (; d >= 0; d--) {
      base += outer[d].stride;
      if (++counts[d] < outer[d].size) break;
      base -= outer[d].stride * outer[d].size;
      counts[d] = 0;
    }
    if (d < 0) return;
  }
}

function copyRuns(storage: Buffer, itemSize: number, offset: number, outer: Dim[], run: number, numel: number): Buffer {
  const out = Buffer.allocUnsafe(numel * itemSize);
  const runBytes = run * itemSize;
  let dst = 0;
  forEachOffset(outer, offset, (base) => {
    storage.copy(out, dst, base * itemSize, base * itemSize + runBytes);
    dst += runBytes;
  });
  return out;
}

type Words = Uint8Array | Uint16Array | Uint32Array;

function wordsOf(buf: Uint8Array, wordBytes: number): Words {
  if (buf.byteOffset % wordBytes !== 0) buf = new Uint8Array(buf);
  const n = buf.byteLength / wordBytes;
  if (wordBytes === 4) return new Uint32Array(buf.buffer, buf.byteOffset, n);
  if (wordBytes === 2) return new Uint16Array(buf.buffer, buf.byteOffset, n);
  return new Uint8Array(buf.buffer, buf.byteOffset, n);
}

function gatherElements(storage: Buffer, itemSize: number, offset: number, dims: Dim[], numel: number): Buffer {
  const wordBytes = Math.min(itemSize, 4);
  const w = itemSize / wordBytes;
  const usable = storage.subarray(0, storage.length - (storage.length % itemSize));
  const src = wordsOf(usable, wordBytes);
  const out = Buffer.from(new ArrayBuffer(numel * itemSize));
  const dst = wordsOf(out, wordBytes);
  const inner = dims[dims.length - 1];
  const step = inner.stride * w;
  let d = 0;
  forEachOffset(dims.slice(0, -1), offset, (base) => {
    let s = base * w;
    for (let j = 0; j < inner.size; j++, s += step) {
      for (let q = 0; q < w; q++) dst[d++] = src[s + q];
    }
  });
  return out;
}
