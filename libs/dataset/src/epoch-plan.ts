/**
 * How one epoch's work is cut up. The dataset order of epoch e is the seeded permutation of
 * (seed, e) (the same on every replica and every trainer, so nothing needs to be agreed at
 * run time). Trainer rank r takes its share as PyTorch's DistributedSampler cuts it (see
 * distributedShard): every T-th image of the order from position r, the order padded with
 * its own first images to a multiple of T. Every rank's stream then has ceil(N/T) images, as
 * in the reference and as a folder source's shard, so ranks agree on the iterations per
 * epoch. A rank's stream is cut into slots of `slotSize` images (the last may be short);
 * slot s is produced by replica s mod R into partition s mod R of the rank's topic. The
 * consumer reads slots back in order s = 0, 1, 2, …, so every rank sees the same sequence
 * of images whatever the timing of the replicas.
 */
import { epochPermutation } from '@sere/augment';
import { DataError } from './errors';

export interface PlanOptions {
  /** Images in the dataset index. */
  size: number;
  seed: number;
  epoch: number;
  /** Trainer ranks T. */
  ranks: number;
  /** Producer replicas R (= partitions per rank topic). */
  replicas: number;
  /** Images per slot (per Kafka message). */
  slotSize: number;
}

export interface Slot {
  epoch: number;
  rank: number;
  seq: number;
  /** Replica that produces it, and the partition it goes to. */
  replica: number;
  /** Position of its first image in the rank's stream of this epoch. */
  firstPosition: number;
  /** Dataset indices of its images, in stream order. */
  indices: number[];
  slotsInEpoch: number;
  rankEpochSize: number;
  /** Trainer ranks T the images are shared between (written in every message's header). */
  ranks: number;
}

function positiveInt(name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new DataError(`${name} must be an integer >= ${min}, got ${v}`);
}

export class EpochPlan {
  readonly order: Uint32Array;

  constructor(readonly opts: PlanOptions) {
    positiveInt('dataset size', opts.size);
    positiveInt('ranks', opts.ranks);
    positiveInt('replicas', opts.replicas);
    positiveInt('slot size', opts.slotSize);
    positiveInt('epoch', opts.epoch, 0);
    if (opts.ranks > opts.size) throw new DataError(`${opts.ranks} trainer ranks but only ${opts.size} images: every rank needs at least one`);
    this.order = epochPermutation(opts.seed, opts.epoch, opts.size);
  }

  rankEpochSize(rank: number): number {
    this.checkRank(rank);
    return Math.ceil(this.opts.size / this.opts.ranks);
  }

  slotsInEpoch(rank: number): number {
    return Math.ceil(this.rankEpochSize(rank) / this.opts.slotSize);
  }

  /** The rank's stream of dataset indices for this epoch. */
  rankStream(rank: number): number[] {
    this.checkRank(rank);
    return Array.from(distributedShard(this.order, rank, this.opts.ranks));
  }

  slot(rank: number, seq: number): Slot {
    const slots = this.slotsInEpoch(rank);
    if (!Number.isInteger(seq) || seq < 0 || seq >= slots) throw new DataError(`slot ${seq} out of range: rank ${rank} has ${slots} slots in epoch ${this.opts.epoch}`);
    const { slotSize, ranks, replicas, epoch } = this.opts;
    const first = seq * slotSize;
    const end = Math.min(first + slotSize, this.rankEpochSize(rank));
    const indices: number[] = [];
    const { size } = this.opts;
    for (let p = first; p < end; p++) indices.push(this.order[(rank + p * ranks) % size]);
    return { epoch, rank, seq, replica: seq % replicas, firstPosition: first, indices, slotsInEpoch: slots, rankEpochSize: this.rankEpochSize(rank), ranks };
  }

  /** Slot numbers of `rank` that `replica` produces, in order. */
  slotsOf(rank: number, replica: number): number[] {
    if (!Number.isInteger(replica) || replica < 0 || replica >= this.opts.replicas) {
      throw new DataError(`replica ${replica} out of range [0, ${this.opts.replicas})`);
    }
    const out: number[] = [];
    for (let s = replica; s < this.slotsInEpoch(rank); s += this.opts.replicas) out.push(s);
    return out;
  }

  private checkRank(rank: number): void {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.opts.ranks) throw new DataError(`rank ${rank} out of range [0, ${this.opts.ranks})`);
  }
}

/**
 * Rank r's share of an epoch's order for a folder source, as PyTorch's DistributedSampler
 * cuts it (shuffle on, drop_last off): the order is padded with its own first images up to
 * a multiple of the world size, and rank r takes every W-th image from position r. Each rank
 * gets ceil(n/W) images; together they cover the order, a few images twice when W ∤ n.
 */
export function distributedShard(order: Uint32Array, rank: number, worldSize: number): Uint32Array {
  if (worldSize === 1) return order;
  const per = Math.ceil(order.length / worldSize);
  const out = new Uint32Array(per);
  for (let k = 0; k < per; k++) out[k] = order[(rank + k * worldSize) % order.length];
  return out;
}
