/** Conversion between libtorch tensors and the plain tensors of the .pth reader/writer. */
import { DType } from './dtype';
import { native } from './native';
import { PthError, PthTensor, PthValue, isPthTensor } from './pth';
import { Tensor } from './tensor';

/** A CPU copy of the tensor's values as a PthTensor (state dicts store detached values). */
export function toPthTensor(t: Tensor): PthTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: Buffer.from(t.handle.toBuffer()), requiresGrad: false };
}

export function fromPthTensor(p: PthTensor, device = 'cpu'): Tensor {
  return new Tensor(native.fromBuffer(p.data, p.shape, p.dtype as DType, device));
}

/**
 * Reads a name → tensor map out of a loaded .pth value: either the value itself or, for a
 * training checkpoint, the entry `key` (e.g. "teacher"). Names keep their order.
 */
export function stateDictFromPth(value: PthValue, source: string, key?: string): Map<string, PthTensor> {
  let v: PthValue = value;
  if (key !== undefined) {
    const entry = v instanceof Map ? v.get(key) : v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) ? (v as Record<string, PthValue>)[key] : undefined;
    if (entry === undefined) throw new PthError(source, `no '${key}' entry (this is not a training checkpoint of this kind)`);
    v = entry;
  }
  const entries: [string, PthValue][] =
    v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x]) : v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) && !isPthTensor(v) ? Object.entries(v) : [];
  if (!entries.length) throw new PthError(source, 'expected a state dict (a dict of tensors)');
  const out = new Map<string, PthTensor>();
  for (const [k, x] of entries) {
    if (!isPthTensor(x)) throw new PthError(source, `entry '${k}' is not a tensor`);
    out.set(k, x);
  }
  return out;
}
