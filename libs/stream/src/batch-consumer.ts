/**
 * The trainer's reader of one rank's stream. It merges the rank's partitions back into slot
 * order (slot s lives in partition s mod R), so every run of a rank sees the same sequence of
 * images, cuts that sequence into batches of B images that never straddle two epochs, and
 * commits a batch's position only when the trainer says the batch is done.
 *
 * A committed position is, per partition, the first offset not yet fully used, plus a
 * cursor (epoch, slot, samples already taken from that slot) in the commit metadata. A
 * restarted trainer re-reads the message it had half used and skips what it had taken, so it
 * loses and repeats nothing.
 *
 * Bad messages (truncated, corrupt, newer format) are counted by kind and dropped; their
 * slot then counts as missing, which the merge notices when the partition's next message
 * arrives. So is a message whose header puts it where it cannot be (slot-bounds.ts): a
 * forged slot or epoch far ahead would otherwise make the merge pass over the real
 * messages behind it. A gap the merge does pass over is counted in one step, however many
 * slots it spans, so no header can keep the reader busy.
 *
 * A trainer that keeps its own record of the position (in its checkpoint) passes it as
 * `from`; the group's commits then only tell the producers how far the trainer has got.
 */
import type { MultiCropSample } from '@sere/augment';
import { DataError } from '@sere/dataset';
import { decodeBatch, inspectMessage, WireError, type MessageInfo, type WireBatch, type WireErrorKind } from '@sere/wire';
import { headerProblem, planProblem, slotsBetween, type Position, type StreamPlan } from './slot-bounds';
import type { CommitRequest, CommittedPosition, ConsumerTransport, StreamMessage } from './transport';

export interface Cursor {
  epoch: number;
  slot: number;
  /** Samples of that slot already handed out. */
  skip: number;
}

export interface BatchConsumerOptions {
  rank: number;
  batchSize: number;
  /** Where a group with no commit starts. Default: epoch 0, slot 0. */
  start?: { epoch: number; slot?: number };
  /**
   * Positions to start from instead of the group's commits, by partition (offset -1: the
   * earliest retained message); their metadata's cursor applies as a committed one would.
   */
  from?: Map<number, CommittedPosition>;
  /** Messages buffered per partition before the partition is paused. */
  prefetch?: number;
  /** Hook for logs: every dropped message or missing slot, with why. */
  onEvent?: (e: ConsumerEvent) => void;
}

export type ConsumerEvent =
  | { type: 'wire-error'; kind: WireErrorKind; partition: number; offset: number; message: string }
  | { type: 'wrong-rank'; partition: number; offset: number; rank: number }
  | { type: 'stale'; partition: number; offset: number; epoch: number; slot: number }
  /** Slots from `slot` on never came: `count` of them, or null for the rest of an epoch whose length is not known. */
  | { type: 'missing-slot'; epoch: number; slot: number; count: number | null };

export interface Batch {
  /** Counts batches handed out by this consumer (from 0 at each start). */
  id: number;
  epoch: number;
  /** Position of the first sample in the rank's stream of this epoch. */
  position: number;
  samples: MultiCropSample[];
  /** The last batch of its epoch; it may hold fewer than batchSize samples. */
  endOfEpoch: boolean;
  /** Images of this rank in the batch's epoch, as the producer planned them (its messages' header). */
  rankEpochSize: number;
  /** Trainer ranks the producer shares each epoch between (0 where its messages do not say). */
  ranks: number;
  /** Where the stream stands after this batch; committed by done(). */
  readonly after: Cursor;
  readonly commit: CommitRequest[];
}

export interface ConsumerStats {
  messages: number;
  samples: number;
  batches: number;
  committed: number;
  wireErrors: Partial<Record<WireErrorKind | 'wrong-rank', number>>;
  staleMessages: number;
  /** Slots that never came (the rest of an epoch of unknown length counts as one). */
  missingSlots: number;
}

interface Entry {
  offset: number;
  /** Null for a message refused on arrival; it stays queued only to keep commits in offset order. */
  info: MessageInfo | null;
  decoded: Promise<WireBatch | WireError>;
}

type GoodEntry = Entry & { info: MessageInfo };

const order = (a: { epoch: number; slot: number }, b: { epoch: number; slot: number }) => a.epoch - b.epoch || a.slot - b.slot;

export function encodeCursor(c: Cursor): string {
  return JSON.stringify({ v: 1, epoch: c.epoch, slot: c.slot, skip: c.skip });
}

