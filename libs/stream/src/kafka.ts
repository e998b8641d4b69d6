/**
 * The broker transports on kafkajs 2.2.4 (the last release; unmaintained since 2023, and it
 * speaks protocol versions Kafka 4 removed, so the broker is pinned to 3.9 — see
 * scripts/kafka/kafka.sh).
 *
 * Producer: idempotent (the broker drops a retried append it already has), acks from all
 * in-sync replicas, explicit partition = replica. Consumer: one group per rank, offsets
 * committed only on request, never automatically; it does not restart itself after kafkajs
 * gives up retrying, but reports the failure, so a trainer stops with a message instead of
 * waiting for batches forever.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type Producer } from 'kafkajs';
import { DataError } from '@sere/dataset';
import { StreamUnavailableError } from './errors';
import {
  rankGroup,
  rankTopic,
  type CommitRequest,
  type CommittedPosition,
  type ConsumerStartOptions,
  type ConsumerTransport,
  type ProducerTransport,
  type StreamMessage,
} from './transport';

export interface KafkaSettings {
  brokers: string[];
  clientId?: string;
  /** Topic/group prefix of one job, e.g. "sere.imagenet-vits". */
  prefix: string;
  replicationFactor?: number;
  logLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug';
  /** Retries of a request before it fails (waits double from 0.2 s, at most 30 s each). Default 10, about 2 min. */
  retries?: number;
}

/** Batches of views run to several MB; topics allow 16 MiB messages (the broker's limit in kafka.sh). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const LEVELS = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };

/** The settings' brokers; refused when there are none, before kafkajs fails on them later and less clearly. */
function brokersOf(s: KafkaSettings): string[] {
  if (s.brokers.length === 0) throw new DataError('no Kafka brokers given (expected host:port, e.g. 127.0.0.1:19092)');
  return s.brokers;
}

export function kafkaClient(s: KafkaSettings): Kafka {
  return new Kafka({
    clientId: s.clientId ?? 'sere-data',
    brokers: brokersOf(s),
    logLevel: LEVELS[s.logLevel ?? 'error'],
    retry: { initialRetryTime: 200, retries: s.retries ?? 10 },
  });
}

/** kafkajs errors that mean the broker is not answering, rather than refusing what we asked. */
const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSNumberOfRetriesExceeded',
]);

function rootCause(e: unknown): Error {
  let err = e as Error & { cause?: unknown };
  while (err?.cause instanceof Error) err = err.cause as Error & { cause?: unknown };
  return err;
}

/** Whether `e` (or what caused it) says the broker cannot be reached. */
export function isBrokerUnreachable(e: unknown): boolean {
  if (e instanceof StreamUnavailableError) return e.reason !== 'no-topic';
  for (let err = e as (Error & { cause?: unknown }) | undefined; err instanceof Error; err = err.cause as typeof err) {
    if (CONNECTION_ERRORS.has(err.name) || /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|ETIMEDOUT|EAI_AGAIN/.test(err.message)) return true;
  }
  return false;
}

