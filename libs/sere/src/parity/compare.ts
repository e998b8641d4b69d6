/**
 * Comparisons with the tolerances of the fixture README, each producing a printable check
 * (name, largest deviation, the bound it had to meet).
 */
import * as T from '@sere/torch';
import { FixtureTensor } from './fixture-tensor';

export interface Check {
  name: string;
  /** Largest absolute deviation. */
  maxAbs: number;
  /** The bound on that deviation (for elementwise checks: the worst element's bound). */
  bound: number;
  ok: boolean;
  detail?: string;
}

function values(x: T.Tensor | FixtureTensor | ArrayLike<number>): ArrayLike<number> {
  if (x instanceof T.Tensor) return T.scope(() => x.detach().to({ dtype: 'float64' }).data() as Float64Array);
  if ((x as FixtureTensor).shape && (x as FixtureTensor).dtype) return (x as FixtureTensor).values;
  return x as ArrayLike<number>;
}

function shapeOf(x: T.Tensor | FixtureTensor | ArrayLike<number>): number[] | null {
  if (x instanceof T.Tensor) return x.shape;
  if ((x as FixtureTensor).shape && (x as FixtureTensor).dtype) return (x as FixtureTensor).shape;
  return null;
}

function shapeMismatch(name: string, a: number[] | null, b: number[] | null): Check | null {
  if (!a || !b) return null;
  const na = a.reduce((x, y) => x * y, 1);
  const nb = b.reduce((x, y) => x * y, 1);
  if (na === nb && (a.length === b.length ? a.every((v, i) => v === b[i]) : true)) return null;
  return { name, maxAbs: Infinity, bound: 0, ok: false, detail: `shape [${a}] vs expected [${b}]` };
}

/** Elementwise |a−b| ≤ atol + rtol·|b| (forward activations, relations, head outputs). */
export function checkClose(
  name: string,
  actual: T.Tensor | FixtureTensor | ArrayLike<number>,
  expected: T.Tensor | FixtureTensor | ArrayLike<number>,
  atol = 1e-4,
  rtol = 1e-4,
): Check {
  const bad = shapeMismatch(name, shapeOf(actual), shapeOf(expected));
  if (bad) return bad;
  const a = values(actual);
  const b = values(expected);
  if (a.length !== b.length) return { name, maxAbs: Infinity, bound: 0, ok: false, detail: `${a.length} values vs ${b.length}` };
  let maxAbs = 0;
  let worstBound = atol;
  let ok = true;
  let worstExcess = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const dev = Math.abs(a[i] - b[i]);
    const bound = atol + rtol * Math.abs(b[i]);
    if (!(dev <= bound)) ok = false;
    if (dev > maxAbs || Number.isNaN(dev)) maxAbs = Number.isNaN(dev) ? Infinity : dev;
    if (dev - bound > worstExcess) {
      worstExcess = dev - bound;
      worstBound = bound;
    }
  }
  return { name, maxAbs, bound: worstBound, ok };
}

/** Per-tensor gradient bound: max|a−b| ≤ rel·max|b| + floor (gradients span orders of magnitude). */
export function checkGradient(
  name: string,
  actual: T.Tensor | FixtureTensor | ArrayLike<number>,
  expected: T.Tensor | FixtureTensor | ArrayLike<number>,
  rel = 1e-4,
  floor = 1e-7,
): Check {
  const bad = shapeMismatch(name, shapeOf(actual), shapeOf(expected));
  if (bad) return bad;
  const a = values(actual);
  const b = values(expected);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const dev = Math.abs(a[i] - b[i]);
    maxAbs = Number.isNaN(dev) ? Infinity : Math.max(maxAbs, dev);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  const bound = rel * scale + floor;
  return { name, maxAbs, bound, ok: a.length === b.length && maxAbs <= bound };
}

/** Scalar losses: relative 1e-5, absolute 1e-4 (the looser of the two). */
export function checkScalar(name: string, actual: number, expected: number, rel = 1e-5, abs = 1e-4): Check {
  const dev = Math.abs(actual - expected);
  const bound = Math.max(abs, rel * Math.abs(expected));
  return { name, maxAbs: dev, bound, ok: dev <= bound, detail: `${actual} vs ${expected}` };
}

export function formatCheck(c: Check): string {
  const mark = c.ok ? 'ok  ' : 'FAIL';
  const dev = Number.isFinite(c.maxAbs) ? c.maxAbs.toExponential(2) : String(c.maxAbs);
  return `${mark} ${c.name.padEnd(64)} max|Δ| ${dev.padStart(9)}  bound ${c.bound.toExponential(2)}${c.detail && !c.ok ? '  ' + c.detail : ''}`;
}
