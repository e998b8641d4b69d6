/**
 * Interop with real PyTorch (Debian's /usr/bin/python3 + torch 1.13): files we write load with
 * torch.load, files torch.save writes read here, byte for byte. One Python run serves all cases.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PthDict, PthError, PthTensor, PthValue, readPth, readPthFile, writePth } from './index';
import { describe as describeValue, float32Tensor, randomTensor, runTorchReference, seeded, tempDir } from './spec-helpers';

const rng = seeded(20240611);
const tied = float32Tensor(rng, [3]);

const tsValues: PthValue = {
  tensors: {
    f32: randomTensor(rng, 'float32', [2, 3]),
    f64: randomTensor(rng, 'float64', [4]),
    f16: randomTensor(rng, 'float16', [3, 1, 2]),
    bf16: randomTensor(rng, 'bfloat16', [5]),
    i64: randomTensor(rng, 'int64', [2, 2]),
    i32: randomTensor(rng, 'int32', [3]),
    i16: randomTensor(rng, 'int16', [2, 1]),
    i8: randomTensor(rng, 'int8', [4]),
    u8: randomTensor(rng, 'uint8', [2, 2, 2]),
    bool: randomTensor(rng, 'bool', [7]),
    scalar: randomTensor(rng, 'float32', []),
    empty: randomTensor(rng, 'float32', [0]),
    empty3d: randomTensor(rng, 'int64', [3, 0, 2]),
    ones: randomTensor(rng, 'float64', [1, 1, 1]),
    grad: { ...float32Tensor(rng, [2]), requiresGrad: true },
  },
  tied: { a: tied, b: tied },
  epoch: 12,
  lr: 0.000375,
  big: 2n ** 64n + 1n,
  negative: -7,
  name: 'vit_small ✓',
  flags: [true, false, null],
  nested: { a: [1, [2.5, 'x']], empty: {}, emptyList: [] },
  raw: Buffer.from([0, 1, 254, 255]),
  byIndex: new Map<number, PthValue>([
    [0, 'zero'],
    [1, randomTensor(rng, 'uint8', [2])],
  ]),
};

/** Matches the Tiny module in torch_reference.py, in state_dict() order (own parameters, buffers, children). */
const tsStateDict: PthDict = {
  pos_embed: float32Tensor(rng, [1, 3, 4]),
  centre: float32Tensor(rng, [1, 5]),
  'proj.weight': float32Tensor(rng, [5, 4]),
  'proj.bias': float32Tensor(rng, [5]),
  'norm.weight': float32Tensor(rng, [5]),
  'norm.bias': float32Tensor(rng, [5]),
};

let dir: string;
let report: { errors: Record<string, string>; [k: string]: unknown };

const json = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
const file = (name: string): string => path.join(dir, name);
const noPythonError = (job: string): void => expect(report.errors[job] ?? 'ok').toBe('ok');

