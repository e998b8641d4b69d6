/**
 * Batches for `sere train --data kafka://broker/prefix`: the data service's stream for this
 * trainer (topic <prefix>.rank<r> for rank r), read by BatchConsumer, shaped like LocalSource.
 *
 * - Several ranks: every message states the rank count the data service shares the images
 *   between; a run of another world size is refused, naming both. The ranks train the
 *   iterations per epoch that all can (runFor), and an epoch that ends early on one rank ends
 *   on all (the run loop agrees on each step, since mayEndEarly); a rank then passes over what
 *   is left of that epoch in its stream.
 *
 * - Epoch length: every message's header carries the rank's images per epoch (from the
 *   producer's EpochPlan), so a new run waits for its first batch and reads it there; a
 *   resumed run has it from its checkpoint. Every later batch must agree.
 * - drop_last: the short batch that ends an epoch is not trained on, as in the reference's
 *   loader and LocalSource. An epoch that holds fewer images than planned (the data service
 *   leaves out files it cannot decode) ends early; the schedules skip its missing iterations.
 * - Exact resume: position() is the consumer's position after the last batch handed out,
 *   which the checkpoint saves; a resumed run starts the consumer there (stream-position.ts).
 * - Commits: a batch is committed as it is handed out, so the producers' back-pressure
 *   (which waits on the group's commits) moves with the trainer. The commit may run ahead of
 *   the checkpoint; resuming does not read it, and the messages stay in the topic.
 * - To tell whether a batch is its epoch's last, the next batch is read before it is handed
 *   out; with commits at hand-out the producers need no more room ahead of the commits than
 *   for a reader without read-ahead.
 */
import {
  BatchConsumer,
  isBrokerUnreachable,
  kafkaClient,
  KafkaConsumerTransport,
  rankTopic,
  StreamUnavailableError,
  type Batch,
  type CommitRequest,
  type ConsumerEvent,
  type ConsumerTransport,
} from '@sere/stream';
import { EXIT } from '@sere/config';
import type { PthValue } from '@sere/torch';
import type { BatchSource, SourceBatch, StartPosition } from './batch-source';
import { TrainingError } from './errors';
import { readFrom, streamPositionToPth } from './stream-position';

/** The view shapes the run's flags expect; batches of any other shape are refused. */
export interface ViewShape {
  globalSize: number;
  localSize: number;
  localCrops: number;
  maskGrid: number;
}

export interface KafkaSourceOptions {
  brokers: string[];
  prefix: string;
  batchSize: number;
  views: ViewShape;
  write: (line: string) => void;
  /** This trainer's rank and the run's world size (default 0 of 1). */
  rank?: number;
  worldSize?: number;
  /** How long a wait for the stream lasts before the run says it is waiting (and again each time as long). */
  waitNoticeMs?: number;
}

/** How --data names the stream, for messages. */
const url = (o: KafkaSourceOptions) => `kafka://${o.brokers.join(',')}/${o.prefix}`;

/** The message and exit code for a failure of the stream; other errors pass through. */
export function streamFailure(e: unknown, o: KafkaSourceOptions): unknown {
  if (e instanceof TrainingError) return e;
  const at = `--data ${url(o)}`;
  const brokers = `${o.brokers.length > 1 ? 'brokers' : 'broker'} ${o.brokers.join(', ')}`;
  if (e instanceof StreamUnavailableError && e.reason === 'no-topic') {
    return new TrainingError(`${at}: ${e.message} Start it, then run the same command again.`, EXIT.unavailable);
  }
  if (e instanceof StreamUnavailableError && e.reason === 'broker-unreachable') {
    return new TrainingError(`${at}: cannot reach the Kafka ${brokers} (${e.message}). Start the broker or correct the address, then run the same command again.`, EXIT.unavailable);
  }
  if (e instanceof StreamUnavailableError || isBrokerUnreachable(e)) {
    return new TrainingError(
      `${at}: lost the Kafka ${brokers} (${(e as Error).message}). The last checkpoint is intact: once the broker is back, run the same command again to continue from it.`,
      EXIT.unavailable,
    );
  }
  return e;
}

