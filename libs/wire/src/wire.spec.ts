import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { decodeBatch, encodeBatch, inspectMessage, sampleChecksum, standInSample, WireError, type BatchHeader, type EncodeOptions } from './index';

const header: BatchHeader = { epoch: 3, rank: 2, replica: 1, seq: 7, slotsInEpoch: 9, rankEpochSize: 70, firstPosition: 56, ranks: 4 };
const small = { globalSize: 32, localSize: 16, locals: 3 };

async function rejects(p: Promise<unknown> | (() => unknown), kind: string): Promise<void> {
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p;
  await expect(run).rejects.toBeInstanceOf(WireError);
  await expect(run).rejects.toMatchObject({ kind });
}

describe('encodeBatch / decodeBatch', () => {
  const samples = [standInSample(11, 4, small), standInSample(12, 0, small), standInSample(99, 7, small)];

  it.each<[string, EncodeOptions]>([
    ['raw', { codec: 'raw' }],
    ['deflate', { codec: 'deflate', deflateLevel: 6 }],
    ['raw with deflated grids', { codec: 'raw', deflateGrids: true }],
  ])('round-trips every field exactly (%s)', async (_name, opts) => {
    const msg = await encodeBatch(header, samples, opts);
    const { info, samples: out } = await decodeBatch(msg);
    expect(info).toMatchObject({ ...header, count: 3, viewSizes: [32, 32, 16, 16, 16], maskGrid: 14, overlap: [13, 13], localGrid: 6 });
    expect(out.map((s) => sampleChecksum(s))).toEqual(samples.map((s) => sampleChecksum(s)));
    expect(out[2].views[3].rect).toEqual(samples[2].views[3].rect);
    expect(Array.from(out[1].masks[1])).toEqual(Array.from(samples[1].masks[1]));
    expect(Array.from(out[0].gridsGlobalSide[5])).toEqual(Array.from(samples[0].gridsGlobalSide[5]));
  });

  it('keeps geometry exact and pixels close with JPEG views, tiled or not', async () => {
    const big = [standInSample(1, 1, { locals: 2 }), standInSample(2, 2, { locals: 2 })];
    for (const chromaSubsampling of ['4:2:0', '4:4:4'] as const) {
      const msg = await encodeBatch(header, big, { codec: 'jpeg', jpegQuality: 90, chromaSubsampling, deflateGrids: true });
      const { samples: out } = await decodeBatch(msg);
      expect(out.map((s) => sampleChecksum(s, { pixels: false }))).toEqual(big.map((s) => sampleChecksum(s, { pixels: false })));
      for (let i = 0; i < big.length; i++) {
        for (let v = 0; v < 4; v++) {
          const a = big[i].views[v].rgb;
          const b = out[i].views[v].rgb;
          expect(b.length).toBe(a.length);
          let err = 0;
          for (let k = 0; k < a.length; k++) err += Math.abs(a[k] - b[k]);
          expect(err / a.length).toBeLessThan(6); // mean absolute error per channel at q90
        }
      }
    }
  });

  it('tiles 4:4:4 views so a view decodes the same as when coded alone', async () => {
    const s = [standInSample(5, 1, { locals: 3 }), standInSample(6, 2, { locals: 3 })];
    const tiled = await decodeBatch(await encodeBatch(header, s, { codec: 'jpeg', chromaSubsampling: '4:4:4', maxTileViews: 256 }));
    const alone = await decodeBatch(await encodeBatch(header, s, { codec: 'jpeg', chromaSubsampling: '4:4:4', maxTileViews: 1 }));
    for (let i = 0; i < 2; i++) for (let v = 0; v < 5; v++) expect(Buffer.compare(Buffer.from(tiled.samples[i].views[v].rgb), Buffer.from(alone.samples[i].views[v].rgb))).toBe(0);
  });

  it.each(['raw', 'deflate', 'jpeg'] as const)('carries an empty batch (a slot whose images were all unusable) with %s', async (codec) => {
    const { info, samples: out } = await decodeBatch(await encodeBatch(header, [], { codec, deflateGrids: true }));
    expect(info).toMatchObject({ ...header, count: 0 });
    expect(out).toEqual([]);
  });

  it('reads the rank count as 0 from a producer that does not state it', async () => {
    const { ranks: _, ...unstated } = header;
    expect(inspectMessage(await encodeBatch(unstated, [], { codec: 'raw' })).ranks).toBe(0);
    expect(inspectMessage(await encodeBatch(header, [], { codec: 'raw' })).ranks).toBe(4);
  });

  it('refuses samples whose shapes disagree, naming the sample and field', async () => {
    const odd = standInSample(3, 0, { ...small, locals: 2 });
    await expect(encodeBatch(header, [samples[0], odd], { codec: 'raw' })).rejects.toThrow(/sample 1 \(image 3\) has 4 views, expected 5/);
    await expect(encodeBatch({ ...header, rank: 70000 }, samples, { codec: 'raw' })).rejects.toThrow(/rank must be an integer/);
  });
});

