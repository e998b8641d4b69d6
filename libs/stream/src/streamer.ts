/**
 * One producer replica of the data service: for each epoch, for each of its slots (slot s of
 * every rank where s ≡ replica mod R), decode and augment the slot's images, encode them as
 * one wire batch and append it to partition `replica` of the rank's topic.
 *
 * - Back-pressure: a partition may run at most `maxLag` messages ahead of the rank group's
 *   committed offset; past that the replica waits, polling the committed offsets.
 * - Resume: a replica writes its partitions alone and in slot order, so the last message of
 *   each partition says where it stopped. On start it continues after it (or from the
 *   configured start, whichever is later), so a restart neither repeats nor skips a slot.
 * - Bad input: an image that cannot be used is left out of its slot, counted by kind and
 *   logged with its path; converted images are counted and streamed. Nothing stops the loop
 *   but the broker failing or stop().
 */
import { decodeImage, DecodeError, makeMultiCropSample, Rng, type MultiCropSample, type ViewRecipe } from '@sere/augment';
import { DEFAULT_ENCODE_OPTIONS, encodeBatch, inspectMessage, WireError, type EncodeOptions } from '@sere/wire';
import { DataError, EpochPlan, mapLimit, type DatasetIndex, type IndexEntry, type Slot } from '@sere/dataset';
import type { ProducerTransport } from './transport';

export interface StreamerConfig {
  replica: number;
  replicas: number;
  ranks: number;
  seed: number;
  /** Images per message. */
  slotSize: number;
  /** First (epoch, slot) to produce when the partitions hold nothing later. */
  start?: { epoch: number; slot?: number };
  /** Epochs to run up to (exclusive); Infinity streams until stopped. */
  endEpoch: number;
  /**
   * Messages a partition may run ahead of its consumer's committed offset. The consumer
   * commits whole batches, so maxLag·slotSize must exceed one trainer batch or both sides wait
   * on each other; two batches or more keeps the trainer from ever waiting.
   */
  maxLag: number;
  /** Images decoded and augmented at once (decode runs on sharp's threads). */
  concurrency?: number;
  lagPollMs?: number;
  encode?: EncodeOptions;
  recipe: ViewRecipe;
  maxPixels?: number;
}

export interface StreamerMetrics {
  imagesSent(n: number): void;
  bytesSent(n: number): void;
  decodeFailure(kind: string): void;
  conversion(kind: string): void;
  lag(rank: number, messages: number): void;
  slotSent(rank: number, epoch: number, seq: number): void;
}

export interface StreamerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Builds one image's sample; throws DecodeError (or anything) for an unusable file. */
export type SampleMaker = (entry: IndexEntry, index: number, epoch: number) => Promise<MultiCropSample>;

export type StreamerState = 'idle' | 'running' | 'waiting-for-consumers' | 'stopping' | 'stopped' | 'finished' | 'failed';

export interface StreamerStatus {
  state: StreamerState;
  epoch: number;
  slotsSent: number;
  imagesSent: number;
  imagesSkipped: number;
  error?: string;
}

const noMetrics: StreamerMetrics = { imagesSent() {}, bytesSent() {}, decodeFailure() {}, conversion() {}, lag() {}, slotSent() {} };
const noLog: StreamerLogger = { info() {}, warn() {} };

