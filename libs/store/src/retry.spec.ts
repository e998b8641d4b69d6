import { backoffDelays, RetriesExhausted, withRetry } from './retry';

const transient = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

describe('withRetry', () => {
  it('doubles the delay up to the cap', () => {
    expect(backoffDelays({ attempts: 6, firstDelayMs: 500, maxDelayMs: 3000 })).toEqual([500, 1000, 2000, 3000, 3000]);
    expect(backoffDelays({ attempts: 1, firstDelayMs: 500, maxDelayMs: 3000 })).toEqual([]);
  });

  it('retries transient failures and returns the first success', async () => {
    const slept: number[] = [];
    let calls = 0;
    const out = await withRetry(
      { attempts: 5, firstDelayMs: 10, maxDelayMs: 100 },
      async (attempt) => {
        calls++;
        if (attempt < 3) throw transient;
        return 'ok';
      },
      () => true,
      async (ms) => {
        slept.push(ms);
      },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(3);
    expect(slept).toEqual([10, 20]);
  });

  it('gives up after the last attempt with the last error attached', async () => {
    const slept: number[] = [];
    const p = withRetry(
      { attempts: 4, firstDelayMs: 1, maxDelayMs: 2 },
      async () => {
        throw transient;
      },
      () => true,
      async (ms) => {
        slept.push(ms);
      },
    );
    const e = await p.catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RetriesExhausted);
    expect((e as RetriesExhausted).attempts).toBe(4);
    expect((e as RetriesExhausted).last).toBe(transient);
    expect(slept).toEqual([1, 2, 2]);
  });

  it('rethrows a permanent failure at once', async () => {
    let calls = 0;
    const permanent = new Error('AccessDenied');
    await expect(
      withRetry(
        { attempts: 5, firstDelayMs: 1, maxDelayMs: 1 },
        async () => {
          calls++;
          throw permanent;
        },
        (e) => e !== permanent,
      ),
    ).rejects.toBe(permanent);
    expect(calls).toBe(1);
  });

  it('refuses a policy without attempts', async () => {
    await expect(withRetry({ attempts: 0, firstDelayMs: 1, maxDelayMs: 1 }, async () => 1, () => true)).rejects.toThrow(/attempts must be >= 1/);
  });
});