export function decodeCursor(metadata: string | null): Cursor | null {
  if (!metadata) return null;
  try {
    const o = JSON.parse(metadata) as Partial<Cursor> & { v?: number };
    if (o.v === 1 && [o.epoch, o.slot, o.skip].every((x) => Number.isInteger(x) && (x as number) >= 0)) {
      return { epoch: o.epoch!, slot: o.slot!, skip: o.skip! };
    }
  } catch {
    // fall through: foreign metadata means no cursor
  }
  return null;
}

export class BatchConsumer {
  readonly stats: ConsumerStats = { messages: 0, samples: 0, batches: 0, committed: 0, wireErrors: {}, staleMessages: 0, missingSlots: 0 };
  private readonly prefetch: number;
  private readonly queues: Entry[][] = [];
  /** Offsets below this were delivered already (a redelivery is dropped). */
  private readonly nextOffset: number[] = [];
  /** Offsets below this are fully used: what a commit records. -1: nothing known. */
  private readonly usedOffset: number[] = [];
  private readonly paused: boolean[] = [];
  private readonly slotsInEpoch = new Map<number, number>();
  /** Slot and image counts per epoch, from the first message that passed the header checks. */
  private plan: StreamPlan | null = null;
  /** Per partition, the furthest message accepted on arrival: what bounds the next one's position. */
  private readonly furthest: ((Position & { offset: number }) | null)[] = [];
  private cursor: Cursor = { epoch: 0, slot: 0, skip: 0 };
  private waiter: (() => void) | null = null;
  private nextId = 0;
  private lastCommittedId = -1;
  private commitChain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Why the transport stopped delivering; every later next() fails with it. */
  private failure: Error | null = null;
  private started = false;
  private busy = false;

  constructor(
    private readonly transport: ConsumerTransport,
    private readonly opts: BatchConsumerOptions,
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new DataError(`batch size must be a positive integer, got ${opts.batchSize}`);
    this.prefetch = opts.prefetch ?? 4;
    for (let p = 0; p < transport.partitions; p++) {
      this.queues.push([]);
      this.nextOffset.push(0);
      this.usedOffset.push(-1);
      this.paused.push(false);
      this.furthest.push(null);
    }
  }

  /** Joins the group and positions the stream at the committed cursor (or the configured start). */
  async start(): Promise<Cursor> {
    if (this.started) throw new DataError('BatchConsumer.start called twice');
    this.started = true;
    this.cursor = { epoch: this.opts.start?.epoch ?? 0, slot: this.opts.start?.slot ?? 0, skip: 0 };
    const committed = await this.transport.start((m) => this.onMessage(m), { from: this.opts.from, onError: (e) => this.fail(e) });
    let best: Cursor | null = null;
    for (const [p, pos] of committed) {
      if (pos.offset >= 0) {
        this.usedOffset[p] = pos.offset;
        this.nextOffset[p] = Math.max(this.nextOffset[p], pos.offset);
      }
      const c = decodeCursor(pos.metadata);
      if (c && (!best || order(c, best) > 0 || (order(c, best) === 0 && c.skip > best.skip))) best = c;
    }
    if (best) this.cursor = best;
    return { ...this.cursor };
  }

  /** The position the next batch starts at. */
  position(): Cursor {
    return { ...this.cursor };
  }

  /** The next batch of up to batchSize samples; waits for the producers when the stream is dry. */
  async next(): Promise<Batch> {
    if (!this.started) throw new DataError('BatchConsumer.next called before start()');
    if (this.busy) throw new DataError('BatchConsumer.next called again before the previous call resolved');
    this.busy = true;
    try {
      return await this.assemble();
    } finally {
      this.busy = false;
    }
  }