/** A question to the brokers that tells whether they answer: what the data service's readiness asks. */
export interface BrokerProbe {
  /** Resolves when a broker answers a metadata request; fails with StreamUnavailableError (the root cause's words) otherwise. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A probe on its own connection, without retries and with short timeouts, so its answer is
 * about now: the producer's client retries for minutes before it gives up, and says nothing
 * meanwhile.
 */
export function kafkaProbe(s: KafkaSettings, timeoutMs = 3000): BrokerProbe {
  const kafka = new Kafka({
    clientId: `${s.clientId ?? 'sere-data'}-probe`,
    brokers: brokersOf(s),
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  let connected = false;
  return {
    async check() {
      try {
        if (!connected) {
          await admin.connect();
          connected = true;
        }
        await admin.describeCluster();
      } catch (e) {
        connected = false;
        await admin.disconnect().catch(() => undefined);
        throw new StreamUnavailableError('broker-unreachable', rootCause(e).message, { cause: e });
      }
    },
    close: () => admin.disconnect(),
  };
}

/** A broker failure as StreamUnavailableError (what was being done, if worth saying, and the root cause); anything else as it is. */
function unavailable(e: unknown, reason: 'broker-unreachable' | 'broker-lost', what = ''): unknown {
  if (e instanceof StreamUnavailableError || !isBrokerUnreachable(e)) return e;
  return new StreamUnavailableError(reason, `${what ? `${what}: ` : ''}${rootCause(e).message}`, { cause: e });
}

/**
 * Retries what a fresh topic answers while its leaders are being elected and the metadata
 * spreads ("not the leader", "unknown topic or partition"); kafkajs' admin does not retry these.
 */
async function settled<T>(what: string, call: () => Promise<T>, tries = 40): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const err = e as { retriable?: boolean; type?: string; message: string };
      const transient = err.retriable === true || /LEADER|UNKNOWN_TOPIC|NOT_COORDINATOR|COORDINATOR_LOAD/.test(err.type ?? '');
      if (!transient || attempt >= tries) throw new DataError(`${what}: ${err.message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function highWatermarks(admin: Admin, topic: string): Promise<Map<number, { low: number; high: number }>> {
  const out = new Map<number, { low: number; high: number }>();
  const offsets = await settled(`reading the offsets of ${topic}`, () => admin.fetchTopicOffsets(topic));
  for (const p of offsets) out.set(p.partition, { low: Number(p.low), high: Number(p.high) });
  return out;
}

async function committedOffsets(admin: Admin, group: string, topic: string): Promise<Map<number, CommittedPosition>> {
  const out = new Map<number, CommittedPosition>();
  const [entry] = await settled(`reading the offsets of group ${group}`, () => admin.fetchOffsets({ groupId: group, topics: [topic] }));
  for (const p of entry?.partitions ?? []) out.set(p.partition, { offset: Number(p.offset), metadata: p.metadata });
  return out;
}

export class KafkaProducerTransport implements ProducerTransport {
  private readonly producer: Producer;
  private readonly admin: Admin;
  private connected: Promise<void> | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: KafkaSettings,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.admin = kafka.admin();
  }

  private connect(): Promise<void> {
    this.connected ??= Promise.all([this.producer.connect(), this.admin.connect()]).then(() => undefined);
    return this.connected;
  }

  async ensureTopics(ranks: number, partitions: number): Promise<void> {
    await this.connect();
    const existing = new Set(await this.admin.listTopics());
    const wanted = Array.from({ length: ranks }, (_, r) => rankTopic(this.settings.prefix, r));
    const missing = wanted.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      try {
        await this.admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: partitions,
            replicationFactor: this.settings.replicationFactor ?? 1,
            configEntries: [{ name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }],
          })),
        });
      } catch (e) {
        // Another replica may have created them between our list and create.
        if (!/already exists/i.test((e as Error).message)) throw e;
      }
    }
    const meta = await settled('reading topic metadata', () => this.admin.fetchTopicMetadata({ topics: wanted }));
    // A topic another replica just created may not have leaders yet: wait until it answers.
    for (const topic of wanted) await highWatermarks(this.admin, topic);
    for (const t of meta.topics) {
      if (t.partitions.length !== partitions) {
        throw new DataError(
          `topic ${t.name} has ${t.partitions.length} partitions but the job runs ${partitions} replicas; the replica count is fixed per topic prefix (use a new prefix)`,
        );
      }
    }
  }

  async send(rank: number, partition: number, key: string, value: Buffer): Promise<void> {
    await this.connect();
    await this.producer.send({ topic: rankTopic(this.settings.prefix, rank), acks: -1, messages: [{ key, value, partition }] });
  }

  async lastMessages(partition: number, ranks: number): Promise<(Buffer | null)[]> {
    await this.connect();
    const topics = Array.from({ length: ranks }, (_, r) => rankTopic(this.settings.prefix, r));
    const targets = new Map<string, number>();
    for (const topic of topics) {
      const w = (await highWatermarks(this.admin, topic)).get(partition);
      if (w && w.high > w.low) targets.set(topic, w.high - 1);
    }
    const out = new Map<string, Buffer>();
    if (targets.size > 0) {
      // kafkajs reads only through a group member; a throw-away group that never commits.
      const probe = this.kafka.consumer({ groupId: `${this.settings.prefix}.probe.${randomUUID()}`, maxBytesPerPartition: MAX_MESSAGE_BYTES, maxWaitTimeInMs: 200 });
      await probe.connect();
      try {
        await probe.subscribe({ topics: [...targets.keys()], fromBeginning: false });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new DataError(`timed out reading the last messages of partition ${partition}`)), 30000);
          probe
            .run({
              autoCommit: false,
              eachMessage: async ({ topic, partition: p, message }) => {
                const target = targets.get(topic);
                if (p !== partition || target === undefined || Number(message.offset) !== target || !message.value) return;
                out.set(topic, message.value);
                if (out.size === targets.size) {
                  clearTimeout(timer);
                  resolve();
                }
              },
            })
            .catch(reject);
          for (const [topic, offset] of targets) probe.seek({ topic, partition, offset: String(offset) });
        });
      } finally {
        await probe.disconnect();
      }
    }
    return topics.map((t) => out.get(t) ?? null);
  }

  async lag(rank: number, partition: number): Promise<number> {
    await this.connect();
    const topic = rankTopic(this.settings.prefix, rank);
    const w = (await highWatermarks(this.admin, topic)).get(partition);
    if (!w) throw new DataError(`topic ${topic} has no partition ${partition}`);
    const c = (await committedOffsets(this.admin, rankGroup(this.settings.prefix, rank), topic)).get(partition);
    const committed = c && c.offset >= 0 ? c.offset : w.low;
    return w.high - Math.max(committed, w.low);
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    await this.connected.catch(() => undefined);
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }
}

export interface KafkaConsumerOptions {
  /** How long to wait for the data service to create the rank's topic. */
  topicWaitMs?: number;
  sessionTimeoutMs?: number;
  /** Retries of a failed fetch, heartbeat or commit before the consumer reports the broker lost (kafkajs' default: 5). */
  retries?: number;
}

export class KafkaConsumerTransport implements ConsumerTransport {
  private consumer: Consumer | null = null;
  private readonly topic: string;
  private readonly group: string;

  private constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    prefix: string,
    rank: number,
    readonly partitions: number,
    private readonly opts: KafkaConsumerOptions,
  ) {
    this.topic = rankTopic(prefix, rank);
    this.group = rankGroup(prefix, rank);
  }

  /**
   * Waits until the rank's topic exists (the data service creates it) and learns its
   * partition count. A broker that cannot be reached, or a topic that does not appear in
   * `topicWaitMs`, fails with StreamUnavailableError.
   */
  static async connect(kafka: Kafka, prefix: string, rank: number, opts: KafkaConsumerOptions = {}): Promise<KafkaConsumerTransport> {
    const admin = kafka.admin();
    const topic = rankTopic(prefix, rank);
    const wait = opts.topicWaitMs ?? 60000;
    try {
      await admin.connect();
      const deadline = Date.now() + wait;
      for (;;) {
        if ((await admin.listTopics()).includes(topic)) break;
        if (Date.now() > deadline) {
          throw new StreamUnavailableError('no-topic', `topic ${topic} did not appear within ${wait} ms; is the data service running with prefix "${prefix}"?`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      const meta = await settled(`reading the metadata of ${topic}`, () => admin.fetchTopicMetadata({ topics: [topic] }));
      return new KafkaConsumerTransport(kafka, admin, prefix, rank, meta.topics[0].partitions.length, opts);
    } catch (e) {
      await admin.disconnect().catch(() => undefined);
      throw unavailable(e, 'broker-unreachable');
    }
  }

  async start(onMessage: (m: StreamMessage) => void, options: ConsumerStartOptions = {}): Promise<Map<number, CommittedPosition>> {
    try {
      return await this.startConsumer(onMessage, options);
    } catch (e) {
      throw unavailable(e, 'broker-lost', `starting the consumer of ${this.topic}`);
    }
  }

  private async startConsumer(onMessage: (m: StreamMessage) => void, options: ConsumerStartOptions): Promise<Map<number, CommittedPosition>> {
    const committed = await committedOffsets(this.admin, this.group, this.topic);
    const from = options.from ? await this.resolve(options.from) : new Map<number, CommittedPosition>();
    for (const [p, c] of from) committed.set(p, c);
    let crashed: Error | null = null;
    const consumer = this.kafka.consumer({
      groupId: this.group,
      sessionTimeout: this.opts.sessionTimeoutMs ?? 10000,
      heartbeatInterval: 1000,
      // An idle fetch parks on the broker this long; disconnect waits for it, so keep it short.
      maxWaitTimeInMs: 500,
      maxBytesPerPartition: MAX_MESSAGE_BYTES,
      maxBytes: 4 * MAX_MESSAGE_BYTES,
      // Once kafkajs has used up its retries, the failure goes to onError instead of a restart
      // loop that would leave the reader waiting without a word.
      retry: { retries: this.opts.retries ?? 5, restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      crashed ??= payload.error;
      options.onError?.(unavailable(payload.error, 'broker-lost', `reading ${this.topic}`) as Error);
    });
    // Offsets below a `from` position can only come from the fetch that started at the
    // group's commits before the seek below took effect; they are not wanted.
    const floor = new Map([...from].map(([p, c]) => [p, c.offset]));
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        if (message.value && offset >= (floor.get(partition) ?? 0)) onMessage({ partition, offset, value: message.value });
      },
    });
    if (crashed) throw crashed;
    if (from.size > 0) {
      // run() has joined the group; a seek now applies before the first fetch is handed out.
      for (const [partition, c] of from) consumer.seek({ topic: this.topic, partition, offset: String(c.offset) });
      await this.commit([...from].map(([partition, c]) => ({ partition, offset: c.offset, metadata: c.metadata ?? '' })));
    }
    return committed;
  }

  /** `from` with -1 replaced by the earliest retained offset; a position the topic no longer (or never) held is refused. */
  private async resolve(from: Map<number, CommittedPosition>): Promise<Map<number, CommittedPosition>> {
    const marks = await highWatermarks(this.admin, this.topic);
    const out = new Map<number, CommittedPosition>();
    for (const [p, c] of from) {
      const w = marks.get(p);
      if (!w) throw new DataError(`topic ${this.topic} has no partition ${p}`);
      if (c.offset >= 0 && c.offset < w.low) {
        throw new DataError(
          `partition ${p} of topic ${this.topic} now starts at offset ${w.low}, past the saved position ${c.offset}: the broker deleted those messages (topic retention). ` +
            'This run cannot continue exactly; start a new one, and give the job\'s topics a retention (retention.ms) longer than a run\'s longest stop',
        );
      }
      if (c.offset > w.high) {
        throw new DataError(`partition ${p} of topic ${this.topic} ends at offset ${w.high}, before the saved position ${c.offset}: the topic was deleted and created again since; resuming needs the topic the run read`);
      }
      out.set(p, { offset: c.offset < 0 ? w.low : c.offset, metadata: c.metadata });
    }
    return out;
  }

  pause(partition: number): void {
    this.consumer?.pause([{ topic: this.topic, partitions: [partition] }]);
  }

  resume(partition: number): void {
    this.consumer?.resume([{ topic: this.topic, partitions: [partition] }]);
  }

  async commit(positions: CommitRequest[]): Promise<void> {
    if (!this.consumer) throw new DataError('commit before start');
    try {
      await this.consumer.commitOffsets(positions.map((p) => ({ topic: this.topic, partition: p.partition, offset: String(p.offset), metadata: p.metadata })));
    } catch (e) {
      throw unavailable(e, 'broker-lost', `committing the position in ${this.topic}`);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.consumer?.disconnect(), this.admin.disconnect()]);
  }
}
