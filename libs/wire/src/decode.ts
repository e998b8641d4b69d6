import * as zlib from 'node:zlib';
import type { CropRect, MultiCropSample, View } from '@sere/augment';
import { unpackMask } from './bits';
import { decodeViews, inflateAtMost, viewBytesPerSample } from './codecs';
import { WireError } from './errors';
import {
  CHECKSUM_BYTES,
  CODEC_NAMES,
  FIXED_HEADER_BYTES,
  Flag,
  MAGIC,
  WIRE_VERSION,
  maskBytes,
  viewSizesBytes,
  type MessageInfo,
} from './format';

/**
 * The most bytes one message may decode to (views and grids): 256 MiB. The header says what a
 * message decodes to, and a forged header can say 37 GB (65,535 samples of 65,535-px views);
 * decoding stops at this before anything is inflated or decoded. A 16-image slot of ViT-B
 * views (2×224 + 10×96 px) decodes to 9.5 MB, so a slot of up to 450 such images fits (the data service refuses a larger slot size).
 */
export const MAX_DECODED_BYTES = 256 * 1024 * 1024;

export interface DecodeOptions {
  /** The most bytes the message may decode to; default MAX_DECODED_BYTES. */
  maxDecodedBytes?: number;
}

/** Bytes of the float32 grids of one sample with this header's grid sides. */
export function gridBytesPerSample(info: Pick<MessageInfo, 'viewSizes' | 'overlap' | 'localGrid'>): number {
  const [s1, s2] = info.overlap;
  const g = info.localGrid;
  const L = Math.max(info.viewSizes.length - 2, 0);
  return (2 * s1 * s1 * 2 + 2 * s2 * s2 * 2 + 4 * L * g * g * 2) * 4;
}

/** A decoded batch: where it sits in the rank's stream, and its samples. */
export interface WireBatch {
  info: MessageInfo;
  samples: MultiCropSample[];
}

/**
 * Checks magic, version, length and CRC, and reads the fixed header. Cheap (one CRC pass),
 * synchronous, and the only gate a message passes before anything trusts its fields.
 */
export function inspectMessage(buf: Uint8Array): MessageInfo {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 4) throw new WireError('truncated', `message of ${b.length} bytes is shorter than its magic`);
  if (b.readUInt32LE(0) !== MAGIC) {
    throw new WireError('magic', `starts with 0x${b.readUInt32LE(0).toString(16).padStart(8, '0')}, expected "SERB" (0x${MAGIC.toString(16)})`);
  }
  if (b.length < FIXED_HEADER_BYTES) throw new WireError('truncated', `message of ${b.length} bytes is shorter than the ${FIXED_HEADER_BYTES}-byte header`);
  const version = b.readUInt16LE(4);
  if (version > WIRE_VERSION || version === 0) {
    throw new WireError('version', `format version ${version}, this reader knows 1..${WIRE_VERSION}; upgrade the trainer or pin the data service's wire version`);
  }
  const totalLength = b.readUInt32LE(8);
  if (b.length < totalLength) throw new WireError('truncated', `message holds ${b.length} of its ${totalLength} bytes`);
  if (b.length > totalLength) throw new WireError('malformed', `message holds ${b.length} bytes, its header says ${totalLength}`);
  const stored = b.readUInt32LE(totalLength - CHECKSUM_BYTES);
  const actual = zlib.crc32(b.subarray(0, totalLength - CHECKSUM_BYTES));
  if (stored !== actual) throw new WireError('checksum', `CRC-32 0x${actual.toString(16)} does not match the stored 0x${stored.toString(16)}`);

  const codecId = b.readUInt8(6);
  const codec = CODEC_NAMES[codecId];
  if (!codec) throw new WireError('malformed', `unknown view codec id ${codecId}`);
  const nViews = b.readUInt16LE(38);
  if (FIXED_HEADER_BYTES + viewSizesBytes(nViews) > totalLength) throw new WireError('malformed', `${nViews} view sizes run past the message`);
  const viewSizes = Array.from({ length: nViews }, (_, k) => b.readUInt16LE(FIXED_HEADER_BYTES + 2 * k));
  return {
    version,
    codec,
    gridsDeflated: (b.readUInt8(7) & Flag.GridsDeflated) !== 0,
    totalLength,
    epoch: b.readUInt32LE(12),
    rank: b.readUInt16LE(16),
    replica: b.readUInt16LE(18),
    seq: b.readUInt32LE(20),
    slotsInEpoch: b.readUInt32LE(24),
    rankEpochSize: b.readUInt32LE(28),
    firstPosition: b.readUInt32LE(32),
    count: b.readUInt16LE(36),
    viewSizes,
    maskGrid: b.readUInt16LE(40),
    overlap: [b.readUInt8(42), b.readUInt8(43)],
    localGrid: b.readUInt8(44),
    ranks: b.readUInt16LE(46),
  };
}

