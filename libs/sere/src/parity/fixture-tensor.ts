/**
 * Reads tensors in the golden-fixture encoding: {dtype, shape, data: nested arrays}.
 * Shapes always come from the file (the acceptance set uses other shapes).
 */
import * as T from '@sere/torch';

export interface FixtureTensor {
  dtype: 'float32' | 'float64' | 'bool' | 'int64';
  shape: number[];
  data: unknown;
}

export function isFixtureTensor(v: unknown): v is FixtureTensor {
  return !!v && typeof v === 'object' && 'dtype' in v && 'shape' in v && 'data' in v;
}

/** Flattens nested row-major data, checking it matches the declared shape. */
export function flatValues(t: FixtureTensor, where = 'tensor'): number[] {
  const out: number[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === t.shape.length) {
      out.push(typeof v === 'boolean' ? (v ? 1 : 0) : Number(v));
      return;
    }
    if (!Array.isArray(v) || v.length !== t.shape[depth]) {
      throw new Error(`${where}: data does not match shape [${t.shape.join(', ')}] at depth ${depth}`);
    }
    for (const x of v) walk(x, depth + 1);
  };
  walk(t.data, 0);
  return out;
}

export function toFloat32(t: FixtureTensor, where?: string): Float32Array {
  return Float32Array.from(flatValues(t, where));
}

export function toFloat64(t: FixtureTensor, where?: string): Float64Array {
  return Float64Array.from(flatValues(t, where));
}

/** A libtorch tensor from a fixture tensor (bool stays bool, int64 stays int64). */
export function fixtureToTensor(t: FixtureTensor, device = 'cpu', where?: string): T.Tensor {
  const values = flatValues(t, where);
  switch (t.dtype) {
    case 'bool':
      return T.tensor(Uint8Array.from(values), t.shape, { dtype: 'bool', device });
    case 'int64':
      return T.tensor(BigInt64Array.from(values.map((v) => BigInt(v))), t.shape, { dtype: 'int64', device });
    case 'float64':
      return T.tensor(Float64Array.from(values), t.shape, { dtype: 'float64', device });
    default:
      return T.tensor(Float32Array.from(values), t.shape, { dtype: 'float32', device });
  }
}

/** name -> tensor map, optionally stripping a prefix such as "backbone.". */
export function fixtureWeights(weights: Record<string, FixtureTensor>, device = 'cpu', prefix = ''): Map<string, T.Tensor> {
  const out = new Map<string, T.Tensor>();
  for (const [name, value] of Object.entries(weights)) {
    if (!name.startsWith(prefix)) continue;
    out.set(name.slice(prefix.length), fixtureToTensor(value, device, name));
  }
  return out;
}