export class DataStreamer {
  private readonly status_: StreamerStatus = { state: 'idle', epoch: 0, slotsSent: 0, imagesSent: 0, imagesSkipped: 0 };
  private readonly lagEstimate: number[];
  private readonly makeSample: SampleMaker;
  private readonly metrics: StreamerMetrics;
  private readonly log: StreamerLogger;
  private stopping = false;
  private wakeSleep: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private readonly reported = new Set<string>();
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly index: DatasetIndex,
    private readonly transport: ProducerTransport,
    private readonly cfg: StreamerConfig,
    deps: { metrics?: StreamerMetrics; log?: StreamerLogger; makeSample?: SampleMaker } = {},
  ) {
    if (!Number.isInteger(cfg.replica) || cfg.replica < 0 || cfg.replica >= cfg.replicas) {
      throw new DataError(`replica ${cfg.replica} out of range [0, ${cfg.replicas}) (set the replica index below the replica count)`);
    }
    if (!Number.isInteger(cfg.maxLag) || cfg.maxLag < 1) throw new DataError(`maxLag must be a positive integer, got ${cfg.maxLag}`);
    this.lagEstimate = new Array<number>(cfg.ranks).fill(Number.POSITIVE_INFINITY);
    this.metrics = deps.metrics ?? noMetrics;
    this.log = deps.log ?? noLog;
    this.makeSample = deps.makeSample ?? ((entry, index, epoch) => this.augment(entry, index, epoch));
  }

  /** Decode once, report conversions, cut the views from the stream of (seed, epoch, index). */
  private async augment(entry: IndexEntry, index: number, epoch: number): Promise<MultiCropSample> {
    const decoded = await decodeImage(entry.path, { maxPixels: this.cfg.maxPixels });
    for (const kind of decoded.conversions) this.metrics.conversion(kind);
    if (decoded.conversions.length > 0 && !this.reported.has(entry.path)) {
      // Once per file per process: the same file converts the same way every epoch.
      this.reported.add(entry.path);
      this.log.info('image converted', { path: entry.path, conversions: decoded.conversions });
    }
    return makeMultiCropSample(decoded, { ...this.cfg.recipe, epoch, index, label: entry.label }, Rng.forImage(this.cfg.seed, epoch, index));
  }

  status(): StreamerStatus {
    return { ...this.status_ };
  }

  /** Runs until endEpoch or stop(); resolves when the last send is acknowledged. */
  run(): Promise<void> {
    this.running ??= this.loop().then(
      () => {
        this.status_.state = this.stopping ? 'stopped' : 'finished';
      },
      (e: unknown) => {
        this.status_.state = 'failed';
        this.status_.error = (e as Error).message;
        throw e;
      },
    );
    return this.running;
  }

  /** Finishes the slot in flight, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.status_.state === 'running' || this.status_.state === 'waiting-for-consumers') this.status_.state = 'stopping';
    this.wakeSleep?.();
    await this.running?.catch(() => undefined);
  }

  /** Where each rank's partition of this replica stopped: the last (epoch, slot) it holds. */
  async resumePoints(): Promise<({ epoch: number; slot: number } | null)[]> {
    const out: ({ epoch: number; slot: number } | null)[] = [];
    const lasts = await this.transport.lastMessages(this.cfg.replica, this.cfg.ranks);
    for (let r = 0; r < this.cfg.ranks; r++) {
      const last = lasts[r];
      if (!last) {
        out.push(null);
        continue;
      }
      try {
        const info = inspectMessage(last);
        out.push({ epoch: info.epoch, slot: info.seq });
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
        throw new DataError(`rank ${r} partition ${this.cfg.replica} ends in an unreadable message (${e.message}); delete the topics or use a new topic prefix`);
      }
    }
    return out;
  }

  private async loop(): Promise<void> {
    const { cfg } = this;
    this.status_.state = 'running';
    await this.transport.ensureTopics(cfg.ranks, cfg.replicas);
    const done = await this.resumePoints();
    const start = { epoch: cfg.start?.epoch ?? 0, slot: cfg.start?.slot ?? 0 };
    const firstEpoch = Math.min(...done.map((d) => (d ? d.epoch : start.epoch)), start.epoch);
    this.log.info('streamer starting', { replica: cfg.replica, replicas: cfg.replicas, ranks: cfg.ranks, images: this.index.entries.length, start, resumeAfter: done });
    for (let epoch = Math.max(firstEpoch, 0); epoch < cfg.endEpoch && !this.stopping; epoch++) {
      this.status_.epoch = epoch;
      const plan = new EpochPlan({ size: this.index.entries.length, seed: cfg.seed, epoch, ranks: cfg.ranks, replicas: cfg.replicas, slotSize: cfg.slotSize });
      const maxSlots = Math.max(...Array.from({ length: cfg.ranks }, (_, r) => plan.slotsInEpoch(r)));
      for (let s = cfg.replica; s < maxSlots && !this.stopping; s += cfg.replicas) {
        for (let r = 0; r < cfg.ranks && !this.stopping; r++) {
          if (s >= plan.slotsInEpoch(r)) continue;
          const here = { epoch, slot: s };
          const last = done[r];
          if (before(here, start) || (last && !before(last, here))) continue;
          await this.waitForRoom(r);
          if (this.stopping) break;
          const slot = plan.slot(r, s);
          const message = await this.buildSlot(slot);
          // One send in flight: the broker's ack of slot n overlaps the decoding of slot n+1,
          // and a failed send stops the loop before anything after it is sent.
          await this.pending;
          if (this.stopping) break;
          this.lagEstimate[r]++;
          this.pending = this.send(slot, message);
        }
      }
    }
    await this.pending;
    this.log.info('streamer done', { ...this.status_ });
  }

  private async send(slot: Slot, message: { bytes: Buffer; images: number }): Promise<void> {
    await this.transport.send(slot.rank, slot.replica, `${slot.epoch}:${slot.seq}`, message.bytes);
    this.status_.slotsSent++;
    this.status_.imagesSent += message.images;
    this.metrics.imagesSent(message.images);
    this.metrics.bytesSent(message.bytes.length);
    this.metrics.slotSent(slot.rank, slot.epoch, slot.seq);
  }

  private async buildSlot(slot: Slot): Promise<{ bytes: Buffer; images: number }> {
    const made = await mapLimit(slot.indices, this.cfg.concurrency ?? 4, async (index) => {
      const entry = this.index.entries[index];
      try {
        return await this.makeSample(entry, index, slot.epoch);
      } catch (e) {
        const kind = e instanceof DecodeError ? e.kind : 'augment-error';
        this.status_.imagesSkipped++;
        this.metrics.decodeFailure(kind);
        this.log.warn('image skipped', { path: entry.path, kind, reason: (e as Error).message, epoch: slot.epoch });
        return null;
      }
    });
    const samples = made.filter((s): s is MultiCropSample => s !== null);
    const bytes = await encodeBatch(slot, samples, this.cfg.encode ?? DEFAULT_ENCODE_OPTIONS);
    return { bytes, images: samples.length };
  }

  private async waitForRoom(rank: number): Promise<void> {
    if (this.lagEstimate[rank] < this.cfg.maxLag) return;
    // The send in flight must land first, or the measurement misses it.
    await this.pending;
    for (;;) {
      const lag = await this.transport.lag(rank, this.cfg.replica);
      this.lagEstimate[rank] = lag;
      this.metrics.lag(rank, lag);
      if (lag < this.cfg.maxLag || this.stopping) {
        if (!this.stopping) this.status_.state = 'running';
        return;
      }
      this.status_.state = 'waiting-for-consumers';
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.cfg.lagPollMs ?? 200);
        this.wakeSleep = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeSleep = null;
    }
  }
}

function before(a: { epoch: number; slot: number }, b: { epoch: number; slot: number }): boolean {
  return a.epoch < b.epoch || (a.epoch === b.epoch && a.slot < b.slot);
}
