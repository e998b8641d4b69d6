/** readPth / writePth without Python: round trips, hand-made hostile pickles, writer validation. */
import { PthDict, PthError, PthTensor, PthValue, readPth, writePth } from './index';
import { describe as describeValue, float32Tensor, pickleBytes, pthWithPickle, randomTensor, seeded } from './spec-helpers';
import { ZipArchive } from './zip-read';
import { writeZip } from './zip-write';

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const str = (s: string): Buffer => Buffer.concat([Buffer.from('X'), u32(Buffer.byteLength(s)), Buffer.from(s)]);
const int1 = (n: number): Buffer => Buffer.from([0x4b, n]);
const tuple = (xs: number[]): Buffer => pickleBytes('(', ...xs.map(int1), 't');

/** A protocol-2 pickle of one float32 tensor with the given view parameters. */
function tensorPickle(numel: number, offset: number, size: number[], stride: number[]): Buffer {
  return pickleBytes(
    0x80, 2, 'ctorch._utils\n_rebuild_tensor_v2\n', '(',
    '(', str('storage'), 'ctorch\nFloatStorage\n', str('0'), str('cpu'), int1(numel), 't', 'Q',
    int1(offset), tuple(size), tuple(stride), 0x89, 'ccollections\nOrderedDict\n', ')', 'R', 't', 'R', '.',
  );
}

const read = (pkl: Buffer, storages?: Buffer[]): PthValue => readPth(pthWithPickle(pkl, storages), 'crafted.pth');

describe('round trip through writePth and readPth', () => {
  it('keeps every value, dict order and number', () => {
    const rng = seeded(3);
    const value: PthValue = {
      dtypes: Object.fromEntries(
        (['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'] as const).map((d) => [
          d,
          randomTensor(rng, d, [2, 3]),
        ]),
      ),
      ints: [0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 31, 2 ** 53 - 1, -(2 ** 53 - 1), 2n ** 53n, -(2n ** 63n), 2n ** 2100n],
      floats: [0.5, -0, NaN, Infinity, -Infinity, 1e-300, 1.5e300],
      text: ['', 'plain', 'naïve ✓ 🙂'],
      order: new Map<string, PthValue>([['b', 1], ['10', 2], ['2', 3], ['a', 4]]),
      keys: new Map<number | bigint | boolean | null, PthValue>([[3, 'three'], [-1n, 'minus'], [true, 't'], [null, 'none']]),
      bytes: Buffer.from([0, 128, 255]),
      nothing: null,
    };
    const back = readPth(writePth(value));
    expect(describeValue(back)).toEqual(describeValue(value));
    expect(Object.is(((back as PthDict).floats as number[])[1], -0)).toBe(true);
  });

  it('gives contiguous tensors as views of the file', () => {
    const file = writePth({ w: float32Tensor(seeded(1), [64]) });
    const w = (readPth(file) as Record<string, PthTensor>).w;
    expect(w.data.buffer).toBe(file.buffer);
    // Aligned within the file (the file itself may sit anywhere in Node's buffer pool).
    expect((w.data.byteOffset - file.byteOffset) % 64).toBe(0);
  });

  it('is byte-for-byte reproducible', () => {
    const value = { w: float32Tensor(seeded(2), [3, 3]), step: 4 };
    expect(writePth(value).equals(writePth(value))).toBe(true);
  });
});

