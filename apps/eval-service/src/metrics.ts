/**
 * Prometheus metrics of the eval service, named as the other services' (sere_<service>_…,
 * base units, _total counters). Accuracies are percent, as in the reports.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class EvalMetrics {
  readonly registry = new Registry();
  readonly knnTop1 = new Gauge({ name: 'sere_eval_knn_top1', help: 'Weighted k-NN top-1 accuracy (%) of the checkpoint of an epoch', labelNames: ['run', 'epoch', 'k'], registers: [this.registry] });
  readonly linearTop1 = new Gauge({ name: 'sere_eval_linear_top1', help: 'Linear-probe top-1 accuracy (%) of the checkpoint of an epoch', labelNames: ['run', 'epoch'], registers: [this.registry] });
  readonly duration = new Histogram({
    name: 'sere_eval_duration_seconds',
    help: 'Time to evaluate one checkpoint (features, k-NN and probe)',
    buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
    registers: [this.registry],
  });
  readonly queueLength = new Gauge({ name: 'sere_eval_queue_length', help: 'Checkpoints found and not yet evaluated', registers: [this.registry] });
  readonly failures = new Counter({ name: 'sere_eval_failures_total', help: 'Checkpoints that could not be evaluated, by kind (checkpoint: unreadable or of another architecture; eval; store)', labelNames: ['kind'], registers: [this.registry] });
  readonly evaluations = new Counter({ name: 'sere_eval_checkpoints_total', help: 'Checkpoints evaluated', labelNames: ['run'], registers: [this.registry] });
  readonly lastEpoch = new Gauge({ name: 'sere_eval_last_epoch', help: 'Newest epoch evaluated', labelNames: ['run'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sere_eval_process_' });
    // Zero from the start, so rate() and alerts see the series before the first failure.
    for (const kind of ['checkpoint', 'eval', 'store']) this.failures.inc({ kind }, 0);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
