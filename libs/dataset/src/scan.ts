/**
 * `sere data scan`: decode every file of an image folder the way the data service will and
 * say what it would do with each: use it as is, convert it (CMYK, grayscale, 16-bit, alpha,
 * EXIF orientation, PNG, other formats) or skip it (empty, truncated, corrupt, not an image,
 * too large, unreadable). Run it before a long job to learn what the job will see.
 */
import { decodeImage, DecodeError, type Conversion, type DecodeErrorKind } from '@sere/augment';
import { indexImageFolder, type Repeat } from './image-folder';
import { mapLimit } from './pool';

export interface SkippedFile {
  path: string;
  kind: DecodeErrorKind;
  detail: string;
}

export interface ConvertedFile {
  path: string;
  conversions: Conversion[];
}

export interface ScanReport {
  root: string;
  classes: number;
  files: number;
  /** Files the service will stream, converted ones included. */
  usable: number;
  skipped: SkippedFile[];
  converted: ConvertedFile[];
  skippedByKind: Partial<Record<DecodeErrorKind, number>>;
  convertedByKind: Partial<Record<Conversion, number>>;
  emptyClasses: string[];
  strayFiles: string[];
  /** Links left out of the index: loops, and second paths to a file or folder (indexImageFolder). */
  repeats: Repeat[];
}

export interface ScanOptions {
  /** Files decoded at once (sharp decodes off the main thread). */
  concurrency?: number;
  maxPixels?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function scanDataset(dir: string, opts: ScanOptions = {}): Promise<ScanReport> {
  const index = await indexImageFolder(dir);
  const skipped: SkippedFile[] = [];
  const converted: ConvertedFile[] = [];
  let done = 0;
  await mapLimit(index.entries, opts.concurrency ?? 4, async (entry) => {
    try {
      const img = await decodeImage(entry.path, { maxPixels: opts.maxPixels });
      if (img.conversions.length > 0) converted.push({ path: entry.path, conversions: img.conversions });
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      skipped.push({ path: entry.path, kind: e.kind, detail: e.message });
    }
    opts.onProgress?.(++done, index.entries.length);
  });
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  skipped.sort(byPath);
  converted.sort(byPath);
  const skippedByKind: ScanReport['skippedByKind'] = {};
  for (const s of skipped) skippedByKind[s.kind] = (skippedByKind[s.kind] ?? 0) + 1;
  const convertedByKind: ScanReport['convertedByKind'] = {};
  for (const c of converted) for (const k of c.conversions) convertedByKind[k] = (convertedByKind[k] ?? 0) + 1;
  return {
    root: index.root,
    classes: index.classes.length,
    files: index.entries.length,
    usable: index.entries.length - skipped.length,
    skipped,
    converted,
    skippedByKind,
    convertedByKind,
    emptyClasses: index.emptyClasses,
    strayFiles: index.strayFiles,
    repeats: index.repeats,
  };
}

/** The report as a person reads it: totals first, then one line per file that needs a look. */
export function formatScanReport(r: ScanReport): string {
  const lines = [
    `${r.root}: ${r.files} files in ${r.classes} classes; ${r.usable} usable (${r.converted.length} converted), ${r.skipped.length} skipped`,
  ];
  const counts = (o: Record<string, number | undefined>) =>
    Object.entries(o)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  if (r.skipped.length) lines.push(`skipped by kind: ${counts(r.skippedByKind)}`);
  if (r.converted.length) lines.push(`converted by kind: ${counts(r.convertedByKind)}`);
  if (r.emptyClasses.length) lines.push(`empty class folders (labels kept): ${r.emptyClasses.join(', ')}`);
  if (r.strayFiles.length) lines.push(`files outside class folders (ignored): ${r.strayFiles.join(', ')}`);
  if (r.repeats.length) lines.push(`links left out (each real file is indexed once): ${r.repeats.length}`);
  for (const s of r.skipped) lines.push(`skip     ${s.kind.padEnd(12)} ${s.path}`);
  for (const c of r.converted) lines.push(`convert  ${c.conversions.join('+').padEnd(12)} ${c.path}`);
  for (const x of r.repeats) lines.push(`${x.kind === 'loop' ? 'loop' : 'repeat'}     ${x.path} -> ${x.sameAs}`);
  return lines.join('\n');
}
