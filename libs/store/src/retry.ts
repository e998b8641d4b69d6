/**
 * Bounded retries with exponential backoff for transient failures (a server restarting, a
 * dropped connection). The delays are deterministic: one writer per store needs no jitter,
 * and tests can reason about the total time.
 */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

/** 7 tries over about 24 s: rides out a server restart (SeaweedFS takes up to 16 s here). */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 7, firstDelayMs: 500, maxDelayMs: 8000 };

export class RetriesExhausted extends Error {
  override readonly name = 'RetriesExhausted';
  constructor(
    readonly last: unknown,
    readonly attempts: number,
    readonly elapsedMs: number,
  ) {
    super(`gave up after ${attempts} attempts over ${(elapsedMs / 1000).toFixed(1)} s`, { cause: last });
  }
}

export function backoffDelays(policy: RetryPolicy): number[] {
  const out: number[] = [];
  for (let i = 0; i < policy.attempts - 1; i++) out.push(Math.min(policy.firstDelayMs * 2 ** i, policy.maxDelayMs));
  return out;
}

/**
 * Runs `op` until it succeeds, fails with a non-retryable error (rethrown as is), or has
 * used every attempt (RetriesExhausted carrying the last error).
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  op: (attempt: number) => Promise<T>,
  retryable: (e: unknown) => boolean,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  if (!(policy.attempts >= 1)) throw new RangeError(`retry attempts must be >= 1, got ${policy.attempts}`);
  const delays = backoffDelays(policy);
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (e) {
      if (!retryable(e)) throw e;
      if (attempt >= policy.attempts) throw new RetriesExhausted(e, attempt, Date.now() - started);
      await sleep(delays[attempt - 1]);
    }
  }
}
