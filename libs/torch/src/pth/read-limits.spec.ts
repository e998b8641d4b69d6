/** What a crafted file may make readPth allocate: bounded by the file's own size. */
import { PthError, PthTensor, PthValue, readPth } from './index';
import { pickleBytes, pthWithPickle } from './spec-helpers';

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const str = (s: string): Buffer => Buffer.concat([Buffer.from('X'), u32(Buffer.byteLength(s)), Buffer.from(s)]);
const int = (n: number): Buffer => Buffer.concat([Buffer.from([0x4a]), u32(n)]); // BININT
const tuple = (xs: number[]): Buffer => pickleBytes('(', ...xs.map(int), 't');

/** One float32 tensor view, on storage 0 of `numel` elements. */
function view(numel: number, size: number[], stride: number[]): Buffer {
  return pickleBytes(
    'ctorch._utils\n_rebuild_tensor_v2\n', '(',
    '(', str('storage'), 'ctorch\nFloatStorage\n', str('0'), str('cpu'), int(numel), 't', 'Q',
    int(0), tuple(size), tuple(stride), 0x89, 'ccollections\nOrderedDict\n', ')', 'R', 't', 'R',
  );
}

/** A protocol-2 list of views, all on one storage of `numel` float32 elements. */
function file(numel: number, views: Buffer[]): Buffer {
  return pthWithPickle(pickleBytes(0x80, 2, ']', '(', ...views, 'e', '.'), [Buffer.alloc(4 * numel)]);
}

const read = (f: Buffer): PthValue => readPth(f, 'crafted.pth');

describe('readPth bounds what strided views may make it allocate', () => {
  it('refuses a stride-0 view of one element expanded far beyond the file', () => {
    const small = file(1, [view(1, [2048, 2048], [0, 0])]); // 16 MiB from a ~600-byte file
    expect(small.length).toBeLessThan(1024);
    expect(() => read(small)).toThrow(PthError);
    expect(() => read(small)).toThrow(
      new RegExp(
        "^crafted\\.pth: archive/data\\.pkl: tensor on storage '0': tensor of size \\[2048, 2048\\] with stride \\[0, 0\\]: " +
          `gathering it needs 16777216 bytes, more than a ${small.length}-byte file may expand to`,
      ),
    );
    // The review's case: 1.35 GB from a file this size is refused before anything is allocated.
    expect(() => read(file(1, [view(1, [32768, 10300], [0, 0])]))).toThrow(/gathering it needs 1350041600 bytes/);
  });

  it('counts every gathered view: many transposes of one storage cannot add up past the bound', () => {
    const n = 128;
    const transpose = view(n * n, [n, n], [1, n]); // 64 KiB each, the file is about 66 KiB
    const one = file(n * n, [transpose]);
    expect((read(one) as PthTensor[])[0].data).toHaveLength(4 * n * n);
    const many = file(n * n, Array.from({ length: 40 }, () => transpose));
    expect(() => read(many)).toThrow(/gathering it needs 65536 bytes after \d+ for earlier views, more than a \d+-byte file may expand to/);
  });

  it('still reads small expanded views and contiguous views of any size', () => {
    const expanded = read(file(3, [view(3, [4, 3], [0, 1])])) as PthTensor[];
    expect(Array.from(new Float32Array(new Uint8Array(expanded[0].data).buffer))).toHaveLength(12);
    // Contiguous views are slices of the file: a hundred of them over one storage copy nothing.
    const n = 1 << 16;
    const slices = read(file(n, Array.from({ length: 100 }, () => view(n, [n], [1])))) as PthTensor[];
    expect(slices).toHaveLength(100);
    expect(slices[99].data.length).toBe(4 * n);
  });
});
