/**
 * View codecs. Every view is HWC RGB uint8; the codec decides how the bytes of all views
 * of a batch travel.
 *
 * raw      the bytes as they are (577,536 bytes for 2×224 + 10×96 views).
 * deflate  the raw bytes through zlib's raw deflate.
 * jpeg     the views re-encoded as JPEG. With 4:4:4 chroma, views of one size are stacked
 *          vertically into one tall image (HWC rows simply concatenate), so one sharp call
 *          codes many views; as 224 and 96 are multiples of the 8-px block, no block
 *          straddles two views and each view decodes bit-identically to one coded alone
 *          (tested). With 4:2:0 the decoder's "fancy" chroma upsampling interpolates across
 *          the seam and changed the views' first and last rows by up to 60 levels (measured),
 *          so 4:2:0 codes one image per view. Sizes that are not block multiples also
 *          fall back to one image per view.
 *
 * The jpeg section is: u32 chunk count, then per chunk u16 view size, u16 view count,
 * u32 byte length, JPEG bytes. Chunks follow the order of `viewOrder`.
 *
 * Decoding never produces more than the header implies: a deflated section inflates to at
 * most the bytes its views need (zlib stops there), and a JPEG chunk's format and size are
 * read from its header (sharp's metadata() parses only the header: 0.1–0.6 ms a chunk against
 * 6 ms to decode a 224×3584 tile and 190 ms for 8192×8192) and refused unless they are the
 * stacked views' before a pixel is decoded.
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { WireError } from './errors';
import type { ViewCodecName } from './format';

const deflateRaw = promisify(zlib.deflateRaw);
const inflateRaw = promisify(zlib.inflateRaw);

/**
 * Inflates a raw-deflate section that must come to exactly `expected` bytes; zlib stops once
 * the output passes it, so a section built to inflate to gigabytes costs no more than that.
 */
export async function inflateAtMost(section: Uint8Array, expected: number, name: string): Promise<Buffer> {
  try {
    // zlib wants a limit of at least 1; a section that should be empty and is not fails the length check.
    return await inflateRaw(section, { maxOutputLength: Math.max(expected, 1) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new WireError('malformed', `${name} section inflates past the ${expected} bytes its header implies`);
    }
    throw new WireError('malformed', `${name} section does not inflate: ${(e as Error).message}`);
  }
}

/** JPEG's hard limit on an image side. */
const JPEG_MAX_SIDE = 65535;

export interface ViewCodecOptions {
  codec: ViewCodecName;
  /** zlib level for 'deflate' (1 = fastest). */
  deflateLevel?: number;
  /** JPEG quality for 'jpeg'. */
  jpegQuality?: number;
  /** JPEG chroma subsampling for 'jpeg' (default 4:4:4, which allows tiling). */
  chromaSubsampling?: '4:2:0' | '4:4:4';
  /** Most views stacked into one JPEG (bounded by the 65535-px side limit as well). */
  maxTileViews?: number;
}

export const DEFAULT_JPEG_QUALITY = 90;
export const DEFAULT_DEFLATE_LEVEL = 1;

/** (sample, view) pairs grouped by view size, in first-appearance order of the sizes. */
export function viewOrder(count: number, viewSizes: number[]): { size: number; cells: [number, number][] }[] {
  const groups = new Map<number, [number, number][]>();
  for (const size of viewSizes) if (!groups.has(size)) groups.set(size, []);
  for (let i = 0; i < count; i++) {
    viewSizes.forEach((size, v) => groups.get(size)!.push([i, v]));
  }
  return [...groups.entries()].map(([size, cells]) => ({ size, cells }));
}

function tileLimit(size: number, opts: ViewCodecOptions): number {
  if ((opts.chromaSubsampling ?? '4:4:4') !== '4:4:4' || size % 8 !== 0) return 1;
  return Math.max(1, Math.min(opts.maxTileViews ?? 256, Math.floor(JPEG_MAX_SIDE / size)));
}

function concat(views: Uint8Array[][]): Buffer {
  return Buffer.concat(views.flat());
}

export async function encodeViews(views: Uint8Array[][], viewSizes: number[], opts: ViewCodecOptions): Promise<Buffer> {
  switch (opts.codec) {
    case 'raw':
      return concat(views);
    case 'deflate':
      return deflateRaw(concat(views), { level: opts.deflateLevel ?? DEFAULT_DEFLATE_LEVEL });
    case 'jpeg':
      return encodeJpeg(views, viewSizes, opts);
    default:
      throw new RangeError(`wire: unknown view codec '${String(opts.codec)}' (expected raw, deflate or jpeg)`);
  }
}

async function encodeJpeg(views: Uint8Array[][], viewSizes: number[], opts: ViewCodecOptions): Promise<Buffer> {
  const quality = opts.jpegQuality ?? DEFAULT_JPEG_QUALITY;
  const chromaSubsampling = opts.chromaSubsampling ?? '4:4:4';
  const jobs: Promise<Buffer>[] = [];
  const heads: Buffer[] = [];
  for (const { size, cells } of viewOrder(views.length, viewSizes)) {
    const limit = tileLimit(size, opts);
    for (let start = 0; start < cells.length; start += limit) {
      const chunk = cells.slice(start, start + limit);
      const pixels = Buffer.concat(chunk.map(([i, v]) => views[i][v]));
      jobs.push(
        sharp(pixels, { raw: { width: size, height: size * chunk.length, channels: 3 } })
          .jpeg({ quality, chromaSubsampling })
          .toBuffer(),
      );
      const head = Buffer.alloc(8);
      head.writeUInt16LE(size, 0);
      head.writeUInt16LE(chunk.length, 2);
      heads.push(head);
    }
  }
  const jpegs = await Promise.all(jobs);
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0].writeUInt32LE(jpegs.length, 0);
  jpegs.forEach((jpeg, k) => {
    heads[k].writeUInt32LE(jpeg.length, 4);
    parts.push(heads[k], jpeg);
  });
  return Buffer.concat(parts);
}