export class KafkaSource implements BatchSource {
  /** Full batches per epoch of this rank's stream, then (runFor) of every rank's. */
  itersPerEpoch: number;
  readonly mayEndEarly = true;
  /** Images per epoch of this trainer's stream, from the producer's plan. */
  readonly imagesPerEpoch: number;
  private readonly topic: string;
  /** A batch read ahead that belongs to a later epoch (or the first batch, read to learn the epoch length). */
  private pending: Batch | null;
  /** The position after the last batch handed out (or passed over); what position() saves. */
  private used: CommitRequest[];
  private commitFailure: unknown = null;
  /** Full batches this rank's stream holds per epoch, whatever the ranks agreed to run. */
  private readonly ownIters: number;
  private readonly worldSize: number;

  private constructor(
    private readonly consumer: BatchConsumer,
    private readonly o: KafkaSourceOptions,
    start: { topic: string; imagesPerEpoch: number; pending: Batch | null; used: CommitRequest[] },
  ) {
    this.topic = start.topic;
    this.imagesPerEpoch = start.imagesPerEpoch;
    this.pending = start.pending;
    this.used = start.used;
    this.worldSize = o.worldSize ?? 1;
    this.itersPerEpoch = this.ownIters = Math.floor(start.imagesPerEpoch / o.batchSize);
    if (this.itersPerEpoch === 0) {
      throw new TrainingError(
        `--data ${url(o)}: the stream holds ${start.imagesPerEpoch} images per epoch for this trainer, fewer than one batch of --batch_size_per_gpu ${o.batchSize}`,
        EXIT.refused,
      );
    }
    if (start.pending) this.check(start.pending);
  }

  /** Connects to the broker, waits for the data service's topic, and opens the source on it. */
  static async connect(o: KafkaSourceOptions, start: () => Promise<StartPosition>, tuning: { retries?: number; topicWaitMs?: number } = {}): Promise<KafkaSource> {
    // About 12 s of retries at start and 20 s mid-run: a broker restart passes unnoticed, a
    // broker that stays away ends the run with the checkpoint intact.
    const retries = tuning.retries ?? 6;
    let transport: KafkaConsumerTransport;
    try {
      const kafka = kafkaClient({ brokers: o.brokers, prefix: o.prefix, clientId: 'sere-trainer', logLevel: 'nothing', retries });
      transport = await KafkaConsumerTransport.connect(kafka, o.prefix, o.rank ?? 0, { topicWaitMs: tuning.topicWaitMs ?? 60_000, retries });
    } catch (e) {
      if (e instanceof StreamUnavailableError && e.reason === 'no-topic' && (o.rank ?? 0) > 0) {
        // Rank 0's topic would have told rank 0 the service's rank count; this one only knows its own is missing.
        throw new TrainingError(
          `--data ${url(o)}: ${e.message} If the data service is streaming, it streams for fewer trainer ranks than this run's world size ${o.worldSize}: ` +
            `start it with --ranks ${o.worldSize} and a new --prefix.`,
          EXIT.unavailable,
        );
      }
      throw streamFailure(e, o);
    }
    return KafkaSource.open(transport, start, o);
  }

