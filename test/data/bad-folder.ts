/**
 * An ImageFolder seeded with every kind of awkward file the data service must survive, and
 * what scanDataset should say about each. Built from synthetic pictures with sharp, so no
 * binary fixtures live in the repository.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { Rng } from '@sere/augment';
import { drawPicture } from '@sere/dataset';

export interface BadFolder {
  root: string;
  /** Files that must stream, converted or not. */
  usable: string[];
  skipped: Record<string, string>; // relative path → DecodeErrorKind
  converted: Record<string, string[]>; // relative path → conversions
  emptyClasses: string[];
}

async function picture(w: number, h: number, cls: number): Promise<Sharp> {
  const rgb = drawPicture(w, h, cls, 4, Rng.fromKey([42, cls, w, h]));
  return sharp(Buffer.from(rgb), { raw: { width: w, height: h, channels: 3 } });
}

/** Rewrites the SOF0 frame size of a baseline JPEG: a header that promises a giant image. */
function claimSize(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i < out.length - 9; ) {
    if (out[i] !== 0xff) throw new Error('claimSize: lost JPEG marker sync');
    const marker = out[i + 1];
    const len = out.readUInt16BE(i + 2);
    if (marker === 0xc0 || marker === 0xc2) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + len;
  }
  throw new Error('claimSize: no SOF marker');
}

export async function makeBadFolder(root: string): Promise<BadFolder> {
  await fs.rm(root, { recursive: true, force: true });
  for (const d of ['a_good', 'b_odd', 'c_broken', 'd_empty']) await fs.mkdir(path.join(root, d), { recursive: true });
  const write = (rel: string, data: Buffer | string) => fs.writeFile(path.join(root, rel), data);

  const good = await (await picture(96, 72, 0)).jpeg({ quality: 90 }).toBuffer();
  for (let i = 0; i < 4; i++) await write(`a_good/good_${i}.jpg`, await (await picture(80 + 8 * i, 64, i)).jpeg({ quality: 90 }).toBuffer());

  await write('b_odd/png.png', await (await picture(64, 64, 1)).png().toBuffer());
  await write('b_odd/cmyk.jpg', await (await picture(64, 64, 2)).toColourspace('cmyk').jpeg().toBuffer());
  await write('b_odd/gray.jpg', await (await picture(64, 64, 3)).toColourspace('b-w').jpeg().toBuffer());
  await write('b_odd/deep16.png', await (await picture(64, 64, 1)).toColourspace('rgb16').png().toBuffer());
  await write('b_odd/alpha.png', await (await picture(64, 64, 2)).ensureAlpha(0.5).png().toBuffer());
  await write('b_odd/rotated.jpg', await (await picture(80, 48, 3)).jpeg().withMetadata({ orientation: 6 }).toBuffer());
  const locked = path.join(root, 'b_odd/chmod000.jpg');
  await write('b_odd/chmod000.jpg', good);
  await fs.chmod(locked, 0o000);

  await write('c_broken/zero.jpg', Buffer.alloc(0));
  await write('c_broken/notes.jpg', 'these are notes, not a picture\n'.repeat(20));
  await write('c_broken/truncated.jpg', good.subarray(0, Math.floor(good.length / 2)));
  const corrupt = Buffer.from(good);
  // Garbage inside the entropy-coded data, markers left intact: libjpeg warns "corrupt data".
  for (let i = Math.floor(corrupt.length * 0.4); i < Math.floor(corrupt.length * 0.6); i += 7) corrupt[i] = 0xff;
  await write('c_broken/corrupt.jpg', corrupt);
  await write('c_broken/giant.jpg', claimSize(good, 60000, 60000));
  await fs.symlink(path.join(root, 'c_broken/gone.jpg'), path.join(root, 'c_broken/dangling.jpg'));

  // As root (CI, containers) chmod 000 does not stop a read: the file is simply usable.
  const rootUser = process.getuid?.() === 0;
  const skipped: Record<string, string> = {
    'c_broken/zero.jpg': 'empty',
    'c_broken/notes.jpg': 'not-an-image',
    'c_broken/truncated.jpg': 'truncated',
    'c_broken/corrupt.jpg': 'corrupt',
    'c_broken/giant.jpg': 'too-large',
    'c_broken/dangling.jpg': 'unreadable',
  };
  if (!rootUser) skipped['b_odd/chmod000.jpg'] = 'unreadable';
  const converted: Record<string, string[]> = {
    'b_odd/png.png': ['png'],
    'b_odd/cmyk.jpg': ['cmyk'],
    'b_odd/gray.jpg': ['grayscale'],
    'b_odd/deep16.png': ['16-bit', 'png'],
    'b_odd/alpha.png': ['alpha', 'png'],
    'b_odd/rotated.jpg': ['exif-rotated'],
  };
  const usable = [...[0, 1, 2, 3].map((i) => `a_good/good_${i}.jpg`), ...Object.keys(converted)];
  if (rootUser) usable.push('b_odd/chmod000.jpg');
  return { root, usable: usable.sort(), skipped, converted, emptyClasses: ['d_empty'] };
}