class Reader {
  constructor(
    private readonly b: Buffer,
    public at: number,
    private readonly end: number,
  ) {}

  section(name: string): Buffer {
    if (this.at + 4 > this.end) throw new WireError('malformed', `${name} section length runs past the message`);
    const len = this.b.readUInt32LE(this.at);
    this.at += 4;
    if (this.at + len > this.end) throw new WireError('malformed', `${name} section (${len} bytes) runs past the message`);
    const out = this.b.subarray(this.at, this.at + len);
    this.at += len;
    return out;
  }
}

/** Validates and decodes a whole message. Throws WireError on any defect. */
export async function decodeBatch(buf: Uint8Array, opts: DecodeOptions = {}): Promise<WireBatch> {
  const info = inspectMessage(buf);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = info.count;
  const V = info.viewSizes.length;
  if (n > 0 && V < 2) throw new WireError('malformed', `batch of ${n} samples with ${V} views`);
  // What the header says the sections decode to bounds every inflate and decode below.
  const gridBytes = n * gridBytesPerSample(info);
  const viewBytes = n * viewBytesPerSample(info.viewSizes);
  const limit = opts.maxDecodedBytes ?? MAX_DECODED_BYTES;
  if (gridBytes + viewBytes > limit) {
    throw new WireError('malformed', `header says ${n} samples of ${info.viewSizes.join('/')}-px views, ${gridBytes + viewBytes} bytes decoded; a message may decode to at most ${limit}`);
  }
  const L = V - 2;
  const end = info.totalLength - CHECKSUM_BYTES;
  const r = new Reader(b, FIXED_HEADER_BYTES + viewSizesBytes(V), end);
  const meta = r.section('meta');
  let grids: Buffer = r.section('grids');
  const viewsSection = r.section('views');
  if (r.at !== end) throw new WireError('malformed', `${end - r.at} stray bytes before the checksum`);

  const mb = maskBytes(info.maskGrid);
  const metaLen = n * 8 + n * V * 33 + n * 2 * mb;
  if (meta.length !== metaLen) throw new WireError('malformed', `meta section holds ${meta.length} bytes, expected ${metaLen}`);
  if (info.gridsDeflated) grids = await inflateAtMost(grids, gridBytes, 'grids');
  const [s1, s2] = info.overlap;
  const g = info.localGrid;
  const floatsPerSample = gridBytesPerSample(info) / 4;
  if (grids.length !== gridBytes) throw new WireError('malformed', `grids section holds ${grids.length} bytes, expected ${gridBytes}`);
  if (n === 0) return { info, samples: [] };
  const views = await decodeViews(viewsSection, info.codec, n, info.viewSizes);

  // Copy the grids out: Float32Array needs 4-byte alignment, which a Kafka buffer does not promise.
  const floats = new Float32Array(n * floatsPerSample);
  new Uint8Array(floats.buffer).set(grids);
  let gAt = 0;
  const take = (side: number) => {
    const out = floats.subarray(gAt, gAt + side * side * 2);
    gAt += side * side * 2;
    return out;
  };

  let at = 0;
  const indices = Array.from({ length: n }, (_, i) => meta.readUInt32LE(at + 4 * i));
  at += 4 * n;
  const labels = Array.from({ length: n }, (_, i) => meta.readUInt32LE(at + 4 * i));
  at += 4 * n;
  const rects: CropRect[][] = [];
  for (let i = 0; i < n; i++) {
    const row: CropRect[] = [];
    for (let v = 0; v < V; v++) {
      row.push({ x0: meta.readDoubleLE(at), y0: meta.readDoubleLE(at + 8), w: meta.readDoubleLE(at + 16), h: meta.readDoubleLE(at + 24), flip: false });
      at += 32;
    }
    rects.push(row);
  }
  for (let i = 0; i < n; i++) for (let v = 0; v < V; v++) rects[i][v].flip = meta[at++] === 1;

  const samples: MultiCropSample[] = [];
  for (let i = 0; i < n; i++) {
    const masks: [Uint8Array, Uint8Array] = [unpackMask(meta, at, info.maskGrid ** 2), unpackMask(meta, at + mb, info.maskGrid ** 2)];
    at += 2 * mb;
    const sampleViews: View[] = info.viewSizes.map((size, v) => ({ size, rgb: views[i][v], rect: rects[i][v] }));
    const gridsGlobal1: [Float32Array, Float32Array] = [take(s1), take(s1)];
    const gridsGlobal2: [Float32Array, Float32Array] = [take(s2), take(s2)];
    const gridsLocal = Array.from({ length: 2 * L }, () => take(g));
    const gridsGlobalSide = Array.from({ length: 2 * L }, () => take(g));
    samples.push({ index: indices[i], label: labels[i], views: sampleViews, masks, maskGrid: info.maskGrid, gridsGlobal1, gridsGlobal2, gridsLocal, gridsGlobalSide });
  }
  return { info, samples };
}
