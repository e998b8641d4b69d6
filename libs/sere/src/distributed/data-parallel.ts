/**
 * What changes when N ranks train one model together, each on its share of the batch
 * (the reference's DistributedDataParallel run, spec §4.1, §3.2):
 *   - every rank starts from rank 0's parameters and buffers (broadcast);
 *   - the student's gradients are averaged across ranks by c10d's Reducer, bucket by bucket
 *     while backward still runs;
 *   - the relation heads' batch norms are SyncBatchNorms, student and teacher;
 *   - the iBOT centres move with the batch mean over all ranks' teacher outputs;
 *   - logged statistics are averaged over ranks;
 *   - drop-path draws from a generator per rank, so ranks do not drop the same paths.
 * With all of these, N ranks × B images compute what one process computes on N·B images.
 */
import * as T from '@sere/torch';
import type { Networks } from '../model/networks';
import { namedParameters, trainableParameters } from '../model/networks';
import type { BatchNormSync } from './sync-batch-norm';

/** Seeds at most 2^40 keep the per-rank generator seeds below 2^53 and distinct per rank. */
const RANK_SEED_STRIDE = 2 ** 40;

/**
 * The seed of rank r's own random draws (drop-path): distinct for distinct ranks of one run
 * (seed + r·2^40, seed < 2^40), and rank 0's is the run's seed, so one process is unchanged.
 */
export function rankSeed(seed: number, rank: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed >= RANK_SEED_STRIDE) throw new RangeError(`--seed must be an integer in [0, 2^40) to train on several ranks, got ${seed}`);
  return seed + rank * RANK_SEED_STRIDE;
}

export interface DataParallelOptions {
  /** Bucket size of the gradient all-reduce, MiB (DDP's bucket_cap_mb). */
  bucketCapMb?: number;
  /**
   * Some parameters sit out every step (the local heads when --compat_local_heads sends
   * one or two local crops through the global heads): the reducer must look for them, as
   * DDP's find_unused_parameters does, at the cost of one graph traversal per step.
   */
  findUnusedParameters?: boolean;
}

export class DataParallel implements BatchNormSync {
  readonly rank: number;
  readonly worldSize: number;
  private reducer: T.GradientReducer | null = null;

  constructor(
    readonly group: T.ProcessGroup,
    private readonly o: DataParallelOptions = {},
  ) {
    this.rank = group.rank;
    this.worldSize = group.worldSize;
  }

  /** Makes the networks data-parallel: rank 0's state everywhere, SyncBatchNorm, the reducer. */
  attach(nets: Networks, o: Pick<DataParallelOptions, 'findUnusedParameters'> = {}): void {
    T.noGrad(() => {
      const states = [nets.student, nets.teacher].flatMap((net) => [
        ...namedParameters(net).map(([, t]) => t),
        ...net.backbone.params.buffers.values(),
        ...net.head.params.buffers.values(),
      ]);
      this.group.broadcast(states, 0);
    });
    nets.student.backbone.syncBatchNorm = this;
    nets.teacher.backbone.syncBatchNorm = this;
    const cap = (this.o.bucketCapMb ?? 25) * 1024 * 1024;
    const params = trainableParameters(nets.student).map(([, p]) => p);
    this.reducer = new T.GradientReducer(this.group, params, { bucketCapBytes: cap, findUnusedParameters: o.findUnusedParameters ?? this.o.findUnusedParameters ?? false });
  }

  /** Before each backward: the reducer arms its hooks for the graph of `loss`. */
  beforeBackward(loss: T.Tensor): void {
    this.reducer?.prepareForBackward([loss]);
  }

  allReduceSum(x: T.Tensor): T.Tensor {
    return this.group.allReduceSum(x);
  }

  /** The mean over ranks of a tensor, as a new tensor (no gradient). */
  mean(x: T.Tensor): T.Tensor {
    const out = x.detach().contiguous().clone();
    this.group.allReduce([out], 'avg');
    return out;
  }

  /** Every rank's copy of a tensor, in rank order. */
  gather(x: T.Tensor): T.Tensor[] {
    return this.group.allGather(x.contiguous());
  }

  /** The smallest value any rank holds (e.g. the iterations per epoch every rank can run). */
  min(value: number): number {
    return this.minEach([value])[0];
  }

  /** For each position, the smallest value any rank holds there: several agreements in one all-reduce. */
  minEach(values: number[]): number[] {
    return T.scope(() => {
      const t = T.tensor(values, [values.length], { dtype: 'float64' });
      this.group.allReduce([t], 'min');
      return Array.from(t.data() as Float64Array);
    });
  }

  /** Every rank's string, in rank order (UTF-8 bytes, padded to the longest). */
  gatherText(text: string): string[] {
    const bytes = Buffer.from(text, 'utf8');
    return T.scope(() => {
      const n = T.tensor([bytes.length], [1], { dtype: 'float64' });
      this.group.allReduce([n], 'max');
      const longest = n.item() as number;
      const padded = new Uint8Array(longest + 4);
      new DataView(padded.buffer).setUint32(0, bytes.length, true);
      padded.set(bytes, 4);
      return this.gather(T.tensor(padded, [padded.length], { dtype: 'uint8' })).map((t) => {
        const b = Buffer.from(t.data() as Uint8Array);
        return b.subarray(4, 4 + b.readUInt32LE(0)).toString('utf8');
      });
    });
  }

  dispose(): void {
    this.reducer?.close();
    this.reducer = null;
  }
}
