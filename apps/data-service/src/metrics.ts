/**
 * Prometheus metrics of one replica. Counters carry the totals (Prometheus' rate() gives
 * images/s and bytes/s); the two *_per_second gauges give the same over the last scrape
 * interval for people reading /metrics by hand.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { StreamerMetrics } from '@sere/stream';

export class DataServiceMetrics implements StreamerMetrics {
  readonly registry = new Registry();
  private readonly images = new Counter({ name: 'sere_data_images_total', help: 'Images streamed (views built and sent)', registers: [this.registry] });
  private readonly bytes = new Counter({ name: 'sere_data_bytes_total', help: 'Message bytes sent to Kafka', registers: [this.registry] });
  private readonly slots = new Counter({ name: 'sere_data_slots_total', help: 'Messages (slots) sent', labelNames: ['rank'], registers: [this.registry] });
  private readonly failures = new Counter({ name: 'sere_data_decode_failures_total', help: 'Images skipped, by kind', labelNames: ['kind'], registers: [this.registry] });
  private readonly conversions = new Counter({ name: 'sere_data_conversions_total', help: 'Images converted to 8-bit sRGB, by kind', labelNames: ['kind'], registers: [this.registry] });
  private readonly lagGauge = new Gauge({ name: 'sere_data_lag_messages', help: 'Messages this replica is ahead of the rank trainer\'s committed offset (last measured)', labelNames: ['rank'], registers: [this.registry] });
  private readonly epochGauge = new Gauge({ name: 'sere_data_epoch', help: 'Epoch being streamed', registers: [this.registry] });
  private last = { at: Date.now(), images: 0, bytes: 0 };
  private totals = { images: 0, bytes: 0 };

  constructor(labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry });
    const rate = (key: 'images' | 'bytes') => () => {
      const now = Date.now();
      const dt = (now - this.last.at) / 1000;
      return dt > 0 ? (this.totals[key] - this.last[key]) / dt : 0;
    };
    const imagesRate = rate('images');
    const bytesRate = rate('bytes');
    let pending = 0;
    // Both gauges are read in one scrape; the window restarts once both have been read.
    const roll = () => {
      if (++pending === 2) {
        pending = 0;
        this.last = { at: Date.now(), ...this.totals };
      }
    };
    new Gauge({ name: 'sere_data_images_per_second', help: 'Images/s since the previous scrape', registers: [this.registry], collect() { this.set(imagesRate()); roll(); } });
    new Gauge({ name: 'sere_data_bytes_per_second', help: 'Bytes/s since the previous scrape', registers: [this.registry], collect() { this.set(bytesRate()); roll(); } });
  }

  imagesSent(n: number): void {
    this.totals.images += n;
    this.images.inc(n);
  }
  bytesSent(n: number): void {
    this.totals.bytes += n;
    this.bytes.inc(n);
  }
  decodeFailure(kind: string): void {
    this.failures.inc({ kind });
  }
  conversion(kind: string): void {
    this.conversions.inc({ kind });
  }
  lag(rank: number, messages: number): void {
    this.lagGauge.set({ rank: String(rank) }, messages);
  }
  slotSent(rank: number, epoch: number, _seq?: number): void {
    this.slots.inc({ rank: String(rank) });
    this.epochGauge.set(epoch);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