  private async assemble(): Promise<Batch> {
    const B = this.opts.batchSize;
    const samples: MultiCropSample[] = [];
    let epoch = this.cursor.epoch;
    let position = -1;
    let rankEpochSize = 0;
    let ranks = 0;
    let endOfEpoch = false;
    while (samples.length < B) {
      if (this.epochFinished()) {
        this.cursor = { epoch: this.cursor.epoch + 1, slot: 0, skip: 0 };
        if (samples.length > 0) {
          endOfEpoch = true;
          break;
        }
        epoch = this.cursor.epoch;
        continue;
      }
      const p = this.cursor.slot % this.transport.partitions;
      const head = await this.headOf(p);
      const where = { epoch: head.info.epoch, slot: head.info.seq };
      const cmp = order(where, this.cursor);
      if (cmp < 0) {
        this.stats.staleMessages++;
        this.opts.onEvent?.({ type: 'stale', partition: p, offset: head.offset, ...where });
        this.pop(p, head);
        continue;
      }
      if (cmp > 0) {
        this.skipAhead(head.info);
        if (samples.length > 0 && this.cursor.epoch !== epoch) {
          endOfEpoch = true;
          break;
        }
        epoch = this.cursor.epoch;
        continue;
      }
      this.slotsInEpoch.set(head.info.epoch, head.info.slotsInEpoch);
      const decoded = await head.decoded;
      if (decoded instanceof WireError) {
        this.countWireError(decoded.kind, p, head.offset, decoded.message);
        this.pop(p, head);
        this.missing();
        continue;
      }
      const take = decoded.samples.slice(this.cursor.skip, this.cursor.skip + (B - samples.length));
      if (position < 0) {
        position = head.info.firstPosition + this.cursor.skip;
        rankEpochSize = head.info.rankEpochSize;
        ranks = head.info.ranks;
      }
      samples.push(...take);
      this.cursor.skip += take.length;
      if (this.cursor.skip >= decoded.samples.length) {
        this.pop(p, head);
        this.cursor = { epoch: this.cursor.epoch, slot: this.cursor.slot + 1, skip: 0 };
      }
      if (samples.length === B && this.epochFinished()) {
        this.cursor = { epoch: this.cursor.epoch + 1, slot: 0, skip: 0 };
        endOfEpoch = true;
      }
    }
    this.stats.samples += samples.length;
    this.stats.batches++;
    const after = { ...this.cursor };
    const metadata = encodeCursor(after);
    const commit: CommitRequest[] = [];
    this.usedOffset.forEach((offset, partition) => {
      if (offset >= 0) commit.push({ partition, offset, metadata });
    });
    return { id: this.nextId++, epoch, position: Math.max(position, 0), samples, endOfEpoch, rankEpochSize, ranks, after, commit };
  }

  /**
   * Records that the trainer has used `batch` (and every batch before it). Commits run in
   * order; marking an older batch after a newer one changes nothing.
   */
  done(batch: Batch): Promise<void> {
    if (batch.id <= this.lastCommittedId) return this.commitChain;
    this.lastCommittedId = batch.id;
    this.commitChain = this.commitChain.then(async () => {
      if (batch.commit.length > 0) await this.transport.commit(batch.commit);
      this.stats.committed = batch.id + 1;
    });
    return this.commitChain;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commitChain.catch(() => undefined);
    this.waiter?.();
    await this.transport.close();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const wake = this.waiter;
    this.waiter = null;
    wake?.();
  }

  private epochFinished(): boolean {
    const slots = this.slotsInEpoch.get(this.cursor.epoch);
    return slots !== undefined && this.cursor.slot >= slots;
  }

  /**
   * The cursor's partition holds a later message: the slots up to the first one some
   * partition may still deliver never came. Counted in one step, not walked slot by slot.
   */
  private skipAhead(ahead: MessageInfo): void {
    const { epoch, slot } = this.cursor;
    const length = this.slotsInEpoch.get(epoch);
    if (ahead.epoch > epoch && length === undefined) {
      // Nothing of the cursor's epoch was seen on this partition; its length is unknown,
      // so resume at the start of the epoch that is actually there.
      this.missingFrom(slot, null);
      this.cursor = { epoch: ahead.epoch, slot: 0, skip: 0 };
      return;
    }
    const R = this.transport.partitions;
    let next = length ?? Number.POSITIVE_INFINITY;
    for (let q = 0; q < R; q++) {
      const first = slot + ((q - (slot % R) + R) % R);
      const head = this.firstAccepted(q);
      if (!head || head.info.epoch < epoch || (head.info.epoch === epoch && head.info.seq < first)) next = Math.min(next, first);
      else if (head.info.epoch === epoch) next = Math.min(next, head.info.seq);
      // A head in a later epoch: this partition has nothing more of the cursor's epoch.
    }
    this.missingFrom(slot, next - slot);
    this.cursor = { epoch, slot: next, skip: 0 };
    if (this.epochFinished()) this.cursor = { epoch: epoch + 1, slot: 0, skip: 0 };
  }

  /** The slot at the cursor came but could not be used. */
  private missing(): void {
    this.missingFrom(this.cursor.slot, 1);
    this.cursor = { epoch: this.cursor.epoch, slot: this.cursor.slot + 1, skip: 0 };
    if (this.epochFinished()) this.cursor = { epoch: this.cursor.epoch + 1, slot: 0, skip: 0 };
  }

  private missingFrom(slot: number, count: number | null): void {
    this.stats.missingSlots += count ?? 1;
    this.opts.onEvent?.({ type: 'missing-slot', epoch: this.cursor.epoch, slot, count });
  }