describe('readPth refuses hostile or malformed pickles', () => {
  it.each([
    ['GLOBAL', pickleBytes(0x80, 2, 'cbuiltins\neval\n', '.'), /global 'builtins\.eval' is not allowed/],
    ['STACK_GLOBAL', pickleBytes(0x80, 4, 0x8c, 2, 'os', 0x8c, 6, 'system', 0x93, '.'), /global 'os\.system' is not allowed/],
    ['INST', pickleBytes('(', 'ios\nsystem\n', '.'), /global 'os\.system' is not allowed/],
    ['numpy', pickleBytes(0x80, 2, 'cnumpy.core.multiarray\nscalar\n', '.'), /numpy.* convert numpy values/],
    ['legacy storages', pickleBytes(0x80, 2, 'ctorch.storage\n_load_from_bytes\n', '.'), /_use_new_zipfile_serialization=True/],
    ['EXT1', pickleBytes(0x80, 2, 0x82, 1, '.'), /extension-registry/],
    ['stack underflow', pickleBytes(0x80, 2, 0x86, '.'), /byte 2: stack underflow/],
    ['missing STOP', pickleBytes(0x80, 2, 'N'), /without STOP/],
    ['memo miss', pickleBytes(0x80, 2, 'h', 5, '.'), /memo key 5 was never stored/],
    ['unknown opcode', pickleBytes(0x80, 2, 0xff, '.'), /unknown pickle opcode 0xff/],
    ['new protocol', pickleBytes(0x80, 6, 'N.'), /protocol 6/],
    ['cut string', pickleBytes(0x80, 2, 'X', u32(100), 'abc'), /truncated data\.pkl/],
    ['negative length', pickleBytes(0x80, 2, 0x8b, Buffer.from([0xff, 0xff, 0xff, 0xff]), '.'), /truncated/],
    ['NEWOBJ_EX kwargs', pickleBytes(0x80, 4, 'cargparse\nNamespace\n', ')', '}', str('a'), 'N', 's', 0x92, '.'), /keyword arguments/],
    ['call a storage class', pickleBytes(0x80, 2, 'ctorch\nFloatStorage\n', ')', 'R', '.'), /cannot call torch\.FloatStorage/],
    ['bare storage', pickleBytes(0x80, 2, '(', str('storage'), 'ctorch\nFloatStorage\n', str('0'), str('cpu'), int1(1), 't', 'Q', '.'), /bare storage/],
    ['unhashable key', pickleBytes(0x80, 2, '}', ']', 'N', 's', '.'), /dict key of type list/],
  ])('%s', (_name, pkl, message) => {
    expect(() => read(pkl, [Buffer.alloc(4)])).toThrow(PthError);
    expect(() => read(pkl, [Buffer.alloc(4)])).toThrow(message);
  });

  it('names the file and the record', () => {
    expect(() => read(pickleBytes(0x80, 2, 0x86, '.'))).toThrow('crafted.pth: archive/data.pkl: byte 2: stack underflow');
  });

  it('keeps __proto__ and array-index keys as Map entries without touching Object.prototype', () => {
    const v = read(pickleBytes(0x80, 2, '}', '(', str('__proto__'), str('polluted'), str('10'), 'K', 1, str('2'), 'K', 2, 'u', '.'));
    expect(v).toBeInstanceOf(Map);
    expect([...(v as Map<string, PthValue>).keys()]).toEqual(['__proto__', '10', '2']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('decodes LONG1 / LONG4 integers of any size and sign', () => {
    const long1 = (...b: number[]): Buffer => Buffer.from([0x8a, b.length, ...b]);
    const v = read(
      pickleBytes(0x80, 2, ']', '(', long1(), long1(0xff), long1(0xff, 0x00), long1(0x00, 0xff),
        long1(0, 0, 0, 0, 0, 0, 0, 0x80, 0), long1(0, 0, 0, 0, 0, 0, 0, 0x80),
        0x8b, u32(10), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0]), 'e', '.'),
    );
    expect(v).toEqual([0, -1, 255, -256, 2n ** 63n, -(2n ** 63n), 2n ** 70n]);
  });

  it('reads the text opcodes of protocol 0', () => {
    // pickle.dumps([1, 2.5, float('inf'), True, 10**20, -3, 'é'], protocol=0)
    const pkl = pickleBytes('(lp0\nI1\naF2.5\naFinf\naI01\naL100000000000000000000L\naI-3\naV\xe9\np1\na.');
    expect(read(pkl)).toEqual([1, 2.5, Infinity, true, 10n ** 20n, -3, 'é']);
  });

  it('limits nesting depth', () => {
    const depth = 1500;
    const v = pickleBytes(0x80, 2, ']'.repeat(depth), 'a'.repeat(depth - 1), '.');
    expect(() => read(v)).toThrow(/nested deeper than 1000/);
  });

  it('reads argparse.Namespace in the protocol-1 copyreg form', () => {
    const pkl = pickleBytes('ccopy_reg\n_reconstructor\n', '(', 'cargparse\nNamespace\n', 'c__builtin__\nobject\n', 'N', 't', 'R',
      '}', '(', str('arch'), str('vit_small'), str('seed'), 'K', 0, 'u', 'b', '.');
    expect(read(pkl)).toEqual({ arch: 'vit_small', seed: 0 });
  });

  it('reads tensors wrapped in _rebuild_from_type_v2 only for torch.Tensor and Parameter', () => {
    const wrapped = (type: string): Buffer =>
      pickleBytes(0x80, 2, 'ctorch._tensor\n_rebuild_from_type_v2\n', '(', 'ctorch._utils\n_rebuild_tensor_v2\n', `c${type}\n`,
        '(', '(', str('storage'), 'ctorch\nFloatStorage\n', str('0'), str('cpu'), int1(2), 't', 'Q',
        int1(0), tuple([2]), tuple([1]), 0x89, 'ccollections\nOrderedDict\n', ')', 'R', 't', '}', 't', 'R', '.');
    expect(read(wrapped('torch\nTensor'), [Buffer.alloc(8)])).toMatchObject({ dtype: 'float32', shape: [2] });
    expect(() => read(wrapped('__main__\nTagged'), [Buffer.alloc(8)])).toThrow(/global '__main__\.Tagged' is not allowed/);
  });

  it('checks storage sizes and view extents', () => {
    expect(read(tensorPickle(4, 0, [2, 2], [2, 1]), [Buffer.alloc(16)])).toMatchObject({ shape: [2, 2] });
    expect(() => read(tensorPickle(4, 0, [2, 2], [2, 1]), [Buffer.alloc(8)])).toThrow(
      "storage 'data/0' has 8 bytes, but the pickle declares 4 float32 elements (16 bytes)",
    );
    expect(() => read(tensorPickle(3, 0, [2, 2], [2, 1]), [Buffer.alloc(12)])).toThrow(/reads element 3, but its storage holds 3/);
    expect(() => read(tensorPickle(4, 1, [2, 2], [2, 1]), [Buffer.alloc(16)])).toThrow(/reads element 4/);
    expect(() => read(tensorPickle(4, 0, [2, 2], [2, 1]))).toThrow("storage record 'archive/data/0' is missing");
  });

  it('refuses big-endian files and TorchScript archives', () => {
    const pkl = { name: 'archive/data.pkl', data: pickleBytes(0x80, 2, 'N.') };
    expect(() => readPth(writeZip([pkl, { name: 'archive/byteorder', data: Buffer.from('big') }]), 'be.pth')).toThrow(
      "be.pth: byte order 'big' is not supported",
    );
    const jit = writeZip([{ name: 'model/constants.pkl', data: pickleBytes(0x80, 2, 'N.') }]);
    expect(() => readPth(jit, 'jit.pt')).toThrow(/TorchScript archive/);
  });

  it('reports a storage record cut short inside a valid zip', () => {
    const file = writePth({ w: float32Tensor(seeded(5), [10]) });
    const zip = new ZipArchive(file, 'ok.pth');
    const records = zip.names().map((name) => ({ name, data: zip.read(name) }));
    const cut = records.map((r) => (r.name === 'archive/data/0' ? { ...r, data: r.data.subarray(0, 12) } : r));
    expect(() => readPth(writeZip(cut), 'short.pth')).toThrow(
      "short.pth: archive/data.pkl: storage 'data/0' has 12 bytes, but the pickle declares 10 float32 elements (40 bytes)",
    );
  });
});

describe('writePth refuses values it cannot represent, naming where they are', () => {
  const t = (over: Partial<PthTensor>): PthTensor => ({ dtype: 'float32', shape: [2], data: Buffer.alloc(8), ...over });
  it.each<[string, unknown, RegExp]>([
    ['short data', { a: { b: t({ data: Buffer.alloc(7) }) } }, /value\["a"\]\["b"\]: tensor data has 7 bytes; shape \[2\] of float32 needs 8/],
    ['bad shape', { w: t({ shape: [-2] }) }, /tensor shape \[-2\]/],
    ['grad on ints', { w: t({ dtype: 'int32', requiresGrad: true }) }, /int32 tensor cannot require grad/],
    ['undefined', { a: [1, undefined] }, /value\["a"\]\[1\]: cannot write a value of type undefined/],
    ['class instance', { when: new Date(0) }, /cannot write a Date/],
    ['object key', new Map([[{}, 1]]), /dict key of type object/],
  ])('%s', (_name, value, message) => {
    expect(() => writePth(value as PthValue)).toThrow(PthError);
    expect(() => writePth(value as PthValue)).toThrow(message);
  });

  it('refuses cycles', () => {
    const a: PthValue[] = [];
    a.push(a);
    expect(() => writePth(a)).toThrow(/value\[0\]: value contains itself/);
  });
});
