/**
 * The service without its HTTP shell: index the folder, connect to Kafka, run one replica's
 * streamer, report health (liveness) and readiness, stop cleanly. main.ts wraps it in NestJS.
 */
import { indexImageFolder } from '@sere/dataset';
import {
  DataStreamer,
  kafkaClient,
  kafkaProbe,
  KafkaProducerTransport,
  type BrokerProbe,
  type ProducerTransport,
  type SampleMaker,
  type StreamerLogger,
  type StreamerState,
  type StreamerStatus,
} from '@sere/stream';
import type { ServiceConfig } from './config';
import { DataServiceMetrics } from './metrics';
import { BrokerWatch, unanswered, type BrokerStatus } from './readiness';

export interface Health {
  ok: boolean;
  replica: number;
  replicas: number;
  ranks: number;
  images: number;
  streamer: StreamerStatus;
}

/** GET /ready: whether the service can stream now (the brokers answer, the streamer has not failed). */
export interface Readiness {
  ready: boolean;
  broker: BrokerStatus;
  streamer: StreamerState;
}

export class DataService {
  readonly metrics: DataServiceMetrics;
  private streamer: DataStreamer | null = null;
  private transport: ProducerTransport | null = null;
  private images = 0;
  private run: Promise<void> | null = null;
  private watch: BrokerWatch | null = null;

  constructor(
    private readonly cfg: ServiceConfig,
    private readonly log: StreamerLogger,
    private readonly deps: { transport?: ProducerTransport; makeSample?: SampleMaker; metrics?: DataServiceMetrics; probe?: BrokerProbe; probeIntervalMs?: number } = {},
  ) {
    this.metrics = deps.metrics ?? new DataServiceMetrics({ replica: String(cfg.replica) });
  }

  /** Indexes the folder and starts streaming in the background; resolves once streaming has begun. */
  async start(): Promise<void> {
    const { cfg } = this;
    const kafka = { brokers: cfg.brokers, prefix: cfg.prefix, clientId: `sere-data-${cfg.replica}` };
    // First answer before anything else, so /ready means something from the first request on.
    const probe = this.deps.probe ?? kafkaProbe(kafka);
    this.watch = new BrokerWatch(cfg.brokers, probe, this.deps.probeIntervalMs);
    await this.watch.start();
    const broker = this.watch.status();
    if (!broker.reachable) this.log.warn('Kafka broker not reachable; /ready answers 503 until it is', { brokers: cfg.brokers, error: broker.lastError });
    const index = await indexImageFolder(cfg.dataDir);
    this.images = index.entries.length;
    this.log.info('dataset indexed', { root: index.root, classes: index.classes.length, images: index.entries.length });
    for (const c of index.emptyClasses) this.log.warn('empty class folder (label kept, no images)', { path: `${index.root}/${c}` });
    for (const f of index.strayFiles) this.log.warn('file outside any class folder ignored', { path: f });
    for (const r of index.repeats) this.log.warn(r.kind === 'loop' ? 'symlink loop not followed' : 'second path to an indexed file left out', { path: r.path, sameAs: r.sameAs });
    this.transport = this.deps.transport ?? new KafkaProducerTransport(kafkaClient(kafka), kafka);
    this.streamer = new DataStreamer(
      index,
      this.transport,
      {
        replica: cfg.replica,
        replicas: cfg.replicas,
        ranks: cfg.ranks,
        seed: cfg.seed,
        slotSize: cfg.slotSize,
        start: { epoch: cfg.startEpoch, slot: cfg.startSlot },
        endEpoch: cfg.endEpoch,
        maxLag: cfg.maxLag,
        concurrency: cfg.concurrency,
        encode: cfg.encode,
        recipe: cfg.recipe,
        maxPixels: cfg.maxPixels,
      },
      { metrics: this.metrics, log: this.log, makeSample: this.deps.makeSample },
    );
    this.run = this.streamer.run().catch((e: unknown) => {
      this.log.warn('streamer failed', { error: (e as Error).message });
    });
  }

  /** Resolves when the streamer has finished, stopped or failed. */
  finished(): Promise<void> {
    return this.run ?? Promise.resolve();
  }

  health(): Health {
    const streamer = this.streamer?.status() ?? { state: 'idle', epoch: 0, slotsSent: 0, imagesSent: 0, imagesSkipped: 0 };
    return {
      ok: streamer.state !== 'failed',
      replica: this.cfg.replica,
      replicas: this.cfg.replicas,
      ranks: this.cfg.ranks,
      images: this.images,
      streamer,
    };
  }

  ready(): Readiness {
    const broker = this.watch?.status() ?? unanswered(this.cfg.brokers, new Date());
    const streamer = this.streamer?.status().state ?? 'idle';
    return { ready: broker.reachable === true && streamer !== 'failed', broker, streamer };
  }

  /** SIGTERM: finish the message in flight, then disconnect. The topics say where to resume. */
  async stop(): Promise<void> {
    await this.streamer?.stop();
    await this.run;
    await this.transport?.close();
    await this.watch?.stop();
    this.log.info('data service stopped', { ...this.health().streamer });
  }
}
