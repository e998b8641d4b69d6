/**
 * The TypeScript face of a libtorch tensor, the generic operator call, and memory scopes.
 *
 * Native memory is never left to the JS garbage collector: every tensor created inside
 * `scope(fn)` is disposed when `fn` returns, except those it returns (which move to the
 * enclosing scope) and those passed to `keep()`. `liveTensors()` counts native handles,
 * so tests can assert that a training step leaves the count unchanged.
 */
import { native, NativeHandle } from './native';
import { DType, scalarTypeCode, typedArrayOf } from './dtype';

type Scope = Set<Tensor>;
const scopes: Scope[] = [];

export class Tensor {
  private cachedShape?: number[];
  private cachedDtype?: DType;

  constructor(readonly handle: NativeHandle) {
    handle.owner = this;
    const top = scopes[scopes.length - 1];
    if (top) top.add(this);
  }

  get shape(): number[] {
    if (!this.cachedShape) this.cachedShape = this.handle.shape();
    return this.cachedShape;
  }
  get dtype(): DType {
    if (!this.cachedDtype) this.cachedDtype = this.handle.dtype() as DType;
    return this.cachedDtype;
  }
  get device(): string {
    return this.handle.device();
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get disposed(): boolean {
    return this.handle.isDisposed();
  }
  get requiresGrad(): boolean {
    return this.handle.requiresGrad();
  }
  setRequiresGrad(on = true): this {
    this.handle.setRequiresGrad(on);
    return this;
  }
  /** The accumulated gradient as a new tensor (in the current scope), or null. */
  get grad(): Tensor | null {
    const g = this.handle.grad();
    return g ? new Tensor(g) : null;
  }
  set grad(g: Tensor | null) {
    this.handle.setGrad(g ? g.handle : null);
  }
  backward(grad?: Tensor): void {
    this.handle.backward(grad ? grad.handle : null);
  }
  dispose(): void {
    this.handle.dispose();
    for (const s of scopes) s.delete(this);
  }
  /** Values copied to a typed array (float16/bfloat16 come back as raw Uint16 bits). */
  data(): ArrayBufferView {
    return typedArrayOf(this.dtype, this.handle.toBuffer());
  }
  toFloat32Array(): Float32Array {
    if (this.dtype === 'float32') return this.data() as Float32Array;
    return scope(() => this.to({ dtype: 'float32' }).data() as Float32Array);
  }
  item(): number {
    return Number(this.handle.item());
  }
  toString(): string {
    return `Tensor(${this.dtype}[${this.shape.join(', ')}]${this.device === 'cpu' ? '' : ' @' + this.device})`;
  }

  // ---- common ops as methods (the full set lives in ops.ts) ----
  add(o: Tensor | number, alpha = 1): Tensor {
    return typeof o === 'number' ? call('aten::add', 'Scalar', [this, o, alpha]) : call('aten::add', 'Tensor', [this, o, alpha]);
  }
  sub(o: Tensor | number, alpha = 1): Tensor {
    return typeof o === 'number' ? call('aten::sub', 'Scalar', [this, o, alpha]) : call('aten::sub', 'Tensor', [this, o, alpha]);
  }
  mul(o: Tensor | number): Tensor {
    return typeof o === 'number' ? call('aten::mul', 'Scalar', [this, o]) : call('aten::mul', 'Tensor', [this, o]);
  }
  div(o: Tensor | number): Tensor {
    return typeof o === 'number' ? call('aten::div', 'Scalar', [this, o]) : call('aten::div', 'Tensor', [this, o]);
  }
  neg(): Tensor {
    return call('aten::neg', '', [this]);
  }
  matmul(o: Tensor): Tensor {
    return call('aten::matmul', '', [this, o]);
  }
  reshape(...shape: number[]): Tensor {
    return call('aten::reshape', '', [this, shape]);
  }
  view(...shape: number[]): Tensor {
    return call('aten::view', '', [this, shape]);
  }
  permute(...dims: number[]): Tensor {
    return call('aten::permute', '', [this, dims]);
  }
  transpose(a: number, b: number): Tensor {
    return call('aten::transpose', 'int', [this, a, b]);
  }
  flatten(start = 0, end = -1): Tensor {
    return call('aten::flatten', 'using_ints', [this, start, end]);
  }
  unsqueeze(dim: number): Tensor {
    return call('aten::unsqueeze', '', [this, dim]);
  }
  squeeze(dim: number): Tensor {
    return call('aten::squeeze', 'dim', [this, dim]);
  }
  expand(...shape: number[]): Tensor {
    return call('aten::expand', '', [this, shape]);
  }
  contiguous(): Tensor {
    return call('aten::contiguous', '', [this]);
  }
  /** Slice [start, end) along dim (a view). */
  slice(dim: number, start: number, end: number, step = 1): Tensor {
    return call('aten::slice', 'Tensor', [this, dim, start, end, step]);
  }
  select(dim: number, index: number): Tensor {
    return call('aten::select', 'int', [this, dim, index]);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return call('aten::chunk', '', [this, chunks, dim]) as unknown as Tensor[];
  }
  sum(dims?: number[], keepdim = false): Tensor {
    return dims ? call('aten::sum', 'dim_IntList', [this, dims, keepdim]) : call('aten::sum', '', [this]);
  }
  mean(dims?: number[], keepdim = false): Tensor {
    return dims ? call('aten::mean', 'dim', [this, dims, keepdim]) : call('aten::mean', '', [this]);
  }
  softmax(dim: number): Tensor {
    return call('aten::softmax', 'int', [this, dim]);
  }
  logSoftmax(dim: number): Tensor {
    return call('aten::log_softmax', 'int', [this, dim]);
  }
  exp(): Tensor {
    return call('aten::exp', '', [this]);
  }
  log(): Tensor {
    return call('aten::log', '', [this]);
  }
  abs(): Tensor {
    return call('aten::abs', '', [this]);
  }
  max(): Tensor {
    return call('aten::max', '', [this]);
  }
  reciprocal(): Tensor {
    return call('aten::reciprocal', '', [this]);
  }
  sqrt(): Tensor {
    return call('aten::sqrt', '', [this]);
  }
  detach(): Tensor {
    return call('aten::detach', '', [this]);
  }
  clone(): Tensor {
    return call('aten::clone', '', [this]);
  }
  to(opts: { dtype?: DType; device?: string }): Tensor {
    const dtype = opts.dtype ?? this.dtype;
    if (opts.device && opts.device !== this.device) {
      return call('aten::to', 'device', [this, opts.device, scalarTypeCode[dtype], false, false]);
    }
    if (dtype === this.dtype) return call('aten::alias', '', [this]);
    return call('aten::to', 'dtype', [this, scalarTypeCode[dtype], false, false]);
  }
  float(): Tensor {
    return this.to({ dtype: 'float32' });
  }
  double(): Tensor {
    return this.to({ dtype: 'float64' });
  }
}

// ---------------------------------------------------------------------------------------
// Operator calls

const opIds = new Map<string, number>();

/** The dispatcher id of an operator, or -1 when this libtorch lacks it (checked by callers with fallbacks). */
export function opId(name: string, overload = ''): number {
  const key = `${name}.${overload}`;
  let id = opIds.get(key);
  if (id === undefined) {
    id = native.findOp(name, overload);
    opIds.set(key, id);
  }
  return id;
}

export function hasOp(name: string, overload = ''): boolean {
  return opId(name, overload) >= 0;
}

function toNative(v: unknown): unknown {
  if (v instanceof Tensor) return v.handle;
  if (Array.isArray(v)) return v.map(toNative);
  return v;
}

function fromNative(v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const h = v as NativeHandle;
    if (h.owner instanceof Tensor) return h.owner;
    if (typeof h.shape === 'function') return new Tensor(h);
  }
  if (Array.isArray(v)) return v.map(fromNative);
  return v;
}

