import { EXIT, type ExitCoded } from '@sere/config';

/**
 * Plain-data view of a PyTorch checkpoint: tensors are dtype + shape + little-endian bytes,
 * everything else is the JSON-like value the pickle held.
 */

export type PthDType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export interface PthTensor {
  dtype: PthDType;
  shape: number[];
  /** Little-endian, contiguous (row-major), exactly numel * itemsize bytes. */
  data: Buffer;
  requiresGrad?: boolean;
}

/** Keys a Python dict may have that survive as a JS Map key. */
export type PthKey = string | number | bigint | boolean | null;

export interface PthDict {
  [key: string]: PthValue;
}

/**
 * - Python int: number when it is a safe integer, else bigint; float: number.
 * - list and tuple (and torch.Size, set): array. bytes: Buffer.
 * - dict / OrderedDict / argparse.Namespace: plain object when every key is a string that JS
 *   keeps in insertion order; otherwise (int keys, array-index-like strings, `__proto__`) a Map.
 */
export type PthValue =
  | PthTensor
  | number
  | bigint
  | string
  | boolean
  | null
  | Buffer
  | PthValue[]
  | PthDict
  | Map<PthKey, PthValue>;

/** A checkpoint could not be read or written; the message names the file (or value path) and the fault. */
export class PthError extends Error implements ExitCoded {
  override readonly name = 'PthError';
  /** A checkpoint the user named that cannot be used is bad input. */
  readonly exitCode = EXIT.refused;
  constructor(
    readonly source: string,
    readonly detail: string,
  ) {
    super(`${source}: ${detail}`);
  }
}

interface DTypeInfo {
  itemSize: number;
  /** The legacy typed-storage class torch.save names in each persistent id. */
  storageClass: string;
  floating: boolean;
}

export const DTYPES: Readonly<Record<PthDType, DTypeInfo>> = {
  float32: { itemSize: 4, storageClass: 'FloatStorage', floating: true },
  float64: { itemSize: 8, storageClass: 'DoubleStorage', floating: true },
  float16: { itemSize: 2, storageClass: 'HalfStorage', floating: true },
  bfloat16: { itemSize: 2, storageClass: 'BFloat16Storage', floating: true },
  int64: { itemSize: 8, storageClass: 'LongStorage', floating: false },
  int32: { itemSize: 4, storageClass: 'IntStorage', floating: false },
  int16: { itemSize: 2, storageClass: 'ShortStorage', floating: false },
  int8: { itemSize: 1, storageClass: 'CharStorage', floating: false },
  uint8: { itemSize: 1, storageClass: 'ByteStorage', floating: false },
  bool: { itemSize: 1, storageClass: 'BoolStorage', floating: false },
};

export function pthItemSize(dtype: PthDType): number {
  return DTYPES[dtype].itemSize;
}

export function isPthDType(value: unknown): value is PthDType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, value);
}

/** Duck-typed: a dict from Python with exactly these fields would read as a tensor when written back. */
export function isPthTensor(value: unknown): value is PthTensor {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<PthTensor>;
  return isPthDType(v.dtype) && Array.isArray(v.shape) && Buffer.isBuffer(v.data);
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