/** Bytes of the HWC RGB views of one sample. */
export function viewBytesPerSample(viewSizes: number[]): number {
  return viewSizes.reduce((t, size) => t + size * size * 3, 0);
}

/** Returns views[sample][view]; raw views are sub-arrays of `section` (no copy). */
export async function decodeViews(
  section: Uint8Array,
  codec: ViewCodecName,
  count: number,
  viewSizes: number[],
): Promise<Uint8Array[][]> {
  const perSample = viewBytesPerSample(viewSizes);
  if (codec === 'jpeg') return decodeJpeg(section, count, viewSizes);
  let bytes: Uint8Array = section;
  if (codec === 'deflate') bytes = await inflateAtMost(section, perSample * count, 'views');
  if (bytes.length !== perSample * count) {
    throw new WireError('malformed', `views section holds ${bytes.length} bytes, expected ${perSample * count} for ${count} samples`);
  }
  const out: Uint8Array[][] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    out.push(
      viewSizes.map((size) => {
        const view = bytes.subarray(at, at + size * size * 3);
        at += size * size * 3;
        return view;
      }),
    );
  }
  return out;
}

/** Refuses a chunk that is not a 3-channel JPEG of width × height px, from its header alone. */
async function checkJpegHeader(jpeg: Buffer, index: number, width: number, height: number): Promise<void> {
  const m = await sharp(jpeg).metadata();
  if (m.format !== 'jpeg') throw new WireError('malformed', `jpeg chunk ${index} is ${m.format ? `a ${m.format} image` : 'no image'}, expected a JPEG`);
  if (m.width !== width || m.height !== height || m.channels !== 3) {
    throw new WireError('malformed', `jpeg chunk ${index} is ${m.width}x${m.height}x${m.channels} by its header, expected ${width}x${height}x3`);
  }
}

async function decodeJpeg(section: Uint8Array, count: number, viewSizes: number[]): Promise<Uint8Array[][]> {
  const buf = Buffer.from(section.buffer, section.byteOffset, section.byteLength);
  if (buf.length < 4) throw new WireError('malformed', 'jpeg views section shorter than its chunk count');
  const nChunks = buf.readUInt32LE(0);
  const chunks: { size: number; n: number; jpeg: Buffer }[] = [];
  let at = 4;
  for (let k = 0; k < nChunks; k++) {
    if (at + 8 > buf.length) throw new WireError('malformed', `jpeg chunk ${k} header runs past the views section`);
    const size = buf.readUInt16LE(at);
    const n = buf.readUInt16LE(at + 2);
    const len = buf.readUInt32LE(at + 4);
    at += 8;
    if (at + len > buf.length) throw new WireError('malformed', `jpeg chunk ${k} (${len} bytes) runs past the views section`);
    chunks.push({ size, n, jpeg: buf.subarray(at, at + len) });
    at += len;
  }
  if (at !== buf.length) throw new WireError('malformed', `${buf.length - at} stray bytes after the last jpeg chunk`);

  // Match every chunk to its views before decoding any, so a bad layout fails before work starts.
  const jobs: { jpeg: Buffer; index: number; size: number; targets: [number, number][] }[] = [];
  let c = 0;
  for (const { size, cells } of viewOrder(count, viewSizes)) {
    let placed = 0;
    while (placed < cells.length) {
      const chunk = chunks[c];
      if (!chunk || chunk.size !== size || chunk.n < 1 || placed + chunk.n > cells.length) {
        throw new WireError('malformed', `jpeg chunk ${c} does not match the expected ${size}-px views`);
      }
      jobs.push({ jpeg: chunk.jpeg, index: c, size, targets: cells.slice(placed, placed + chunk.n) });
      placed += chunk.n;
      c++;
    }
  }
  if (c !== chunks.length) throw new WireError('malformed', `${chunks.length - c} jpeg chunks more than the views need`);

  const out: Uint8Array[][] = Array.from({ length: count }, () => new Array<Uint8Array>(viewSizes.length));
  const decodeChunk = async ({ jpeg, index, size, targets }: (typeof jobs)[number]): Promise<void> => {
    const width = size;
    const height = size * targets.length;
    await checkJpegHeader(jpeg, index, width, height);
    // The pixel limit repeats the header check inside the decoder, which reads the same header.
    const { data, info } = await sharp(jpeg, { limitInputPixels: width * height }).raw().toBuffer({ resolveWithObject: true });
    if (info.width !== width || info.height !== height || info.channels !== 3) {
      throw new WireError('malformed', `jpeg chunk ${index} decodes to ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x3`);
    }
    targets.forEach(([i, v], k) => {
      out[i][v] = data.subarray(k * size * size * 3, (k + 1) * size * size * 3);
    });
  };
  try {
    await Promise.all(jobs.map(decodeChunk));
  } catch (e) {
    if (e instanceof WireError) throw e;
    throw new WireError('malformed', `jpeg view does not decode: ${(e as Error).message}`);
  }
  return out;
}
