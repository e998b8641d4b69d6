/** Process-wide settings: seeds and generator state, threads, autocast, devices. */
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
export function cudaMemory(device = 0, resetPeak = false) {
  return native.cudaMemory(device, resetPeak);
}

/** Runs fn under CUDA autocast with the given low-precision dtype (fp16 or bf16). */
export function autocast<T>(dtype: DType | null, fn: () => T): T {
  if (!dtype || dtype === 'float32') return fn();
  native.setAutocast(true, dtype);
  try {
    return fn();
  } finally {
    native.setAutocast(false);
  }
}

/** Checks a device string and that this build can use it. */
export function checkDevice(device: string): string {
  if (device === 'cpu') return device;
  const m = /^cuda(?::(\d+))?$/.exec(device);
  if (!m) throw new Error(`--device: '${device}' is not a device (expected cpu, cuda or cuda:N)`);
  const count = native.buildInfo().cudaDevices;
  const index = m[1] ? Number(m[1]) : 0;
  if (index >= count) {
    throw new Error(
      count === 0
        ? `--device: '${device}' requested but this build of the binding sees no CUDA device (libtorch ${native.buildInfo().torch}${native.buildInfo().cudaBuild ? '' : ', CPU-only build'})`
        : `--device: '${device}' requested but only ${count} CUDA device(s) are visible`,
    );
  }
  return device;
}