describe('rejection of bad messages', () => {
  let msg: Buffer;
  beforeAll(async () => {
    msg = await encodeBatch(header, [standInSample(1, 2, small)], { codec: 'raw' });
  });

  it('reads the header of a good message without decoding it', () => {
    expect(inspectMessage(msg)).toMatchObject({ version: 1, codec: 'raw', epoch: 3, seq: 7, count: 1 });
  });

  it('refuses a truncated message', async () => {
    await rejects(() => inspectMessage(msg.subarray(0, msg.length - 1)), 'truncated');
    await rejects(() => inspectMessage(msg.subarray(0, 20)), 'truncated');
    await rejects(decodeBatch(msg.subarray(0, 2)), 'truncated');
  });

  it('refuses a flipped bit anywhere with a checksum error', async () => {
    for (const at of [13, 60, Math.floor(msg.length / 2), msg.length - 5]) {
      const bad = Buffer.from(msg);
      bad[at] ^= 0x10;
      await rejects(decodeBatch(bad), 'checksum');
    }
  });

  it('refuses a newer version even with a valid checksum', async () => {
    const newer = Buffer.from(msg);
    newer.writeUInt16LE(2, 4);
    newer.writeUInt32LE(zlib.crc32(newer.subarray(0, newer.length - 4)), newer.length - 4);
    await rejects(decodeBatch(newer), 'version');
  });

  it('refuses a foreign message by its magic', async () => {
    await rejects(decodeBatch(Buffer.from('{"json": "not a batch", "padding": "................................"}')), 'magic');
  });

  it('refuses a checksummed message whose sections lie', async () => {
    const lying = Buffer.from(msg);
    lying.writeUInt16LE(2, 36); // claims two samples, carries one
    lying.writeUInt32LE(zlib.crc32(lying.subarray(0, lying.length - 4)), lying.length - 4);
    await rejects(decodeBatch(lying), 'malformed');
  });
});

