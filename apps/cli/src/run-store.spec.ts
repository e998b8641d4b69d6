import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStore } from '@sere/store';
import { withLocalCheckpoint } from './run-store';

// s3://bucket/... served from a local folder, so the download path runs without a server.
const bucketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-bucket-'));
jest.mock('@sere/store', () => {
  const actual = jest.requireActual('@sere/store');
  return {
    ...actual,
    openStore: (url: string) => (url.startsWith('s3://') ? new actual.LocalStore(path.join(bucketDir, url.slice('s3://'.length))) : actual.openStore(url)),
  };
});

describe('withLocalCheckpoint', () => {
  const bytes = Buffer.from('a checkpoint');
  beforeAll(async () => {
    await new LocalStore(path.join(bucketDir, 'runs/vit')).put('checkpoint0040.pth', bytes);
  });
  afterAll(() => fs.rmSync(bucketDir, { recursive: true, force: true }));

  it('hands over a downloaded S3 object and removes the download afterwards', async () => {
    let used = '';
    const seen = await withLocalCheckpoint('s3://runs/vit/checkpoint0040.pth', (file) => {
      used = file;
      expect(path.basename(file)).toBe('checkpoint0040.pth');
      expect(path.dirname(file).startsWith(path.join(os.tmpdir(), 'sere-ckpt-'))).toBe(true);
      return fs.readFileSync(file);
    });
    expect(seen.equals(bytes)).toBe(true);
    expect(fs.existsSync(path.dirname(used))).toBe(false);
  });

  it('removes the download when its user fails too', async () => {
    let used = '';
    await expect(
      withLocalCheckpoint('s3://runs/vit/checkpoint0040.pth', (file) => {
        used = file;
        throw new Error('wrong --arch');
      }),
    ).rejects.toThrow('wrong --arch');
    expect(used).not.toBe('');
    expect(fs.existsSync(path.dirname(used))).toBe(false);
  });

  it('leaves a local checkpoint where it is', async () => {
    const file = path.join(bucketDir, 'mine.pth');
    fs.writeFileSync(file, bytes);
    expect(await withLocalCheckpoint(file, (f) => f)).toBe(file);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });
});
