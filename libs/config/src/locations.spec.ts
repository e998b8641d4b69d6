import { dataSource, parseDataSource, parseStoreLocation, storeLocation } from './locations';
import { parseFlags } from './parse';

describe('data sources', () => {
  it('reads folders and Kafka topics', () => {
    expect(parseDataSource('/data/train')).toEqual({ kind: 'folder', path: '/data/train' });
    expect(parseDataSource('relative/dir')).toEqual({ kind: 'folder', path: 'relative/dir' });
    expect(parseDataSource('kafka://localhost:9092/sere.views')).toEqual({
      kind: 'kafka',
      brokers: ['localhost:9092'],
      topic: 'sere.views',
    });
    expect(parseDataSource('KAFKA://k1:9092,10.0.0.2:9093,[::1]:9094/views').kind).toBe('kafka');
    expect(parseDataSource('kafka://k1:9092,k2:9093/views')).toMatchObject({ brokers: ['k1:9092', 'k2:9093'] });
  });

  it('rejects malformed Kafka URLs with the reason', () => {
    expect(() => parseDataSource('kafka://host:0/t')).toThrow("broker 'host:0' is not host:port (port 1–65535)");
    expect(() => parseDataSource('kafka://host:9092/')).toThrow(/topic '' must be/);
    expect(() => parseDataSource('kafka://host:9092/a/b')).toThrow(/topic 'a\/b' must be/);
    expect(() => parseDataSource('s3://bucket/x')).toThrow(/neither a local folder nor kafka/);
  });

  it('falls back to --data_path', () => {
    expect(dataSource(parseFlags([]))).toEqual({ kind: 'folder', path: '/path/to/imagenet/train/' });
    expect(dataSource(parseFlags(['--data_path', '/in', '--data', 'kafka://b:9092/v']))).toMatchObject({ kind: 'kafka' });
  });
});

describe('stores', () => {
  it('reads folders and S3 URLs', () => {
    expect(parseStoreLocation('runs/a')).toEqual({ kind: 'local', path: 'runs/a' });
    expect(parseStoreLocation('s3://sere-runs')).toEqual({ kind: 's3', bucket: 'sere-runs', prefix: '' });
    expect(parseStoreLocation('s3://sere-runs/vit_s/run1/')).toEqual({ kind: 's3', bucket: 'sere-runs', prefix: 'vit_s/run1' });
    expect(() => parseStoreLocation('s3://Bad_Bucket/x')).toThrow(/bucket 'Bad_Bucket' must be/);
    expect(() => parseStoreLocation('s3://a..b/x')).toThrow(/bucket 'a..b'/);
  });

  it('refuses keys in an S3 URL without repeating them', () => {
    const problem = (() => {
      try {
        parseFlags(['--store', 's3://AKIDEXAMPLE:wJalrSECRET@sere-runs/x']);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    })();
    expect(problem).toMatch(/^--store: s3:\/\/ URL carries credentials; .*SERE_S3_ACCESS_KEY and SERE_S3_SECRET_KEY/);
    expect(problem).not.toMatch(/wJalrSECRET|AKIDEXAMPLE/);
  });

  it('falls back to --output_dir', () => {
    expect(storeLocation(parseFlags(['--output_dir', 'out']))).toEqual({ kind: 'local', path: 'out' });
    expect(storeLocation(parseFlags(['--output_dir', 'out', '--store', 's3://runs/x']))).toEqual({
      kind: 's3',
      bucket: 'runs',
      prefix: 'x',
    });
  });
});