/** A message's fixed header and three sections, and the reverse, with length and CRC rewritten. */
function split(msg: Buffer): { head: Buffer; sections: Buffer[] } {
  let at = 48 + Math.ceil((msg.readUInt16LE(38) * 2) / 4) * 4;
  const head = Buffer.from(msg.subarray(0, at));
  const sections: Buffer[] = [];
  for (let k = 0; k < 3; k++) {
    const len = msg.readUInt32LE(at);
    sections.push(msg.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return { head, sections };
}

function join(head: Buffer, sections: Buffer[]): Buffer {
  const parts = [head];
  for (const s of sections) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(s.length, 0);
    parts.push(len, s);
  }
  const out = Buffer.concat([...parts, Buffer.alloc(4)]);
  out.writeUInt32LE(out.length, 8);
  out.writeUInt32LE(zlib.crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

/** A raw-deflate stream of `mib` MiB of zeros, about 1 kB per MiB: one flushed block repeated. */
function bomb(mib: number): Buffer {
  const block = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  return Buffer.concat([...Array<Buffer>(mib).fill(block), zlib.deflateRawSync(Buffer.alloc(0))]);
}

describe('decompression bombs', () => {
  const one = [standInSample(1, 2, { globalSize: 32, localSize: 16, locals: 2 })];

  it('builds a real bomb (the test helper)', () => {
    expect(bomb(4).length).toBeLessThan(5000);
    expect(zlib.inflateRawSync(bomb(4)).length).toBe(4 << 20);
  });

  it('stops inflating deflated grids at the size the header implies', async () => {
    const { head, sections } = split(await encodeBatch(header, one, { codec: 'raw', deflateGrids: true }));
    const msg = join(head, [sections[0], bomb(64), sections[2]]);
    await expect(decodeBatch(msg)).rejects.toThrow(/^wire: malformed: grids section inflates past the \d+ bytes its header implies$/);
  });

  it('stops inflating deflated views at the size the header implies', async () => {
    const { head, sections } = split(await encodeBatch(header, one, { codec: 'deflate' }));
    const msg = join(head, [sections[0], sections[1], bomb(64)]);
    await expect(decodeBatch(msg)).rejects.toThrow(`wire: malformed: views section inflates past the ${2 * 32 * 32 * 3 + 2 * 16 * 16 * 3} bytes its header implies`);
  });

  it('refuses a header that says the message decodes to more than a message may, before inflating anything', async () => {
    const msg = await encodeBatch(header, one, { codec: 'deflate' });
    await expect(decodeBatch(msg, { maxDecodedBytes: 1000 })).rejects.toThrow(/decoded; a message may decode to at most 1000$/);
    // Four 65,535-px views claimed for one sample, with a bomb as their pixels.
    const { head, sections } = split(msg);
    for (let k = 0; k < 4; k++) head.writeUInt16LE(65535, 48 + 2 * k);
    await expect(decodeBatch(join(head, [sections[0], sections[1], bomb(64)]))).rejects.toThrow(/1 samples of 65535\/65535\/65535\/65535-px views, \d{11} bytes decoded; a message may decode to at most 268435456$/);
  });

  /** The jpeg views section with chunk `k` replaced. */
  function withChunk(views: Buffer, k: number, image: Buffer): Buffer {
    const parts: Buffer[] = [views.subarray(0, 4)];
    let at = 4;
    for (let c = 0; c < views.readUInt32LE(0); c++) {
      const head = Buffer.from(views.subarray(at, at + 8));
      const len = head.readUInt32LE(4);
      const body = c === k ? image : views.subarray(at + 8, at + 8 + len);
      head.writeUInt32LE(body.length, 4);
      parts.push(head, body);
      at += 8 + len;
    }
    return Buffer.concat(parts);
  }

  it('reads a JPEG chunk\'s size from its header and refuses 8192×8192 px where 16×32 were expected', async () => {
    const { head, sections } = split(await encodeBatch(header, one, { codec: 'jpeg' }));
    const huge = await sharp({ create: { width: 8192, height: 8192, channels: 3, background: { r: 9, g: 9, b: 9 } } }).jpeg({ quality: 50 }).toBuffer();
    const msg = join(head, [sections[0], sections[1], withChunk(sections[2], 1, huge)]);
    await expect(decodeBatch(msg)).rejects.toThrow('wire: malformed: jpeg chunk 1 is 8192x8192x3 by its header, expected 16x32x3');
  });

  it('refuses a chunk that is not a JPEG, even of the right size', async () => {
    const { head, sections } = split(await encodeBatch(header, one, { codec: 'jpeg' }));
    const png = await sharp({ create: { width: 16, height: 32, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toBuffer();
    const msg = join(head, [sections[0], sections[1], withChunk(sections[2], 1, png)]);
    await expect(decodeBatch(msg)).rejects.toThrow('wire: malformed: jpeg chunk 1 is a png image, expected a JPEG');
  });
});
