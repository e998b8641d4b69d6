/**
 * Loads the compiled addon. Kept in one place so a missing build gives one clear message
 * instead of a module-resolution stack trace deep inside the model code.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface NativeHandle {
  dispose(): void;
  isDisposed(): boolean;
  shape(): number[];
  dtype(): string;
  device(): string;
  requiresGrad(): boolean;
  setRequiresGrad(on: boolean): void;
  grad(): NativeHandle | null;
  setGrad(g: NativeHandle | null): void;
  backward(grad?: NativeHandle | null): void;
  toBuffer(): ArrayBuffer;
  item(): number | boolean;
  numel(): number;
  dataPtr(): bigint;
  isContiguous(): boolean;
  /** Back-reference to the Tensor that owns this handle (set by the TS side). */
  owner?: unknown;
}

export interface NativeAddon {
  TensorHandle: new () => NativeHandle;
  findOp(name: string, overload: string): number;
  callOp(id: number, args: unknown[]): unknown;
  opSchema(id: number): string;
  fromBuffer(data: ArrayBufferView | ArrayBuffer, shape: number[], dtype: string, device?: string): NativeHandle;
  counts(): { live: number; created: number; finalised: number };
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  manualSeed(seed: number): void;
  getRngState(device: string): NativeHandle;
  setRngState(device: string, state: NativeHandle): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  setAutocast(on: boolean, dtype?: string): void;
  clearAutocastCache(): void;
  setAllowTF32(on: boolean): void;
  buildInfo(): { torch: string; cudaBuild: boolean; cudaDevices: number; threads: number; parallelInfo: string };
  cudaDeviceName(index: number): string | null;
  synchronize(): void;
  emptyCache(): void;
  cudaMemory(device?: number, resetPeak?: boolean): { allocated: number; peak: number; reserved: number } | null;
  hasCollectives(): boolean;
  newProcessGroup(o: { masterAddr: string; masterPort: number; rank: number; worldSize: number; timeoutMs: number }): NativeGroup;
  closeProcessGroup(g: NativeGroup): void;
  allReduce(g: NativeGroup, tensors: NativeHandle[], op: string): void;
  broadcast(g: NativeGroup, tensors: NativeHandle[], root: number): void;
  allGather(g: NativeGroup, input: NativeHandle): NativeHandle[];
  barrier(g: NativeGroup): void;
  allReduceSumGrad(g: NativeGroup, input: NativeHandle): NativeHandle;
  newReducer(g: NativeGroup, params: NativeHandle[], o: { bucketCapBytes: number; firstBucketCapBytes: number; findUnusedParameters: boolean }): { handle: NativeReducer; buckets: number };
  reducerPrepare(r: NativeReducer, outputs: NativeHandle[]): void;
  closeReducer(r: NativeReducer): void;
}

/** Opaque native objects of the collectives (distributed.ts). */
export type NativeGroup = { readonly __group: unique symbol };
export type NativeReducer = { readonly __reducer: unique symbol };

const candidates = [
  process.env.SERE_TORCH_ADDON,
  path.join(__dirname, '..', 'build', 'sere_torch.node'),
].filter((p): p is string => !!p);

/** The addon file this process loads (for tests that load it again in a child process). */
export const addonFile: string | undefined = candidates.find((file) => fs.existsSync(file));

function load(): NativeAddon {
  if (addonFile) return require(addonFile) as NativeAddon;
  throw new Error(
    `The libtorch binding is not built (looked for ${candidates.join(', ')}). ` +
      'Install libtorch (Debian: apt-get install libtorch-dev libopenblas0-pthread) and run `npm run build:addon`.',
  );
}

export const native: NativeAddon = load();
