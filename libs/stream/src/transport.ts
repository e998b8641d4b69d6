/**
 * The two sides of the broker as the data path sees them. Each trainer rank has one topic
 * with one partition per producer replica; Kafka (kafka/) and an in-memory broker (fake-broker.ts)
 * implement these, so the stream logic is tested without a broker and the Kafka classes are
 * tested against a real one.
 */

export interface StreamMessage {
  partition: number;
  offset: number;
  value: Buffer;
}

export interface CommittedPosition {
  /** Next offset to read; -1 when the group never committed on this partition. */
  offset: number;
  metadata: string | null;
}

export interface CommitRequest {
  partition: number;
  offset: number;
  metadata: string;
}

export interface ConsumerStartOptions {
  /**
   * Where to read each partition from instead of the group's committed positions: the
   * position a trainer's checkpoint saved, which the group's commits may have run past.
   * Offset -1 is the earliest retained message. These positions are committed at once, so
   * the producers' back-pressure measures from them too.
   */
  from?: Map<number, CommittedPosition>;
  /** Called at most once, when the transport can deliver nothing more (the broker went away). */
  onError?: (e: Error) => void;
}

/** The trainer's side: one rank's topic, read by one consumer group. */
export interface ConsumerTransport {
  readonly partitions: number;
  /**
   * Reads the group's committed positions (or takes `from`), then starts delivering messages
   * from them (from the earliest retained offset where none was committed), partition by
   * partition in offset order, and returns the positions it starts at. A message may be
   * delivered again after a rebalance; callers drop repeats.
   */
  start(onMessage: (m: StreamMessage) => void, options?: ConsumerStartOptions): Promise<Map<number, CommittedPosition>>;
  pause(partition: number): void;
  resume(partition: number): void;
  commit(positions: CommitRequest[]): Promise<void>;
  close(): Promise<void>;
}

/** The data service's side: one replica writing its partition of every rank's topic. */
export interface ProducerTransport {
  /** Creates the rank topics (one partition per replica) where missing. */
  ensureTopics(ranks: number, partitions: number): Promise<void>;
  /** Appends one message and resolves when the broker has it on every in-sync replica. */
  send(rank: number, partition: number, key: string, value: Buffer): Promise<void>;
  /** The last message of `partition` in each rank's topic (null where empty): where a restarted replica resumes. */
  lastMessages(partition: number, ranks: number): Promise<(Buffer | null)[]>;
  /** Messages in the partition past the rank group's committed offset (from the earliest where none). */
  lag(rank: number, partition: number): Promise<number>;
  close(): Promise<void>;
}

/** Topic and group names shared by producer and consumer. */
export function rankTopic(prefix: string, rank: number): string {
  return `${prefix}.rank${rank}`;
}

export function rankGroup(prefix: string, rank: number): string {
  return `${prefix}.trainer.rank${rank}`;
}
