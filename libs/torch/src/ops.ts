/**
 * Functional operators used by the model, the losses and the optimiser. Each is a thin
 * call into ATen; where an operator exists only in newer libtorch releases the fallback
 * computes the same function with older operators.
 */
import { DType, scalarTypeCode } from './dtype';
import { native } from './native';
import { call, hasOp, Tensor } from './tensor';

export interface CreateOptions {
  dtype?: DType;
  device?: string;
}

function code(o?: CreateOptions): number | null {
  return o?.dtype ? scalarTypeCode[o.dtype] : null;
}

// ---- creation ----

export function tensor(data: ArrayLike<number> | ArrayBufferView, shape: number[], opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  let view: ArrayBufferView;
  if (ArrayBuffer.isView(data)) view = data;
  else if (dtype === 'float32') view = Float32Array.from(data as ArrayLike<number>);
  else if (dtype === 'float64') view = Float64Array.from(data as ArrayLike<number>);
  else if (dtype === 'int64') view = BigInt64Array.from(Array.from(data as ArrayLike<number>, (x) => BigInt(x)));
  else if (dtype === 'int32') view = Int32Array.from(data as ArrayLike<number>);
  else if (dtype === 'bool' || dtype === 'uint8') view = Uint8Array.from(data as ArrayLike<number>);
  else throw new Error(`tensor(): cannot build ${dtype} from a number array; pass raw bits in a typed array`);
  return new Tensor(native.fromBuffer(view, shape, dtype, opts.device));
}

export function scalarTensor(value: number, opts: CreateOptions = {}): Tensor {
  return full([], value, opts);
}

export function zeros(shape: number[], opts: CreateOptions = {}): Tensor {
  return call('aten::zeros', '', [shape, code(opts), null, opts.device ?? null]);
}
export function ones(shape: number[], opts: CreateOptions = {}): Tensor {
  return call('aten::ones', '', [shape, code(opts), null, opts.device ?? null]);
}
export function full(shape: number[], value: number, opts: CreateOptions = {}): Tensor {
  return call('aten::full', '', [shape, value, code(opts) ?? scalarTypeCode.float32, null, opts.device ?? null]);
}
export function empty(shape: number[], opts: CreateOptions = {}): Tensor {
  return call('aten::empty', 'memory_format', [shape, code(opts), null, opts.device ?? null]);
}
export function zerosLike(t: Tensor): Tensor {
  return call('aten::zeros_like', '', [t]);
}
export function onesLike(t: Tensor): Tensor {
  return call('aten::ones_like', '', [t]);
}
/** Standard normal draws from the device's default generator (seed with manualSeed). */
export function randn(shape: number[], opts: CreateOptions = {}): Tensor {
  return call('aten::randn', '', [shape, code(opts), null, opts.device ?? null]);
}
/** Uniform [0, 1) draws from the device's default generator. */
export function rand(shape: number[], opts: CreateOptions = {}): Tensor {
  return call('aten::rand', '', [shape, code(opts), null, opts.device ?? null]);
}
export function arange(end: number, opts: CreateOptions = {}): Tensor {
  return call('aten::arange', '', [end, code(opts), null, opts.device ?? null]);
}

// ---- shape ----

export function cat(ts: Tensor[], dim = 0): Tensor {
  return call('aten::cat', '', [ts, dim]);
}
export function stack(ts: Tensor[], dim = 0): Tensor {
  return call('aten::stack', '', [ts, dim]);
}
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  return call('aten::where', 'self', [cond, a, b]);
}
export function indexSelect(t: Tensor, dim: number, index: Tensor): Tensor {
  return call('aten::index_select', '', [t, dim, index]);
}

// ---- elementwise and reductions ----

export function pow(t: Tensor, exponent: number): Tensor {
  return call('aten::pow', 'Tensor_Scalar', [t, exponent]);
}
export function clampMin(t: Tensor, min: number): Tensor {
  return call('aten::clamp_min', '', [t, min]);
}
export function maximum(a: Tensor, b: Tensor): Tensor {
  return call('aten::maximum', '', [a, b]);
}
export function relu(t: Tensor): Tensor {
  return call('aten::relu', '', [t]);
}
/** Exact (erf) GELU, as the reference's nn.GELU(). */
export function gelu(t: Tensor): Tensor {
  return call('aten::gelu', '', [t, 'none']);
}
export function argmax(t: Tensor, dim: number, keepdim = false): Tensor {
  return call('aten::argmax', '', [t, dim, keepdim]);
}
/** L2 norm over the given dims. */
export function norm(t: Tensor, dims: number[], keepdim = false): Tensor {
  return call('aten::linalg_vector_norm', '', [t, 2, dims, keepdim, null]);
}
export function eq(a: Tensor, b: Tensor): Tensor {
  return call('aten::eq', 'Tensor', [a, b]);
}
export function isfinite(t: Tensor): Tensor {
  return call('aten::isfinite', '', [t]);
}
export function all(t: Tensor): Tensor {
  return call('aten::all', '', [t]);
}

// ---- neural-network functions ----

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return call('aten::linear', '', [x, weight, bias ?? null]);
}
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, stride: number, padding = 0): Tensor {
  return call('aten::conv2d', '', [x, weight, bias, [stride, stride], [padding, padding], [1, 1], 1]);
}
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  const d = x.shape[x.shape.length - 1];
  return call('aten::layer_norm', '', [x, [d], weight, bias, eps, true]);
}
/**
 * Batch normalisation. In training mode the batch statistics (biased variance) normalise
 * and the running buffers are updated in place with the unbiased variance, as BatchNorm2d.
 */
export function batchNorm(
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  training: boolean,
  momentum: number,
  eps: number,
): Tensor {
  return call('aten::batch_norm', '', [x, weight, bias, runningMean, runningVar, training, momentum, eps, true]);
}
export function softmax(t: Tensor, dim: number): Tensor {
  return t.softmax(dim);
}
export function logSoftmax(t: Tensor, dim: number): Tensor {
  return t.logSoftmax(dim);
}
/** x / max(‖x‖₂, eps) along dim, as F.normalize. */
export function l2Normalize(x: Tensor, dim: number, eps = 1e-12): Tensor {
  return x.div(clampMin(norm(x, [dim], true), eps).expand(...x.shape));
}

/**
 * softmax(q·kᵀ·scale)·v over the last two axes. Uses the fused kernel when this libtorch
 * has it (2.x: flash / memory-efficient attention on CUDA); otherwise the written-out form,
 * which is what the fused kernel computes.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, scale: number, preferFused = true): Tensor {
  const d = q.shape[q.shape.length - 1];
  if (preferFused && hasOp('aten::scaled_dot_product_attention')) {
    const defaultScale = 1 / Math.sqrt(d);
    if (Math.abs(scale - defaultScale) < 1e-12) {
      return call('aten::scaled_dot_product_attention', '', [q, k, v, null, 0, false]);
    }
  }
  return q.mul(scale).matmul(k.transpose(-2, -1)).softmax(-1).matmul(v);
}

/** Bicubic-free helper: a dense matrix product of a batch with a fixed matrix on the left. */
export function bmm(a: Tensor, b: Tensor): Tensor {
  return call('aten::bmm', '', [a, b]);
}
export function scatterAdd(t: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  return call('aten::scatter_add', '', [t, dim, index, src]);
}
