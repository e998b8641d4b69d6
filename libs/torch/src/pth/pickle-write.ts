/**
 * Writes a value as the protocol-2 pickle torch.save produces: tensors become
 * torch._utils._rebuild_tensor_v2 calls on persistent ('storage', ...) ids whose bytes travel
 * beside the pickle as records data/<key>.
 */
import { MAX_LONG_BYTES, encodeLong } from './long';
import { DTYPES, PthError, PthTensor, PthValue, isPthTensor, numelOf } from './types';

export interface Pickled {
  pickle: Buffer;
  /** Storage bytes in key order: storage i is record data/i. */
  storages: Buffer[];
}

const APPENDS_BATCH = 1000; // CPython's batch size for APPENDS / SETITEMS

/**
 * Dicts: a Map, or a non-empty plain object whose values are all tensors (a state dict), is
 * written as collections.OrderedDict, as torch's state_dict() returns; any other plain object
 * as a dict. Numbers: integral ones (other than -0) as int, the rest as float; bigint as int.
 */
export function pickleValue(value: PthValue): Pickled {
  return new Pickler().run(value);
}

class Pickler {
  private buf = Buffer.allocUnsafe(1 << 16);
  private len = 0;
  private readonly globals = new Map<string, number>();
  private memoSize = 0;
  private readonly storages: Buffer[] = [];
  private readonly storageKeys = new Map<Buffer, Map<string, number>>();
  private readonly ancestors = new Set<object>();

  run(value: PthValue): Pickled {
    this.op(0x80, 2); // PROTO 2
    this.value(value, 'value');
    this.op(0x2e); // STOP
    return { pickle: this.buf.subarray(0, this.len), storages: this.storages };
  }

  private value(v: PthValue, path: string): void {
    if (v === null) return this.op(0x4e);
    switch (typeof v) {
      case 'boolean':
        return this.op(v ? 0x88 : 0x89);
      case 'number':
        return Number.isSafeInteger(v) && !Object.is(v, -0) ? this.int(v, path) : this.float(v);
      case 'bigint':
        return this.int(v, path);
      case 'string':
        return this.str(v);
      case 'object':
        break;
      default:
        return this.fail(path, `cannot write a value of type ${typeof v}`);
    }
    if (this.ancestors.has(v)) this.fail(path, 'value contains itself');
    this.ancestors.add(v);
    if (Buffer.isBuffer(v)) this.bytes(v);
    else if (isPthTensor(v)) this.tensor(v, path);
    else if (Array.isArray(v)) this.list(v, path);
    else if (v instanceof Map) this.dict(v, true, path);
    else if (isPlainObject(v)) {
      const values = Object.values(v);
      this.dict(new Map(Object.entries(v)), values.length > 0 && values.every(isPthTensor), path);
    } else this.fail(path, `cannot write a ${(v as object).constructor?.name ?? 'object'}`);
    this.ancestors.delete(v);
  }

  private list(items: readonly PthValue[], path: string): void {
    this.op(0x5d); // EMPTY_LIST
    for (let i = 0; i < items.length; i += APPENDS_BATCH) {
      this.op(0x28); // MARK
      items.slice(i, i + APPENDS_BATCH).forEach((x, j) => this.value(x, `${path}[${i + j}]`));
      this.op(0x65); // APPENDS
    }
  }

  private dict(entries: Map<unknown, PthValue>, ordered: boolean, path: string): void {
    if (ordered) {
      this.global('collections', 'OrderedDict');
      this.op(0x29); // EMPTY_TUPLE
      this.op(0x52); // REDUCE
    } else {
      this.op(0x7d); // EMPTY_DICT
    }
    const all = [...entries];
    for (let i = 0; i < all.length; i += APPENDS_BATCH) {
      this.op(0x28); // MARK
      for (const [k, x] of all.slice(i, i + APPENDS_BATCH)) {
        const t = typeof k;
        if (!(k === null || t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean')) {
          this.fail(path, `dict key of type ${t} is not supported`);
        }
        this.value(k as PthValue, path);
        this.value(x, `${path}[${JSON.stringify(typeof k === 'bigint' ? k.toString() : k)}]`);
      }
      this.op(0x75); // SETITEMS
    }
  }

  private tensor(t: PthTensor, path: string): void {
    const info = DTYPES[t.dtype];
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      this.fail(path, `tensor shape [${t.shape.join(', ')}] is not a list of non-negative integers`);
    }
    const numel = numelOf(t.shape);
    if (t.data.length !== numel * info.itemSize) {
      this.fail(path, `tensor data has ${t.data.length} bytes; shape [${t.shape.join(', ')}] of ${t.dtype} needs ${numel * info.itemSize}`);
    }
    if (t.requiresGrad && !info.floating) this.fail(path, `a ${t.dtype} tensor cannot require grad`);

    this.global('torch._utils', '_rebuild_tensor_v2');
    this.op(0x28); // MARK: (storage, offset, size, stride, requires_grad, backward_hooks)
    this.op(0x28);
    this.str('storage');
    this.global('torch', info.storageClass);
    this.str(String(this.storageKey(t)));
    this.str('cpu');
    this.int(numel);
    this.op(0x74); // TUPLE
    this.op(0x51); // BINPERSID
    this.int(0);
    this.intTuple(t.shape);
    const stride = new Array<number>(t.shape.length);
    for (let i = t.shape.length - 1, s = 1; i >= 0; i--) {
      stride[i] = s;
      s *= Math.max(t.shape[i], 1);
    }
    this.intTuple(stride);
    this.op(t.requiresGrad ? 0x88 : 0x89);
    this.global('collections', 'OrderedDict');
    this.op(0x29);
    this.op(0x52);
    this.op(0x74); // TUPLE
    this.op(0x52); // REDUCE
  }

