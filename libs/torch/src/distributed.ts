/**
 * Collectives between processes, from libtorch's c10d: a TCPStore rendezvous and a Gloo
 * process group (CPU tensors), DDP's Reducer for gradients, and an all-reduce that autograd
 * can differentiate. Nothing here knows of a model: the trainer decides what to reduce.
 *
 * Every call blocks its thread until the collective is done or the group's timeout has
 * passed, so call it from a worker thread (the trainer's step worker), not from an event
 * loop that must stay responsive. A dead or missing peer becomes an Error whose message
 * names the operation and this process's rank, with `code` COLLECTIVE_ERROR_CODE (also when
 * Gloo fails under the Reducer, inside backward).
 */
import { native, NativeGroup, NativeReducer } from './native';
import { Tensor } from './tensor';

/** The `code` of an Error from a collective or rendezvous that failed (a peer died, never came, or disagreed). */
export const COLLECTIVE_ERROR_CODE = 'ERR_SERE_COLLECTIVE';

/** Whether `e` says the group failed, rather than anything else going wrong. */
export function isCollectiveError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === COLLECTIVE_ERROR_CODE;
}

export type ReduceOp = 'sum' | 'avg' | 'max' | 'min';

export interface ProcessGroupOptions {
  /** Host of rank 0, which serves the rendezvous store (MASTER_ADDR). */
  masterAddr: string;
  /** Port of the store on rank 0 (MASTER_PORT). */
  masterPort: number;
  rank: number;
  worldSize: number;
  /** Bound on the rendezvous and on every collective, seconds (--dist_timeout). */
  timeoutSeconds: number;
}

/** Whether this build of the addon has collectives (libtorch 1.x with c10d and Gloo). */
export function hasCollectives(): boolean {
  return native.hasCollectives();
}

export class ProcessGroup {
  private group: NativeGroup | null;

  private constructor(
    group: NativeGroup,
    readonly rank: number,
    readonly worldSize: number,
  ) {
    this.group = group;
  }

  /**
   * Joins the group: rank 0 serves the store, the others connect to it; all agree on the
   * world size and wait for every rank (bounded by the timeout) before the Gloo mesh forms.
   */
  static join(o: ProcessGroupOptions): ProcessGroup {
    const g = native.newProcessGroup({ masterAddr: o.masterAddr, masterPort: o.masterPort, rank: o.rank, worldSize: o.worldSize, timeoutMs: Math.round(o.timeoutSeconds * 1000) });
    return new ProcessGroup(g, o.rank, o.worldSize);
  }

  private get native(): NativeGroup {
    if (!this.group) throw new Error(`the process group of rank ${this.rank} is closed`);
    return this.group;
  }

  /** Reduces each tensor in place across ranks (contiguous tensors). */
  allReduce(tensors: Tensor[], op: ReduceOp = 'sum'): void {
    native.allReduce(this.native, tensors.map((t) => t.handle), op);
  }

  /** Copies root's tensors into every rank's, in buckets (as DDP syncs module states). */
  broadcast(tensors: Tensor[], root = 0): void {
    native.broadcast(this.native, tensors.map((t) => t.handle), root);
  }

  /** Every rank's copy of `input`, in rank order (new tensors, in the current scope). */
  allGather(input: Tensor): Tensor[] {
    return native.allGather(this.native, input.handle).map((h) => new Tensor(h));
  }

  barrier(): void {
    native.barrier(this.native);
  }

  /**
   * Σ over ranks of `input`, as a new tensor that autograd differentiates: the gradient of
   * each rank's input is the all-reduced sum of the gradients of every rank's output
   * (what SyncBatchNorm's statistics need).
   */
  allReduceSum(input: Tensor): Tensor {
    return new Tensor(native.allReduceSumGrad(this.native, input.handle));
  }

  close(): void {
    if (this.group) native.closeProcessGroup(this.group);
    this.group = null;
  }

  /** The native group, for GradientReducer. */
  handle(): NativeGroup {
    return this.native;
  }
}

export interface GradientReducerOptions {
  /** Bucket size, bytes (DDP's bucket_cap_mb: 25 MiB). */
  bucketCapBytes?: number;
  /** The first bucket's size, bytes (DDP: 1 MiB, so the first all-reduce starts early). */
  firstBucketCapBytes?: number;
  /** Parameters that may receive no gradient in a step (DDP's find_unused_parameters). */
  findUnusedParameters?: boolean;
}

/**
 * DDP's Reducer: averages the parameters' gradients across ranks in buckets, each bucket
 * all-reduced as soon as its gradients are ready during backward, so communication
 * overlaps the rest of the backward pass. Call prepareForBackward(outputs) before every
 * backward; after backward returns, every parameter's .grad holds the average.
 */
export class GradientReducer {
  private reducer: NativeReducer | null;
  readonly buckets: number;

  constructor(group: ProcessGroup, params: Tensor[], o: GradientReducerOptions = {}) {
    const r = native.newReducer(group.handle(), params.map((p) => p.handle), {
      bucketCapBytes: o.bucketCapBytes ?? 25 * 1024 * 1024,
      firstBucketCapBytes: o.firstBucketCapBytes ?? 1024 * 1024,
      findUnusedParameters: o.findUnusedParameters ?? false,
    });
    this.reducer = r.handle;
    this.buckets = r.buckets;
  }

  prepareForBackward(outputs: Tensor[]): void {
    if (!this.reducer) throw new Error('the gradient reducer is closed');
    native.reducerPrepare(this.reducer, outputs.map((t) => t.handle));
  }

  close(): void {
    if (this.reducer) native.closeReducer(this.reducer);
    this.reducer = null;
  }
}
