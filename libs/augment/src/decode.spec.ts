import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp, { type Sharp } from 'sharp';
import { decodeImage, DecodeError, type DecodeErrorKind } from './decode';

// Every fixture is made here with sharp itself, in a temporary folder. The picture is smooth
// and asymmetric, so JPEG loss stays small and a wrong rotation shows.
const W = 40;
const H = 24;
const source = { rgb: new Uint8Array(W * H * 3) };
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    source.rgb.set([Math.round((255 * x) / W), Math.round((255 * y) / H), Math.round(((x + y) * 255) / (W + H))], (y * W + x) * 3);
  }
}
const raw = (): Sharp => sharp(Buffer.from(source.rgb), { raw: { width: W, height: H, channels: 3 } });

let dir: string;
const file = (name: string): string => path.join(dir, name);

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'augment-decode-'));
  const jpeg = await raw().jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
  await fs.writeFile(file('ok.jpg'), jpeg);
  await fs.writeFile(file('empty.jpg'), Buffer.alloc(0));
  await fs.writeFile(file('truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
  // Damage the Huffman tables but keep the start and the end marker.
  const damaged = Buffer.from(jpeg);
  const dht = damaged.indexOf(Buffer.from([0xff, 0xc4]));
  damaged.fill(0x55, dht + 4, dht + 40);
  await fs.writeFile(file('corrupt.jpg'), damaged);
  await fs.writeFile(file('notes.jpg'), Buffer.from('these are not the pixels you are looking for\n'));
  await fs.writeFile(file('cmyk.jpg'), await raw().toColourspace('cmyk').jpeg().toBuffer());
  await fs.writeFile(file('grey.jpg'), await raw().toColourspace('b-w').jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer());
  await fs.writeFile(file('deep.png'), await raw().toColourspace('rgb16').png().toBuffer());
  await fs.writeFile(file('alpha.png'), await raw().ensureAlpha(0.5).png().toBuffer());
  const png = await raw().png().toBuffer();
  await fs.writeFile(file('truncated.png'), png.subarray(0, Math.floor(png.length * 0.6)));
  // Stored sideways with EXIF orientation 6: viewers rotate it 90° clockwise.
  await fs.writeFile(file('rotated.jpg'), await raw().jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).withMetadata({ orientation: 6 }).toBuffer());
  await fs.mkdir(file('a-folder.jpg'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function failure(input: string | Buffer, options?: { maxPixels?: number; name?: string }): Promise<DecodeError> {
  try {
    await decodeImage(input, options);
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return err as DecodeError;
  }
  throw new Error(`decoding ${typeof input === 'string' ? input : 'a buffer'} should have failed`);
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

describe('decodeImage', () => {
  it('decodes a plain JPEG to RGB with no conversions', async () => {
    const img = await decodeImage(file('ok.jpg'));
    expect([img.width, img.height, img.format, img.conversions]).toEqual([W, H, 'jpeg', []]);
    expect(img.rgb.length).toBe(W * H * 3);
    expect(meanAbsDiff(img.rgb, source.rgb)).toBeLessThan(2); // JPEG q95 loss only
  });

  it.each<[string, DecodeErrorKind]>([
    ['empty.jpg', 'empty'],
    ['truncated.jpg', 'truncated'],
    ['truncated.png', 'truncated'],
    ['corrupt.jpg', 'corrupt'],
    ['notes.jpg', 'not-an-image'],
    ['missing.jpg', 'unreadable'],
    ['a-folder.jpg', 'unreadable'],
  ])('classifies %s as %s, naming the file', async (name, kind) => {
    const err = await failure(file(name));
    expect(err.kind).toBe(kind);
    expect(err.path).toBe(file(name));
    expect(err.message).toContain(file(name));
    expect(err.message).not.toMatch(/\n/);
  });

  it('refuses images over the pixel limit before decoding them', async () => {
    const err = await failure(await fs.readFile(file('ok.jpg')), { maxPixels: W * H - 1, name: 'inline.jpg' });
    expect(err.kind).toBe('too-large');
    expect(err.message).toContain('inline.jpg');
    await expect(decodeImage(file('ok.jpg'), { maxPixels: W * H })).resolves.toBeDefined();
  });

  it('converts CMYK to RGB and reports it', async () => {
    const img = await decodeImage(file('cmyk.jpg'));
    expect(img.conversions).toEqual(['cmyk']);
    expect(img.rgb.length).toBe(W * H * 3);
  });

  it('replicates grayscale to three equal channels and reports it', async () => {
    const img = await decodeImage(file('grey.jpg'));
    expect(img.conversions).toEqual(['grayscale']);
    for (let i = 0; i < img.rgb.length; i += 3) {
      expect(img.rgb[i + 1]).toBe(img.rgb[i]);
      expect(img.rgb[i + 2]).toBe(img.rgb[i]);
    }
  });

  it('reduces a 16-bit PNG to 8 bits and reports it', async () => {
    const img = await decodeImage(file('deep.png'));
    expect(img.conversions).toEqual(['16-bit', 'png']);
    expect(meanAbsDiff(img.rgb, source.rgb)).toBeLessThan(0.6);
  });

  it('drops alpha (keeping the colour, as PIL convert("RGB")) and reports it', async () => {
    const img = await decodeImage(file('alpha.png'));
    expect(img.conversions).toEqual(['alpha', 'png']);
    expect(meanAbsDiff(img.rgb, source.rgb)).toBe(0);
  });

  it('applies EXIF orientation and reports it', async () => {
    const img = await decodeImage(file('rotated.jpg'));
    expect(img.conversions).toEqual(['exif-rotated']);
    expect([img.width, img.height]).toEqual([H, W]);
    // Orientation 6 = rotate 90° clockwise: output (x, y) comes from source (y, H − 1 − x).
    const rotated = new Uint8Array(W * H * 3);
    for (let y = 0; y < W; y++) {
      for (let x = 0; x < H; x++) {
        const s = ((H - 1 - x) * W + y) * 3;
        rotated.set(source.rgb.subarray(s, s + 3), (y * H + x) * 3);
      }
    }
    expect(meanAbsDiff(img.rgb, rotated)).toBeLessThan(2);
  });
});
