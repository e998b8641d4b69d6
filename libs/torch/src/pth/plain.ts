import { AllowedGlobal, NamespaceObject, StorageRef, StorageType } from './torch-globals';
import { PthDict, PthKey, PthValue, isPthTensor } from './types';
import { kindOf } from './unpickle';

const MAX_DEPTH = 1000;

/** JS objects list array-index keys first, whatever the insertion order; such dicts stay Maps. */
function keepsOrderAsObjectKey(k: unknown): k is string {
  if (typeof k !== 'string' || k === '__proto__') return false;
  return !(/^(0|[1-9]\d*)$/.test(k) && Number(k) < 0xffffffff);
}

function isKey(k: unknown): k is PthKey {
  const t = typeof k;
  return k === null || t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean';
}

/** Converts what the unpickler built into the public plain-data shape, keeping shared references shared. */
export function toPlain(root: unknown, fail: (detail: string) => never): PthValue {
  const done = new Map<object, PthValue>();
  const visit = (v: unknown, depth: number): PthValue => {
    if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') {
      return v;
    }
    if (Buffer.isBuffer(v) || isPthTensor(v)) return v;
    if (depth > MAX_DEPTH) fail(`values nested deeper than ${MAX_DEPTH} levels`);
    const seen = done.get(v as object);
    if (seen !== undefined) return seen;
    if (Array.isArray(v)) {
      const out: PthValue[] = [];
      done.set(v, out);
      for (const x of v) out.push(visit(x, depth + 1));
      return out;
    }
    if (v instanceof Map || v instanceof NamespaceObject) {
      const entries: Map<unknown, unknown> = v instanceof Map ? v : v.attributes;
      if ([...entries.keys()].every(keepsOrderAsObjectKey)) {
        const out: PthDict = {};
        done.set(v, out);
        for (const [k, x] of entries) out[k as string] = visit(x, depth + 1);
        return out;
      }
      const out = new Map<PthKey, PthValue>();
      done.set(v, out);
      for (const [k, x] of entries) {
        if (!isKey(k)) fail(`dict key of type ${kindOf(k)} is not supported`);
        out.set(k, visit(x, depth + 1));
      }
      return out;
    }
    if (v instanceof StorageRef) fail(`a bare storage (data/${v.key}) is not supported; save tensors instead`);
    if (v instanceof AllowedGlobal || v instanceof StorageType) fail(`the global '${v.qualname}' appears as a value`);
    return fail(`unexpected ${kindOf(v)} in the pickle`);
  };
  return visit(root, 0);
}
