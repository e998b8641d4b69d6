/**
 * Whether the Kafka brokers answer, asked every few seconds: what GET /ready reports.
 *
 * /health is liveness (the process works; an orchestrator restarts it when not), /ready is
 * readiness (the service can do its job now): a replica whose broker has been away for a
 * while is alive, and restarting it would not bring the broker back, but it is not ready.
 */
import type { BrokerProbe } from '@sere/stream';

export interface BrokerStatus {
  brokers: string[];
  /** Null until the first answer (or failure). */
  reachable: boolean | null;
  /** When the brokers became reachable or unreachable (ISO 8601); the watch's start until then. */
  since: string;
  /** The last failure's words and time, even after the brokers came back. */
  lastError: string | null;
  lastErrorAt: string | null;
  checkedAt: string | null;
}

/** What is known before the first answer: nothing yet, since `at`. */
export function unanswered(brokers: string[], at: Date): BrokerStatus {
  return { brokers: [...brokers], reachable: null, since: at.toISOString(), lastError: null, lastErrorAt: null, checkedAt: null };
}

export class BrokerWatch {
  private state: BrokerStatus;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    brokers: string[],
    private readonly probe: BrokerProbe,
    private readonly intervalMs = 5000,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.state = unanswered(brokers, this.now());
  }

  /** Asks once, then every intervalMs after each answer; resolves after the first answer. */
  start(): Promise<void> {
    this.inFlight = this.ask();
    return this.inFlight;
  }

  status(): BrokerStatus {
    return { ...this.state, brokers: [...this.state.brokers] };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    await this.probe.close().catch(() => undefined);
  }

  private async ask(): Promise<void> {
    let error: string | null = null;
    try {
      await this.probe.check();
    } catch (e) {
      error = (e as Error).message;
    }
    const at = this.now().toISOString();
    const reachable = error === null;
    if (this.state.reachable !== reachable) this.state.since = at;
    this.state.reachable = reachable;
    this.state.checkedAt = at;
    if (error !== null) {
      this.state.lastError = error;
      this.state.lastErrorAt = at;
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.ask();
    }, this.intervalMs);
    // A pending check never keeps the process alive by itself.
    this.timer.unref();
  }
}
