/** Shared by the pth specs: a seeded generator, the type-erased description, the PyTorch runner. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PthDType, PthTensor, PthValue, isPthTensor, pthItemSize } from './index';
import { writeZip } from './zip-write';

export const PYTHON = '/usr/bin/python3';

/** mulberry32: small, seeded, good enough for test data. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random bytes for any dtype (bool: 0/1 only), so every bit pattern, NaNs included, is exercised. */
export function randomTensor(rng: () => number, dtype: PthDType, shape: number[]): PthTensor {
  const numel = shape.reduce((a, b) => a * b, 1);
  const data = Buffer.alloc(numel * pthItemSize(dtype));
  for (let i = 0; i < data.length; i++) data[i] = dtype === 'bool' ? (rng() < 0.5 ? 1 : 0) : Math.floor(rng() * 256);
  return { dtype, shape, data, requiresGrad: false };
}

export function float32Tensor(rng: () => number, shape: number[]): PthTensor {
  const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng() * 2 - 1);
  return { dtype: 'float32', shape, data: Buffer.from(values.buffer), requiresGrad: false };
}

/**
 * The same JSON form torch_reference.py's describe() makes: containers lose their class (tuple,
 * list and set are lists; dict, OrderedDict and Namespace are dicts) and numbers are compared
 * as JS sees them (integral values as ints, the rest by their IEEE bytes).
 */
export function describe(v: PthValue): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return { int: v.toString() };
  if (typeof v === 'number') {
    if (Number.isInteger(v) && Math.abs(v) <= 2 ** 53) return { int: String(v) };
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return { float: b.toString('hex') };
  }
  if (Buffer.isBuffer(v)) return { bytes: v.toString('base64') };
  if (isPthTensor(v)) {
    return { tensor: v.dtype, shape: v.shape, b64: v.data.toString('base64'), requires_grad: v.requiresGrad ?? false };
  }
  if (Array.isArray(v)) return { list: v.map(describe) };
  if (v instanceof Map) return { dict: [...v].map(([k, x]) => [describe(k), describe(x)]) };
  return { dict: Object.entries(v).map(([k, x]) => [k, describe(x)]) };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs torch_reference.py on `dir`; throws (failing the spec) when Python or torch is unusable. */
export function runTorchReference(dir: string): { errors: Record<string, string>; [k: string]: unknown } {
  const script = path.join(__dirname, 'torch_reference.py');
  const r = spawnSync(PYTHON, [script, dir], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    throw new Error(`PyTorch reference needs ${PYTHON} with Debian's torch (python3-torch); could not run it: ${r.error.message}`);
  }
  if (r.status !== 0) {
    throw new Error(`PyTorch reference (${PYTHON} ${script}) exited with ${r.status}; is Debian's python3-torch installed?\n${r.stderr}`);
  }
  return JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
}

/** A checkpoint zip around a hand-made data.pkl, for pickles torch would never write. */
export function pthWithPickle(pickle: Buffer, storages: Buffer[] = []): Buffer {
  return writeZip([
    { name: 'archive/data.pkl', data: pickle },
    ...storages.map((data, i) => ({ name: `archive/data/${i}`, data })),
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
}

/** Assembles a pickle from opcodes: strings are latin-1 bytes, numbers single bytes. */
export function pickleBytes(...parts: (string | number | Buffer)[]): Buffer {
  return Buffer.concat(
    parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : typeof p === 'string' ? Buffer.from(p, 'latin1') : p)),
  );
}