  /** The partition's first queued message that was not refused on arrival (refused ones in front are let go). */
  private firstAccepted(p: number): GoodEntry | null {
    for (let head = this.queues[p][0]; head; head = this.queues[p][0]) {
      if (head.info) return head as GoodEntry;
      this.pop(p, head);
    }
    return null;
  }

  /** Why a message's position cannot be right (slot-bounds.ts), or null; an accepted one bounds the partition's next. */
  private positionProblem(p: number, offset: number, info: MessageInfo): string | null {
    const R = this.transport.partitions;
    const own = headerProblem(info, p, R);
    if (own) return own;
    this.plan ??= { slotsInEpoch: info.slotsInEpoch, rankEpochSize: info.rankEpochSize };
    const plan = planProblem(info, this.plan);
    if (plan) return plan;
    const last = this.furthest[p];
    const at = { epoch: info.epoch, seq: info.seq };
    if (last) {
      const steps = slotsBetween(last, at, p, R, this.plan);
      if (steps === 0) return null; // not ahead: a stale message, which the merge passes over
      const apart = offset - last.offset;
      if (steps > apart) {
        return (
          `epoch ${info.epoch} slot ${info.seq} is ${steps} of this partition's slots past epoch ${last.epoch} slot ${last.seq} at offset ${last.offset}, ` +
          `but only ${apart} message${apart === 1 ? '' : 's'} later (a replica writes its slots one after the other)`
        );
      }
    }
    this.furthest[p] = { ...at, offset };
    return null;
  }

  private countWireError(kind: WireErrorKind | 'wrong-rank', partition: number, offset: number, message: string): void {
    this.stats.wireErrors[kind] = (this.stats.wireErrors[kind] ?? 0) + 1;
    if (kind === 'wrong-rank') this.opts.onEvent?.({ type: 'wrong-rank', partition, offset, rank: Number(message) });
    else this.opts.onEvent?.({ type: 'wire-error', kind, partition, offset, message });
  }

  private onMessage(m: StreamMessage): void {
    const p = m.partition;
    if (this.closed || p < 0 || p >= this.queues.length || m.offset < this.nextOffset[p]) return;
    this.nextOffset[p] = m.offset + 1;
    // No commit yet: the first offset delivered is where this partition's stream begins.
    if (this.usedOffset[p] < 0) this.usedOffset[p] = m.offset;
    this.stats.messages++;
    let info: MessageInfo;
    try {
      info = inspectMessage(m.value);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.countWireError(e.kind, p, m.offset, e.message);
      this.enqueue(p, { offset: m.offset, info: null, decoded: Promise.resolve(e) });
      return;
    }
    if (info.rank !== this.opts.rank) {
      this.countWireError('wrong-rank', p, m.offset, String(info.rank));
      this.enqueue(p, { offset: m.offset, info: null, decoded: Promise.resolve(new WireError('malformed', 'wrong rank')) });
      return;
    }
    const problem = this.positionProblem(p, m.offset, info);
    if (problem) {
      const e = new WireError('malformed', problem);
      this.countWireError(e.kind, p, m.offset, e.message);
      this.enqueue(p, { offset: m.offset, info: null, decoded: Promise.resolve(e) });
      return;
    }
    // Decode on arrival: JPEG views decode on sharp's threads while the trainer works.
    const decoded = decodeBatch(m.value).catch((e: unknown) => {
      if (e instanceof WireError) return e;
      return new WireError('malformed', (e as Error).message);
    });
    this.enqueue(p, { offset: m.offset, info, decoded });
  }

  private enqueue(p: number, entry: Entry): void {
    this.queues[p].push(entry);
    if (this.queues[p].length >= this.prefetch && !this.paused[p]) {
      this.paused[p] = true;
      this.transport.pause(p);
    }
    const wake = this.waiter;
    this.waiter = null;
    wake?.();
  }

  private async headOf(p: number): Promise<GoodEntry> {
    for (;;) {
      if (this.closed) throw new DataError('BatchConsumer closed while waiting for a batch');
      if (this.failure) throw this.failure;
      const head = this.firstAccepted(p);
      if (head) return head;
      if (this.paused[p]) {
        this.paused[p] = false;
        this.transport.resume(p);
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private pop(p: number, head: Entry): void {
    this.queues[p].shift();
    this.usedOffset[p] = head.offset + 1;
    if (this.paused[p] && this.queues[p].length < this.prefetch) {
      this.paused[p] = false;
      this.transport.resume(p);
    }
  }
}