/**
 * Calls an ATen operator by schema name with positional arguments (undefined = schema
 * default). Tensors returned are tracked by the current scope; an in-place op returns the
 * very Tensor object it modified.
 */
export function call<T = Tensor>(name: string, overload: string, args: unknown[]): T {
  const id = opId(name, overload);
  if (id < 0) throw new Error(`${name}${overload ? '.' + overload : ''}: operator not available in libtorch ${native.buildInfo().torch}`);
  return fromNative(native.callOp(id, args.map(toNative))) as T;
}

// ---------------------------------------------------------------------------------------
// Scopes

type Nested = Tensor | Nested[] | { [k: string]: Nested } | Map<unknown, Nested> | unknown;

function collect(value: Nested, out: Set<Tensor>): void {
  if (value instanceof Tensor) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, out);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out);
  }
}

/**
 * Runs fn and disposes every tensor created during it that is not part of its result
 * (tensors, arrays, Maps and plain objects of tensors are searched). Returned tensors move
 * to the enclosing scope. Also disposes on exceptions.
 */
export function scope<T>(fn: () => T): T {
  const mine: Scope = new Set();
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of mine) t.handle.dispose();
    throw e;
  }
  scopes.pop();
  const kept = new Set<Tensor>();
  collect(result as Nested, kept);
  for (const t of mine) if (!kept.has(t)) t.handle.dispose();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of kept) if (mine.has(t)) parent.add(t);
  return result;
}

/** Removes tensors from every open scope so they survive it (parameters, optimiser state). */
export function keep<T extends Nested>(value: T): T {
  const ts = new Set<Tensor>();
  collect(value, ts);
  for (const t of ts) for (const s of scopes) s.delete(t);
  return value;
}

/** Native tensor handles currently alive (created and not yet disposed). */
export function liveTensors(): number {
  return native.counts().live;
}

export function tensorCounters(): { live: number; created: number; finalised: number } {
  return native.counts();
}

export function dispose(value: Nested): void {
  const ts = new Set<Tensor>();
  collect(value, ts);
  for (const t of ts) t.dispose();
}