  /** Opens the source on a connected transport of this rank's topic (FakeBroker in tests). */
  static async open(transport: ConsumerTransport, start: () => Promise<StartPosition>, o: KafkaSourceOptions): Promise<KafkaSource> {
    const rank = o.rank ?? 0;
    const topic = rankTopic(o.prefix, rank);
    let consumer: BatchConsumer | null = null;
    try {
      const at = readFrom(await start(), topic, transport.partitions);
      consumer = new BatchConsumer(transport, { rank, batchSize: o.batchSize, from: at.from, onEvent: (e) => report(e, topic, o.write) });
      await consumer.start();
      const pending = at.imagesPerEpoch === null ? await waiting(consumer.next(), topic, o) : null;
      const used = [...at.from].map(([partition, c]) => ({ partition, offset: c.offset, metadata: c.metadata ?? '' }));
      const source = new KafkaSource(consumer, o, { topic, imagesPerEpoch: at.imagesPerEpoch ?? pending!.rankEpochSize, pending, used });
      const ranks = (o.worldSize ?? 1) > 1 ? ` (rank ${rank} of ${o.worldSize})` : '';
      o.write(`data: ${topic} at ${o.brokers.join(', ')}, ${source.imagesPerEpoch} images per epoch for this trainer${ranks}; ${source.itersPerEpoch} iterations per epoch`);
      return source;
    } catch (e) {
      await (consumer ?? transport).close().catch(() => undefined);
      throw streamFailure(e, o);
    }
  }

  async *epoch(epoch: number, startStep: number): AsyncGenerator<SourceBatch> {
    const B = this.o.batchSize;
    let step = startStep;
    let batch = await this.take();
    let passed = 0;
    while (batch.epoch < epoch && this.worldSize > 1) {
      // What is left of an epoch another rank ended early (the ranks stop it together).
      this.use(batch);
      passed += batch.samples.length;
      batch = await this.take();
    }
    if (passed > 0) this.o.write(`passed over ${passed} images left of epoch ${epoch} on ${this.topic}: the ranks ended that epoch together when one ran out`);
    if (batch.epoch < epoch) throw new TrainingError(`--data ${url(this.o)}: the stream is at epoch ${batch.epoch + 1} but the run at epoch ${epoch + 1}`, EXIT.refused);
    for (;;) {
      if (batch.epoch > epoch) {
        this.pending = batch;
        break;
      }
      if (batch.samples.length < B) {
        // The epoch's short last batch: passed over (drop_last), its position kept.
        this.use(batch);
        break;
      }
      if (step >= this.ownIters) {
        throw new TrainingError(`--data ${url(this.o)}: epoch ${epoch + 1} of the stream holds more than the ${this.imagesPerEpoch} images its header announces`, EXIT.refused);
      }
      this.use(batch);
      if (step >= this.itersPerEpoch) {
        // A full batch beyond what every rank can run: passed over, as the short one is.
        step++;
        if (batch.endOfEpoch) break;
        batch = await this.take();
        continue;
      }
      const next = batch.endOfEpoch ? null : await this.take();
      const last = next === null || next.epoch !== epoch || next.samples.length < B || step + 1 >= this.itersPerEpoch;
      // Kept for the next take() if the loop stops at this batch (return() at the yield).
      this.pending = next;
      yield { epoch, step, samples: batch.samples, last };
      this.pending = null;
      step++;
      if (next === null) break;
      batch = next;
    }
    if (step === startStep && this.worldSize === 1) {
      throw new TrainingError(`--data ${url(this.o)}: epoch ${epoch + 1} of the stream holds no full batch of ${B} images from iteration ${startStep + 1} on`, EXIT.refused);
    }
    if (step < this.itersPerEpoch) {
      this.o.write(
        `warning: epoch ${epoch + 1} of the stream ended after ${step} of ${this.itersPerEpoch} iterations: it held fewer than its ${this.imagesPerEpoch} images ` +
          '(the data service leaves out images it cannot use; see its log)',
      );
    }
  }

