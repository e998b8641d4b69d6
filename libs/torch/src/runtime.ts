/** Process-wide settings: seeds and generator state, threads, autocast, devices. */
import { FlagError } from '@sere/config';
import { DType } from './dtype';
import { native } from './native';
import { Tensor } from './tensor';

export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}
/** State of a device's default generator (uint8 tensor), for exact resume. */
export function getRngState(device = 'cpu'): Tensor {
  return new Tensor(native.getRngState(device));
}
export function setRngState(state: Tensor, device = 'cpu'): void {
  native.setRngState(device, state.handle);
}
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}
export function getNumThreads(): number {
  return native.getNumThreads();
}
export function buildInfo() {
  return native.buildInfo();
}
export function cudaAvailable(): boolean {
  return native.buildInfo().cudaDevices > 0;
}
export function cudaDeviceName(index = 0): string | null {
  return native.cudaDeviceName(index);
}
export function synchronize(): void {
  native.synchronize();
}
/** Hands cached CUDA memory back to the driver. */
export function emptyCache(): void {
  native.emptyCache();
}
export function cudaMemory(device = 0, resetPeak = false) {
  return native.cudaMemory(device, resetPeak);
}

let autocastDtype: DType | null = null;

/** Runs fn under CUDA autocast with the given low-precision dtype (fp16 or bf16); null runs fn as is. */
export function autocast<T>(dtype: DType | null, fn: () => T): T {
  if (!dtype || dtype === 'float32') return fn();
  const prev = autocastDtype;
  native.setAutocast(true, dtype);
  autocastDtype = dtype;
  try {
    return fn();
  } finally {
    autocastDtype = prev;
    if (prev) native.setAutocast(true, prev);
    else native.setAutocast(false);
  }
}

/** Runs fn in full precision inside an autocast region (the reference casts relations to fp32). */
export function fullPrecision<T>(fn: () => T): T {
  const prev = autocastDtype;
  if (!prev) return fn();
  native.setAutocast(false);
  autocastDtype = null;
  try {
    return fn();
  } finally {
    autocastDtype = prev;
    native.setAutocast(true, prev);
  }
}

/** TF32 tensor-core maths for fp32 CUDA matmuls/convolutions (off for parity checks). */
export function setAllowTF32(on: boolean): void {
  native.setAllowTF32(on);
}

/** Checks a device string and that this build can use it. */
export function checkDevice(device: string): string {
  if (device === 'cpu') return device;
  const m = /^cuda(?::(\d+))?$/.exec(device);
  if (!m) throw new FlagError(`--device: '${device}' is not a device (expected cpu, cuda or cuda:N)`, '--device');
  const count = native.buildInfo().cudaDevices;
  const index = m[1] ? Number(m[1]) : 0;
  if (index >= count) {
    throw new FlagError(
      count === 0
        ? `--device: '${device}' requested but this build of the binding sees no CUDA device (libtorch ${native.buildInfo().torch}${native.buildInfo().cudaBuild ? '' : ', CPU-only build'})`
        : `--device: '${device}' requested but only ${count} CUDA device(s) are visible`,
      '--device',
    );
  }
  return device;
}
