/**
 * How far a message's stream position may be from what the consumer already knows. The
 * checksum only says a message arrived as it was written; these rules catch a header that
 * was written wrong (forged, or by a broken producer) before the merge acts on it:
 *
 * - its own fields must fit the epoch plan: slot < slots in the epoch ≤ images in the epoch,
 *   samples inside the epoch, and the slot in the partition the layout puts it in
 *   (slot s is written by replica s mod R into partition s mod R);
 * - every epoch of a stream has the same plan (the dataset, ranks and slot size do not
 *   change during a job), so its slot and image counts must match the stream's first message;
 * - a replica writes its slots of a partition one after the other, so a message k offsets
 *   after an accepted one is at most k of the partition's slots past it (fewer when messages
 *   between were dropped). A gap wider than that is not a missing slot but a lying header.
 *
 * The first message a partition delivers has nothing before it: where a partition starts
 * (retention, a producer started at a later slot) is only bounded by the first two rules.
 */
import type { MessageInfo } from '@sere/wire';

export interface StreamPlan {
  slotsInEpoch: number;
  rankEpochSize: number;
}

export interface Position {
  epoch: number;
  seq: number;
}

/** Why `info` cannot be a message of `partition` (of `partitions`), or null. */
export function headerProblem(info: MessageInfo, partition: number, partitions: number): string | null {
  const { epoch, seq, slotsInEpoch, rankEpochSize, firstPosition, count, replica } = info;
  if (seq >= slotsInEpoch) return `slot ${seq} of epoch ${epoch} is past the ${slotsInEpoch} slots its header gives the epoch`;
  if (slotsInEpoch > rankEpochSize) return `header gives ${slotsInEpoch} slots for ${rankEpochSize} images per epoch (a slot holds at least one image)`;
  if (firstPosition + count > rankEpochSize) return `samples at position ${firstPosition}..${firstPosition + count - 1} run past the ${rankEpochSize} images of epoch ${epoch}`;
  if (seq % partitions !== partition) return `slot ${seq} belongs to partition ${seq % partitions} of ${partitions}, not to partition ${partition}`;
  if (replica !== partition) return `written by replica ${replica}, which writes partition ${replica}, not partition ${partition}`;
  return null;
}

/** Why `info` disagrees with the stream's plan, or null. */
export function planProblem(info: MessageInfo, plan: StreamPlan): string | null {
  if (info.slotsInEpoch === plan.slotsInEpoch && info.rankEpochSize === plan.rankEpochSize) return null;
  return (
    `epoch ${info.epoch} slot ${info.seq} says ${info.slotsInEpoch} slots and ${info.rankEpochSize} images per epoch; the stream's first message said ` +
    `${plan.slotsInEpoch} slots and ${plan.rankEpochSize} images (a new dataset needs a new topic prefix)`
  );
}

/**
 * Slots of `partition` from `from` (exclusive) to `to` (inclusive) under `plan`; 0 when `to`
 * is not after `from`. Both positions must be slots of that partition (headerProblem passed).
 * Far-apart positions give numbers past 2^53; they are only compared with small ones.
 */
export function slotsBetween(from: Position, to: Position, partition: number, partitions: number, plan: StreamPlan): number {
  if (to.epoch < from.epoch || (to.epoch === from.epoch && to.seq <= from.seq)) return 0;
  const ordinal = (seq: number) => (seq - partition) / partitions;
  if (to.epoch === from.epoch) return ordinal(to.seq) - ordinal(from.seq);
  const perEpoch = Math.ceil((plan.slotsInEpoch - partition) / partitions);
  const restOfEpoch = perEpoch - ordinal(from.seq) - 1;
  return restOfEpoch + (to.epoch - from.epoch - 1) * perEpoch + ordinal(to.seq) + 1;
}
