/**
 * An in-memory broker with Kafka's observable behaviour for this data path: append-only
 * partitions with offsets, per-group committed offsets with metadata, pause/resume per
 * partition, and redelivery on demand. For unit tests of the stream logic only; the Kafka
 * classes are tested against a real broker in test/data.
 */
import {
  rankGroup,
  rankTopic,
  type CommitRequest,
  type CommittedPosition,
  type ConsumerStartOptions,
  type ConsumerTransport,
  type ProducerTransport,
  type StreamMessage,
} from '../transport';

export class FakeBroker {
  readonly logs = new Map<string, Buffer[][]>();
  readonly commits = new Map<string, Map<number, CommittedPosition>>();
  private readonly listeners = new Set<() => void>();

  constructor(readonly prefix = 'test') {}

  createTopic(topic: string, partitions: number): void {
    const log = this.logs.get(topic);
    if (log) {
      if (log.length !== partitions) throw new Error(`topic ${topic} has ${log.length} partitions, asked for ${partitions}`);
      return;
    }
    this.logs.set(topic, Array.from({ length: partitions }, () => []));
  }

  partition(topic: string, partition: number): Buffer[] {
    const log = this.logs.get(topic);
    if (!log || !log[partition]) throw new Error(`no partition ${topic}/${partition}`);
    return log[partition];
  }

  append(topic: string, partition: number, value: Buffer): number {
    const part = this.partition(topic, partition);
    part.push(value);
    for (const l of this.listeners) l();
    return part.length - 1;
  }

  committed(group: string, partition: number): CommittedPosition {
    return this.commits.get(group)?.get(partition) ?? { offset: -1, metadata: null };
  }

  commit(group: string, positions: CommitRequest[]): void {
    const g = this.commits.get(group) ?? new Map<number, CommittedPosition>();
    for (const p of positions) g.set(p.partition, { offset: p.offset, metadata: p.metadata });
    this.commits.set(group, g);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  consumer(rank: number, partitions: number): FakeConsumerTransport {
    return new FakeConsumerTransport(this, rankTopic(this.prefix, rank), rankGroup(this.prefix, rank), partitions);
  }

  producer(): FakeProducerTransport {
    return new FakeProducerTransport(this);
  }
}

export class FakeConsumerTransport implements ConsumerTransport {
  private readonly position: number[] = [];
  private readonly paused = new Set<number>();
  private unsubscribe: (() => void) | null = null;
  private onMessage: ((m: StreamMessage) => void) | null = null;
  private onError: ((e: Error) => void) | null = null;
  private failed: Error | null = null;
  private scheduled = false;
  /** Pause/resume calls, for tests of back-pressure. */
  pauses = 0;

  constructor(
    private readonly broker: FakeBroker,
    readonly topic: string,
    readonly group: string,
    readonly partitions: number,
  ) {}

  async start(onMessage: (m: StreamMessage) => void, options: ConsumerStartOptions = {}): Promise<Map<number, CommittedPosition>> {
    const committed = new Map<number, CommittedPosition>();
    for (let p = 0; p < this.partitions; p++) {
      const from = options.from?.get(p);
      // The in-memory log keeps everything, so the earliest retained offset is 0.
      const c = from ? { offset: Math.max(0, from.offset), metadata: from.metadata } : this.broker.committed(this.group, p);
      committed.set(p, c);
      this.position[p] = Math.max(0, c.offset);
    }
    if (options.from) this.broker.commit(this.group, [...committed].map(([partition, c]) => ({ partition, offset: c.offset, metadata: c.metadata ?? '' })));
    this.onError = options.onError ?? null;
    this.onMessage = onMessage;
    this.unsubscribe = this.broker.subscribe(() => this.schedule());
    this.schedule();
    return committed;
  }

  /** Loses the broker: reports `error` to the consumer and delivers nothing more. */
  fail(error: Error): void {
    this.failed = error;
    this.unsubscribe?.();
    this.onMessage = null;
    this.onError?.(error);
    this.onError = null;
  }

  /** Moves a partition's read position back, as a rebalance would. */
  redeliverFrom(partition: number, offset: number): void {
    this.position[partition] = offset;
    this.schedule();
  }

  pause(partition: number): void {
    this.pauses++;
    this.paused.add(partition);
  }

  resume(partition: number): void {
    this.paused.delete(partition);
    this.schedule();
  }

  async commit(positions: CommitRequest[]): Promise<void> {
    if (this.failed) throw this.failed;
    this.broker.commit(this.group, positions);
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.onMessage = null;
  }

  /** Delivers asynchronously, like a fetch loop, one message per partition per turn. */
  private schedule(): void {
    if (this.scheduled || !this.onMessage) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      let more = false;
      for (let p = 0; p < this.partitions && this.onMessage; p++) {
        if (this.paused.has(p)) continue;
        const part = this.broker.partition(this.topic, p);
        if (this.position[p] < part.length) {
          const offset = this.position[p]++;
          this.onMessage({ partition: p, offset, value: part[offset] });
          more ||= this.position[p] < part.length;
        }
      }
      if (more) this.schedule();
    });
  }
}

export class FakeProducerTransport implements ProducerTransport {
  /** Set to make the next sends fail, for tests of error handling. */
  failNext = 0;
  sent = 0;

  constructor(private readonly broker: FakeBroker) {}

  async ensureTopics(ranks: number, partitions: number): Promise<void> {
    for (let r = 0; r < ranks; r++) this.broker.createTopic(rankTopic(this.broker.prefix, r), partitions);
  }

  async send(rank: number, partition: number, _key: string, value: Buffer): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('fake broker: send refused');
    }
    this.broker.append(rankTopic(this.broker.prefix, rank), partition, value);
    this.sent++;
  }

  async lastMessages(partition: number, ranks: number): Promise<(Buffer | null)[]> {
    return Array.from({ length: ranks }, (_, rank) => {
      const part = this.broker.partition(rankTopic(this.broker.prefix, rank), partition);
      return part.length ? part[part.length - 1] : null;
    });
  }

  async lag(rank: number, partition: number): Promise<number> {
    const part = this.broker.partition(rankTopic(this.broker.prefix, rank), partition);
    const committed = this.broker.committed(rankGroup(this.broker.prefix, rank), partition).offset;
    return part.length - Math.max(0, committed);
  }

  async close(): Promise<void> {}
}
