/**
 * The trainer's Prometheus endpoint (`--metrics_port`): what a person watching a long run
 * wants on a dashboard, served from the main thread while the worker thread computes, so a
 * scrape never waits for a step. Names follow the services' scheme (sere_<service>_…, base
 * units, _total counters); every series carries the run and the rank.
 *
 * A plain node:http server with one route: the trainer has no other HTTP surface, and a
 * framework would add start-up time and dependencies to every training process.
 */
import * as http from 'http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FlagError } from '@sere/config';
import type { StepMetrics } from '@sere/sere';

export interface TelemetryOptions {
  run: string;
  rank: number;
  worldSize: number;
  host: string;
  port: number;
}

/** What the run loop reports; the endpoint (or nothing) behind it. */
export interface RunTelemetry {
  /** One iteration: its metrics, the wait for its batch and its compute, in seconds. */
  step(o: {
    epoch: number;
    iteration: number;
    metrics: StepMetrics;
    images: number;
    waitSeconds: number;
    stepSeconds: number;
    liveTensors: number;
    deviceMemory?: { allocated: number; reserved: number } | null;
  }): void;
  checkpoint(seconds: number): void;
  close(): Promise<void>;
}

const LOSS_TERMS: [keyof StepMetrics, string][] = [
  ['loss', 'total'],
  ['ibot', 'ibot'],
  ['ibotCls', 'ibot_cls'],
  ['ibotPatch', 'ibot_patch'],
  ['pixel', 'pixel'],
  ['channel', 'channel'],
];

export class TrainerTelemetry implements RunTelemetry {
  readonly registry = new Registry();
  private readonly server: http.Server;
  private readonly iterations = new Counter({ name: 'sere_trainer_iterations_total', help: 'Iterations trained by this rank in this process', registers: [this.registry] });
  private readonly images = new Counter({ name: 'sere_trainer_images_total', help: 'Images trained on by this rank in this process', registers: [this.registry] });
  private readonly loss = new Gauge({ name: 'sere_trainer_loss', help: 'Loss of the last iteration (averaged over ranks), by term', labelNames: ['term'], registers: [this.registry] });
  private readonly lr = new Gauge({ name: 'sere_trainer_learning_rate', help: 'Learning rate of the last iteration', registers: [this.registry] });
  private readonly wd = new Gauge({ name: 'sere_trainer_weight_decay', help: 'Weight decay of the last iteration', registers: [this.registry] });
  private readonly momentum = new Gauge({ name: 'sere_trainer_teacher_momentum', help: 'EMA momentum of the teacher at the last iteration', registers: [this.registry] });
  private readonly entropy = new Gauge({ name: 'sere_trainer_teacher_entropy_nats', help: "Entropy of the teacher's CLS targets: mean per image (of=image) and of the batch mean (of=batch); collapse drives them together", labelNames: ['of'], registers: [this.registry] });
  private readonly rate = new Gauge({ name: 'sere_trainer_images_per_second', help: 'Images/s over all ranks, over the last iterations (up to 20)', registers: [this.registry] });
  private readonly stepTime = new Histogram({ name: 'sere_trainer_step_seconds', help: 'Compute time of an iteration (forward, backward, optimiser, EMA, collectives)', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  private readonly waitTime = new Histogram({ name: 'sere_trainer_data_wait_seconds', help: 'Time an iteration waited for its batch', buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers: [this.registry] });
  private readonly waitShare = new Gauge({ name: 'sere_trainer_data_wait_ratio', help: 'Share of the last iterations (up to 20) spent waiting for batches: above ~0.05 the data path holds the trainer back', registers: [this.registry] });
  private readonly ckptTime = new Histogram({ name: 'sere_trainer_checkpoint_write_seconds', help: 'Time to serialise and store a checkpoint', buckets: [0.1, 0.5, 1, 5, 15, 60, 300], registers: [this.registry] });
  private readonly live = new Gauge({ name: 'sere_trainer_live_tensors', help: 'Native tensors alive after the last iteration (flat in a healthy run)', registers: [this.registry] });
  private readonly deviceMemory = new Gauge({ name: 'sere_trainer_device_memory_bytes', help: "CUDA memory after the last iteration: allocated to tensors, and reserved by PyTorch's caching allocator", labelNames: ['kind'], registers: [this.registry] });
  private readonly epoch = new Gauge({ name: 'sere_trainer_epoch', help: 'Epoch of the last iteration (0-based)', registers: [this.registry] });
  private readonly iteration = new Gauge({ name: 'sere_trainer_iteration', help: 'Global index of the last iteration (the schedules\' position)', registers: [this.registry] });
  private readonly recent: { images: number; wait: number; step: number }[] = [];

  private constructor(private readonly o: TelemetryOptions) {
    this.registry.setDefaultLabels({ run: o.run, rank: String(o.rank) });
    new Gauge({ name: 'sere_trainer_world_size', help: 'Ranks training together', registers: [this.registry] }).set(o.worldSize);
    new Gauge({
      name: 'sere_trainer_memory_bytes',
      help: 'Resident memory of the trainer process (host side)',
      registers: [this.registry],
      collect() {
        this.set(process.memoryUsage().rss);
      },
    });
    this.server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
  }

  /** Starts serving; resolves with the endpoint's URL once it listens. A taken port fails here, naming the flag. */
  static async start(o: TelemetryOptions): Promise<{ telemetry: TrainerTelemetry; url: string }> {
    const t = new TrainerTelemetry(o);
    await new Promise<void>((resolve, reject) => {
      t.server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new FlagError(`--metrics_port ${o.port}: cannot serve metrics on ${o.host}:${o.port} (${e.code ?? e.message}); choose another port, or 0 for a free one`, '--metrics_port')),
      );
      t.server.listen(o.port, o.host, () => resolve());
    });
    const { port } = t.server.address() as { port: number };
    return { telemetry: t, url: `http://${o.host}:${port}/metrics` };
  }

  step(s: Parameters<RunTelemetry['step']>[0]): void {
    const m = s.metrics;
    this.iterations.inc();
    this.images.inc(s.images);
    for (const [key, term] of LOSS_TERMS) this.loss.set({ term }, m[key] as number);
    this.lr.set(m.lr);
    this.wd.set(m.wd);
    this.momentum.set(m.momentum);
    this.entropy.set({ of: 'image' }, m.teacherEntropy);
    this.entropy.set({ of: 'batch' }, m.teacherBatchEntropy);
    this.stepTime.observe(s.stepSeconds);
    this.waitTime.observe(s.waitSeconds);
    this.live.set(s.liveTensors);
    if (s.deviceMemory) {
      this.deviceMemory.set({ kind: 'allocated' }, s.deviceMemory.allocated);
      this.deviceMemory.set({ kind: 'reserved' }, s.deviceMemory.reserved);
    }
    this.epoch.set(s.epoch);
    this.iteration.set(s.iteration);
    this.recent.push({ images: s.images * this.o.worldSize, wait: s.waitSeconds, step: s.stepSeconds });
    if (this.recent.length > 20) this.recent.shift();
    const time = this.recent.reduce((a, r) => a + r.wait + r.step, 0);
    this.rate.set(time > 0 ? this.recent.reduce((a, r) => a + r.images, 0) / time : 0);
    this.waitShare.set(time > 0 ? this.recent.reduce((a, r) => a + r.wait, 0) / time : 0);
  }

  checkpoint(seconds: number): void {
    this.ckptTime.observe(seconds);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