  /** The ranks agreed to run `n` iterations per epoch (at most this stream's); later full batches are passed over. */
  runFor(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > this.ownIters) throw new RangeError(`runFor(${n}): this rank's stream holds ${this.ownIters} full batches per epoch`);
    if (n < this.ownIters) this.o.write(`${this.topic} holds ${this.ownIters} full batches per epoch; every rank runs ${n}, the rest is passed over`);
    this.itersPerEpoch = n;
  }

  position(): PthValue {
    return streamPositionToPth({ topic: this.topic, imagesPerEpoch: this.imagesPerEpoch, partitions: this.used });
  }

  async close(): Promise<void> {
    await this.consumer.close();
  }

  /** The next batch: the one read ahead, or the consumer's next; a failed commit or a lost broker ends the run here. */
  private async take(): Promise<Batch> {
    try {
      if (this.commitFailure) throw this.commitFailure;
      const pending = this.pending;
      this.pending = null;
      const b = pending ?? (await waiting(this.consumer.next(), this.topic, this.o));
      this.check(b);
      return b;
    } catch (e) {
      throw streamFailure(e, this.o);
    }
  }

  /** Marks `b` as the position to save and commits it; a commit failure surfaces at the next take(). */
  private use(b: Batch): void {
    this.used = b.commit;
    this.consumer.done(b).catch((e: unknown) => (this.commitFailure ??= e));
  }

  private check(b: Batch): void {
    if (b.ranks && b.ranks !== this.worldSize) {
      throw new TrainingError(
        `--data ${url(this.o)}: the data service shares each epoch between ${b.ranks} trainer ranks (its --ranks ${b.ranks}); this run has world size ${this.worldSize}. ` +
          `Start the data service with --ranks ${this.worldSize} and a new --prefix, or run ${b.ranks} trainer ranks`,
        EXIT.refused,
      );
    }
    if (b.rankEpochSize !== this.imagesPerEpoch) {
      throw new TrainingError(
        `--data ${url(this.o)}: epoch ${b.epoch + 1} of the stream holds ${b.rankEpochSize} images for this trainer, the run was sized for ${this.imagesPerEpoch}: ` +
          'the data service\'s dataset changed under the run; use a new topic prefix and output location for a new dataset',
        EXIT.refused,
      );
    }
    const v = this.o.views;
    const s = b.samples[0];
    const sizes = s.views.map((x) => x.size);
    const want = [v.globalSize, v.globalSize, ...Array<number>(v.localCrops).fill(v.localSize)];
    if (sizes.join() !== want.join() || s.maskGrid !== v.maskGrid) {
      const crops = (l: number[]) => `${l.slice(0, 2).join('/')} px global and ${l.length - 2} local crops${l.length > 2 ? ` of ${l[2]} px` : ''}`;
      throw new TrainingError(
        `--data ${url(this.o)}: the data service sends ${crops(sizes)} with ${s.maskGrid}×${s.maskGrid} masks; this run's flags want ${crops(want)} with ` +
          `${v.maskGrid}×${v.maskGrid} masks; start the data service with the run's --global_size, --local_size, --local_crops_number and --patch_size`,
        EXIT.refused,
      );
    }
  }
}

/** Logs what the consumer drops; messages of epochs before the run's start are passed over on purpose and not logged. */
function report(e: ConsumerEvent, topic: string, write: (line: string) => void): void {
  if (e.type === 'wire-error') write(`warning: ${topic} partition ${e.partition} offset ${e.offset}: unreadable message dropped (${e.message})`);
  else if (e.type === 'wrong-rank') write(`warning: ${topic} partition ${e.partition} offset ${e.offset}: message for rank ${e.rank} dropped`);
  else if (e.type === 'missing-slot') {
    const slots = e.count === 1 ? `slot ${e.slot}` : e.count === null ? `slots ${e.slot} to the end` : `slots ${e.slot}..${e.slot + e.count - 1}`;
    write(`warning: ${slots} of epoch ${e.epoch + 1} never arrived on ${topic}; ${e.count === 1 ? 'its' : 'their'} images are missing from the epoch`);
  }
}

/** Awaits a batch, saying so when the stream keeps the run waiting. */
async function waiting<T>(p: Promise<T>, topic: string, o: KafkaSourceOptions): Promise<T> {
  const every = o.waitNoticeMs ?? 30_000;
  const started = Date.now();
  const timer = setInterval(() => {
    o.write(`waiting for batches on ${topic} at ${o.brokers.join(', ')} for ${Math.round((Date.now() - started) / 1000)} s (is the data service running, and streaming this epoch?)`);
  }, every);
  try {
    return await p;
  } finally {
    clearInterval(timer);
  }
}