  /** Tensors sharing one Buffer object (tied weights) share one storage record. */
  private storageKey(t: PthTensor): number {
    let byDtype = this.storageKeys.get(t.data);
    if (!byDtype) this.storageKeys.set(t.data, (byDtype = new Map()));
    let key = byDtype.get(t.dtype);
    if (key === undefined) {
      key = this.storages.length;
      this.storages.push(t.data);
      byDtype.set(t.dtype, key);
    }
    return key;
  }

  private intTuple(xs: readonly number[]): void {
    if (xs.length === 0) return this.op(0x29);
    if (xs.length > 3) this.op(0x28);
    for (const x of xs) this.int(x);
    this.op(xs.length > 3 ? 0x74 : 0x84 + xs.length); // TUPLE or TUPLE1..3
  }

  private bytes(b: Buffer): void {
    // Protocol 2 has no bytes opcode; CPython writes _codecs.encode(latin-1 text, 'latin1').
    this.global('_codecs', 'encode');
    this.str(b.toString('latin1'));
    this.str('latin1');
    this.op(0x86); // TUPLE2
    this.op(0x52);
  }

  private global(module: string, name: string): void {
    const key = `${module}\n${name}\n`;
    const memo = this.globals.get(key);
    if (memo !== undefined) return this.memoGet(memo);
    this.op(0x63); // GLOBAL
    this.raw(Buffer.from(key, 'utf8'));
    const id = this.memoSize++;
    this.globals.set(key, id);
    if (id < 256) this.op(0x71, id); // BINPUT
    else {
      this.op(0x72); // LONG_BINPUT
      this.u32(id);
    }
  }

  private memoGet(id: number): void {
    if (id < 256) return this.op(0x68, id); // BINGET
    this.op(0x6a); // LONG_BINGET
    this.u32(id);
  }

  private int(v: number | bigint, path = 'value'): void {
    if (typeof v === 'number' && v >= 0 && v < 256) return this.op(0x4b, v);
    if (typeof v === 'number' && v >= 0 && v < 65536) {
      this.op(0x4d);
      this.ensure(2);
      this.len = this.buf.writeUInt16LE(v, this.len);
      return;
    }
    if (typeof v === 'number' && v >= -0x80000000 && v < 0x80000000) {
      this.op(0x4a);
      this.ensure(4);
      this.len = this.buf.writeInt32LE(v, this.len);
      return;
    }
    const encoded = encodeLong(BigInt(v));
    if (encoded.length > MAX_LONG_BYTES) {
      this.fail(path, `integer of ${encoded.length} bytes is longer than the ${MAX_LONG_BYTES} readPth accepts`);
    }
    if (encoded.length < 256) this.op(0x8a, encoded.length); // LONG1
    else {
      this.op(0x8b); // LONG4
      this.u32(encoded.length);
    }
    this.raw(encoded);
  }

  private float(v: number): void {
    this.op(0x47); // BINFLOAT
    this.ensure(8);
    this.len = this.buf.writeDoubleBE(v, this.len);
  }

  private str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.op(0x58); // BINUNICODE
    this.u32(b.length);
    this.raw(b);
  }

  private op(code: number, arg?: number): void {
    this.ensure(2);
    this.buf[this.len++] = code;
    if (arg !== undefined) this.buf[this.len++] = arg;
  }

  private u32(v: number): void {
    this.ensure(4);
    this.len = this.buf.writeUInt32LE(v, this.len);
  }

  private raw(b: Buffer): void {
    this.ensure(b.length);
    this.len += b.copy(this.buf, this.len);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private fail(path: string, detail: string): never {
    throw new PthError('writePth', `${path}: ${detail}`);
  }
}

function isPlainObject(v: object): v is Record<string, PthValue> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
