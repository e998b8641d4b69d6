/**
 * Wire encodings compared on realistic views: bytes per image and encode/decode ms per image.
 *
 *   npx tsx bench/data/wire.ts [--json] [--images DIR] [--batch 16] [--repeat 3]
 *
 * Views are made by the real pipeline (@sere/augment, ViT-S recipe: 2×224 + 10×96 crops) from
 * 500×375 photo-like pictures (1/f noise, shapes, gratings; JPEG q90) or from the JPEGs in
 * --images DIR. A batch of --batch images is one message, as the data service sends it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { decodeImage, makeMultiCropSample, Rng, VIT_SMALL_VIEWS, type MultiCropSample } from '@sere/augment';
import { drawPicture } from '@sere/dataset';
import { decodeBatch, encodeBatch, type EncodeOptions } from '@sere/wire';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const asJson = args.includes('--json');
const batch = Number(flag('batch') ?? 16);
const repeat = Number(flag('repeat') ?? 3);

const OPTIONS: [string, EncodeOptions][] = [
  ['raw', { codec: 'raw' }],
  ['raw+grids-deflate', { codec: 'raw', deflateGrids: true }],
  ['deflate-1', { codec: 'deflate', deflateLevel: 1, deflateGrids: true }],
  ['deflate-6', { codec: 'deflate', deflateLevel: 6, deflateGrids: true }],
  ['jpeg-q90-420', { codec: 'jpeg', jpegQuality: 90, chromaSubsampling: '4:2:0', deflateGrids: true }],
  ['jpeg-q90-444-tiled', { codec: 'jpeg', jpegQuality: 90, chromaSubsampling: '4:4:4', deflateGrids: true }],
  ['jpeg-q95-444-tiled', { codec: 'jpeg', jpegQuality: 95, chromaSubsampling: '4:4:4', deflateGrids: true }],
  ['jpeg-q85-420', { codec: 'jpeg', jpegQuality: 85, chromaSubsampling: '4:2:0', deflateGrids: true }],
];

async function sources(): Promise<Buffer[]> {
  const dir = flag('images');
  if (dir) {
    const files = (await fs.readdir(dir)).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, batch);
    if (files.length === 0) throw new Error(`--images ${dir}: no .jpg files`);
    return Promise.all(files.map((f) => fs.readFile(path.join(dir, f))));
  }
  return Promise.all(
    Array.from({ length: batch }, (_, i) =>
      sharp(Buffer.from(drawPicture(500, 375, i % 10, 10, Rng.fromKey([7, i]))), { raw: { width: 500, height: 375, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    ),
  );
}

function psnr(a: MultiCropSample[], b: MultiCropSample[]): number {
  let se = 0;
  let n = 0;
  a.forEach((s, i) =>
    s.views.forEach((v, k) => {
      const w = b[i].views[k].rgb;
      for (let j = 0; j < v.rgb.length; j++) {
        const d = v.rgb[j] - w[j];
        se += d * d;
      }
      n += v.rgb.length;
    }),
  );
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / n));
}

async function main(): Promise<void> {
  const jpegs = await sources();
  const samples: MultiCropSample[] = [];
  for (let i = 0; i < jpegs.length; i++) {
    const img = await decodeImage(jpegs[i]);
    samples.push(makeMultiCropSample(img, { ...VIT_SMALL_VIEWS, epoch: 0, index: i, label: i % 10 }, Rng.forImage(0, 0, i)));
  }
  const n = samples.length;
  const header = { epoch: 0, rank: 0, replica: 0, seq: 0, slotsInEpoch: 1, rankEpochSize: n, firstPosition: 0 };
  const rows = [];
  for (const [name, opts] of OPTIONS) {
    let msg = await encodeBatch(header, samples, opts); // warm-up
    let enc = Infinity;
    let dec = Infinity;
    let out = await decodeBatch(msg);
    for (let r = 0; r < repeat; r++) {
      let t = process.hrtime.bigint();
      msg = await encodeBatch(header, samples, opts);
      enc = Math.min(enc, Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      out = await decodeBatch(msg);
      dec = Math.min(dec, Number(process.hrtime.bigint() - t) / 1e6);
    }
    rows.push({
      encoding: name,
      bytesPerImage: Math.round(msg.length / n),
      encodeMsPerImage: +(enc / n).toFixed(2),
      decodeMsPerImage: +(dec / n).toFixed(2),
      psnrDb: +psnr(samples, out.samples).toFixed(1),
    });
  }
  const meta = { images: n, source: flag('images') ?? 'synthetic 500x375 JPEG q90', views: '2x224 + 10x96', node: process.version, sharp: sharp.versions.sharp, libvips: sharp.versions.vips, uvThreadpool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)' };
  if (asJson) {
    console.log(JSON.stringify({ meta, rows }, null, 2));
    return;
  }
  console.log(`wire encodings, ${n} images per message (${meta.source}), ${meta.views}; best of ${repeat}`);
  console.log(['encoding'.padEnd(20), 'bytes/img'.padStart(10), 'enc ms/img'.padStart(11), 'dec ms/img'.padStart(11), 'PSNR dB'.padStart(8)].join(' '));
  for (const r of rows) {
    console.log([r.encoding.padEnd(20), String(r.bytesPerImage).padStart(10), r.encodeMsPerImage.toFixed(2).padStart(11), r.decodeMsPerImage.toFixed(2).padStart(11), String(r.psnrDb).padStart(8)].join(' '));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
