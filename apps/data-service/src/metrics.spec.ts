import { DataServiceMetrics } from './metrics';

describe('DataServiceMetrics', () => {
  it('exposes totals, failures by kind, lag by rank and rates', async () => {
    const m = new DataServiceMetrics({ replica: '1' });
    m.imagesSent(16);
    m.bytesSent(800_000);
    m.decodeFailure('truncated');
    m.decodeFailure('truncated');
    m.conversion('cmyk');
    m.lag(3, 12);
    m.slotSent(3, 5, 0);
    const text = await m.text();
    expect(text).toMatch(/^sere_data_images_total\{replica="1"\} 16$/m);
    expect(text).toMatch(/^sere_data_bytes_total\{replica="1"\} 800000$/m);
    expect(text).toMatch(/^sere_data_decode_failures_total\{kind="truncated",replica="1"\} 2$/m);
    expect(text).toMatch(/^sere_data_conversions_total\{kind="cmyk",replica="1"\} 1$/m);
    expect(text).toMatch(/^sere_data_lag_messages\{rank="3",replica="1"\} 12$/m);
    expect(text).toMatch(/^sere_data_epoch\{replica="1"\} 5$/m);
    expect(Number(/^sere_data_images_per_second\{replica="1"\} (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^process_cpu_seconds_total/m);
  });
});
