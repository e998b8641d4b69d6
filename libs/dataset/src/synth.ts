/**
 * `sere data synth`: a deterministic labelled ImageFolder of JPEGs, for demos, tests and
 * benchmarks when no real dataset is at hand. The same (classes, perClass, size, seed) writes
 * byte-identical files on every machine with the same sharp/libvips.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { Rng } from '@sere/augment';
import { drawPicture, SHAPES, type PictureStyle } from './draw';
import { DataError } from './errors';
import { mapLimit } from './pool';

export interface SynthOptions {
  classes?: number;
  perClass?: number;
  /** Side in pixels; with `aspect` the width is size·aspect. */
  size?: number;
  aspect?: number;
  seed?: number;
  quality?: number;
  /**
   * How pictures are drawn (see drawPicture): 'classic' (default), 'shape-only' (one shape,
   * random hue and grating), 'scattered' (light copies of the shape on grey), 'motifs'
   * (small copies all over, in wandering colours) or 'even-motifs' (the same with every shape
   * of one area and every picture of one spacing and brightness). All but 'classic' have at
   * most 8 classes.
   */
  style?: PictureStyle;
}

export interface SynthResult {
  root: string;
  classes: string[];
  files: number;
  bytes: number;
}

const DOMAIN_SYNTH = 0x73796e74; // 'synt'

export function className(c: number, classes: number): string {
  return `class_${String(c).padStart(Math.max(2, String(classes - 1).length), '0')}`;
}

export async function synthDataset(dir: string, opts: SynthOptions = {}): Promise<SynthResult> {
  const classes = opts.classes ?? 10;
  const perClass = opts.perClass ?? 100;
  const size = opts.size ?? 128;
  const width = Math.round(size * (opts.aspect ?? 1));
  const seed = opts.seed ?? 0;
  const style = opts.style ?? 'classic';
  for (const [name, v] of [['classes', classes], ['perClass', perClass], ['size', size]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new DataError(`synth: ${name} must be a positive integer, got ${v}`);
  }
  if (style !== 'classic' && classes > SHAPES.length) throw new DataError(`synth: '${style}' datasets have at most ${SHAPES.length} classes, got ${classes}`);
  if (size < 16 || width < 16) throw new DataError(`synth: images must be at least 16 px a side, got ${width}x${size}`);
  const root = path.resolve(dir);
  const names = Array.from({ length: classes }, (_, c) => className(c, classes));
  const jobs: [number, number][] = [];
  for (let c = 0; c < classes; c++) for (let i = 0; i < perClass; i++) jobs.push([c, i]);
  for (const name of names) await fs.mkdir(path.join(root, name), { recursive: true });
  let bytes = 0;
  await mapLimit(jobs, 4, async ([c, i]) => {
    const rng = Rng.fromKey([DOMAIN_SYNTH, seed >>> 0, c, i]);
    const rgb = drawPicture(width, size, c, classes, rng, style);
    const jpeg = await sharp(rgb, { raw: { width, height: size, channels: 3 } })
      .jpeg({ quality: opts.quality ?? 90 })
      .toBuffer();
    bytes += jpeg.length;
    await fs.writeFile(path.join(root, names[c], `img_${String(i).padStart(5, '0')}.jpg`), jpeg);
  });
  return { root, classes: names, files: jobs.length, bytes };
}
