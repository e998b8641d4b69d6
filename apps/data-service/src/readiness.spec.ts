import { BrokerWatch } from './readiness';

describe('BrokerWatch', () => {
  it('keeps asking, and records since when the brokers are (un)reachable and the last error', async () => {
    const answers: (Error | null)[] = [new Error('connect ECONNREFUSED 10.0.0.1:9092'), new Error('connect ECONNREFUSED 10.0.0.1:9092'), null, null];
    let t = 0;
    const asked: number[] = [];
    const watch = new BrokerWatch(
      ['10.0.0.1:9092'],
      {
        check: async () => {
          asked.push(t);
          const a = answers.shift() ?? null;
          if (a) throw a;
        },
        close: async () => undefined,
      },
      1,
      () => new Date(Date.UTC(2030, 0, 1, 0, 0, t++)),
    );
    expect(watch.status()).toMatchObject({ reachable: null, lastError: null, checkedAt: null });
    await watch.start();
    expect(watch.status()).toMatchObject({ brokers: ['10.0.0.1:9092'], reachable: false, since: '2030-01-01T00:00:01.000Z', lastError: 'connect ECONNREFUSED 10.0.0.1:9092' });
    const deadline = Date.now() + 2000;
    while (asked.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    await watch.stop();
    const s = watch.status();
    // Unreachable from the first answer, still at the second; reachable from the third on.
    expect(s).toMatchObject({ reachable: true, since: '2030-01-01T00:00:03.000Z', lastError: 'connect ECONNREFUSED 10.0.0.1:9092', lastErrorAt: '2030-01-01T00:00:02.000Z' });
    expect(asked.length).toBeGreaterThanOrEqual(4);
  });
});