beforeAll(() => {
  dir = tempDir('pth-interop-');
  fs.writeFileSync(file('ts_values.pth'), writePth(tsValues));
  fs.writeFileSync(file('ts_state_dict.pth'), writePth(tsStateDict));
  report = runTorchReference(dir);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('files we write, read by torch.load', () => {
  it('reproduce every dtype, shape and value exactly', () => {
    noPythonError('read_ts_values');
    expect(json('py_view_of_ts_values.json')).toEqual(describeValue(tsValues));
  });

  it('write tensor-only dicts and Maps as OrderedDict, other dicts as dict', () => {
    expect(report.ts_values_types).toMatchObject({ tensors: 'OrderedDict', nested: 'dict', byIndex: 'OrderedDict', raw: 'bytes' });
  });

  it('store tensors that share a Buffer once', () => {
    expect(report.ts_tied_shares_storage).toBe(true);
  });

  it('load as an OrderedDict state dict with load_state_dict(strict=True), also with weights_only', () => {
    noPythonError('load_ts_state_dict');
    expect(report.ts_state_dict_type).toBe('collections.OrderedDict');
    expect(json('py_view_of_ts_state_dict.json')).toEqual(describeValue(tsStateDict));
    expect(report.ts_state_dict_weights_only).toBe(true);
  });

  it('come back unchanged after torch.load + torch.save (TS -> Python -> TS)', () => {
    noPythonError('read_ts_values');
    expect(describeValue(readPthFile(file('py_resaved.pth')))).toEqual(describeValue(tsValues));
  });
});

describe('files torch.save writes, read by readPth', () => {
  beforeAll(() => noPythonError('save_references'));

  it.each(['state_dict', 'checkpoint', 'misc', 'views', 'floats16'])('py_%s.pth matches what Python saved', (name) => {
    expect(describeValue(readPthFile(file(`py_${name}.pth`)))).toEqual(json(`py_${name}.json`));
  });

  it.each([
    ['py_checkpoint_proto4.pth', 'py_checkpoint.json'],
    ['py_misc_proto5.pth', 'py_misc.json'],
    ['py_state_dict_deflated.pth', 'py_state_dict.json'],
  ])('%s (other pickle protocols, deflated records) matches too', (pth, expected) => {
    expect(describeValue(readPthFile(file(pth)))).toEqual(json(expected));
  });

  it('gives a training checkpoint as plain data: Namespace as an object, int-keyed dicts as Maps', () => {
    const ckpt = readPthFile(file('py_checkpoint.pth')) as PthDict;
    expect(Object.keys(ckpt)).toEqual(['student', 'teacher', 'optimizer', 'epoch', 'args', 'ibot_loss', 'fp16_scaler']);
    expect(ckpt.epoch).toBe(7);
    const args = ckpt.args as PthDict;
    expect(args).toMatchObject({ arch: 'vit_small', patch_size: 16, use_fp16: true, global_crops_scale: [0.14, 1], saveckp_freq: null });
    // The state dict's _metadata attribute is not an item.
    expect(Object.keys(ckpt.student as PthDict)).toEqual(['pos_embed', 'centre', 'proj.weight', 'proj.bias', 'norm.weight', 'norm.bias']);
    const optimizer = ckpt.optimizer as PthDict;
    expect(optimizer.state).toBeInstanceOf(Map);
    // Only the parameters that received a gradient (pos_embed, proj.*) have Adam state.
    expect([...(optimizer.state as Map<number, PthValue>).keys()]).toEqual([0, 1, 2]);
  });

  it('materialises transposed, offset, strided, expanded and permuted views', () => {
    const views = readPthFile(file('py_views.pth')) as Record<string, PthTensor>;
    const floats = (t: PthTensor): number[] => Array.from(new Float32Array(new Uint8Array(t.data).buffer));
    expect(views.transposed.shape).toEqual([6, 4]);
    expect(floats(views.transposed).slice(0, 8)).toEqual([0, 6, 12, 18, 1, 7, 13, 19]);
    expect(floats(views.tail)[0]).toBe(6);
    expect(floats(views.columns)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23]);
    expect(floats(views.expanded)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(floats(views.scalar_view)).toEqual([15]);
    expect(views.empty_view.shape).toEqual([0, 6]);
    // Contiguous views share the file's bytes instead of copying them.
    expect(views.tail.data.buffer).toBe(views.x.data.buffer);
  });
});

describe('bad files fail with a PthError naming the file and the fault', () => {
  beforeAll(() => noPythonError('save_bad_files'));

  it('refuses a pickle that calls os.system, and runs nothing', () => {
    expect(() => readPthFile(file('bad_system.pth'))).toThrow(/bad_system\.pth: .*global 'posix\.system' is not allowed/);
    expect(fs.existsSync(file('executed.marker'))).toBe(false);
  });

  it('refuses a whole pickled module and says to save its state_dict', () => {
    expect(() => readPthFile(file('bad_module.pth'))).toThrow(/torch\.nn\.modules\.linear\.Linear.*model\.state_dict\(\)/);
  });

  it('explains the legacy format', () => {
    expect(() => readPthFile(file('bad_legacy.pth'))).toThrow(/legacy .*_use_new_zipfile_serialization=True/);
  });

  it('reports a zip without data.pkl', () => {
    expect(() => readPthFile(file('bad_no_pkl.pth'))).toThrow(/bad_no_pkl\.pth: no data\.pkl record/);
  });

  it('reports truncation at any cut point', () => {
    const whole = fs.readFileSync(file('py_checkpoint.pth'));
    const cuts = new Set([0, 1, 4, 21, 22, 100, whole.length - 22, whole.length - 21, whole.length - 1]);
    for (let i = 0; i < 60; i++) cuts.add(Math.floor((whole.length * i) / 60));
    for (const cut of cuts) {
      expect(() => readPth(whole.subarray(0, cut), `cut-${cut}.pth`)).toThrow(PthError);
    }
    expect(() => readPth(whole.subarray(0, whole.length - 1), 'cut.pth')).toThrow(/cut\.pth: .*truncated/);
  });

  it('survives corrupted bytes with a PthError (CRC catches data damage)', () => {
    const whole = fs.readFileSync(file('py_checkpoint.pth'));
    const flip = seeded(7);
    for (let i = 0; i < 300; i++) {
      const bad = Buffer.from(whole);
      bad[Math.floor(flip() * bad.length)] ^= 1 + Math.floor(flip() * 255);
      for (const verifyCrc of [true, false]) {
        try {
          readPth(bad, 'flipped.pth', { verifyCrc });
        } catch (err) {
          expect(err).toBeInstanceOf(PthError);
          expect((err as PthError).detail).not.toMatch(/^unreadable checkpoint/);
        }
      }
    }
  });

  it('reports random bytes as not a zip', () => {
    const noise = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rng() * 256)));
    noise[0] = 0x50; // never the pickle PROTO byte
    expect(() => readPth(noise, 'noise.bin')).toThrow(/noise\.bin: no zip end-of-central-directory record/);
  });
});
