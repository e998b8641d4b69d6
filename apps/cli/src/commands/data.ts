/**
 * `sere data synth <dir>` and `sere data scan <dir> [--json]`: thin shells over
 * synthDataset and scanDataset in @sere/data. Each returns the process exit code.
 */
import { EXIT } from '@sere/config';
import { DataError, formatScanReport, PICTURE_STYLES, scanDataset, synthDataset, type PictureStyle } from '@sere/dataset';
import { SCAN_HELP, SYNTH_HELP } from '../help/data';

type Out = { log: (s: string) => void; error: (s: string) => void };
const stdio: Out = { log: (s) => console.log(s), error: (s) => console.error(s) };

function flags(args: string[], known: string[], booleans: string[] = []): { positional: string[]; values: Map<string, string> } {
  const positional: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const name = a.slice(2);
    if (booleans.includes(name)) values.set(name, 'true');
    else if (known.includes(name)) {
      const v = args[++i];
      if (v === undefined) throw new DataError(`--${name} needs a value`);
      values.set(name, v);
    } else throw new DataError(`unknown flag ${a} (known: ${[...known, ...booleans].map((k) => `--${k}`).join(' ')})`);
  }
  return { positional, values };
}

function int(values: Map<string, string>, name: string, fallback: number): number {
  const v = values.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new DataError(`--${name} must be a non-negative integer, got '${v}'`);
  return n;
}

const SYNTH_USAGE = `usage: ${SYNTH_HELP.usage}`;
const SCAN_USAGE = `usage: ${SCAN_HELP.usage}`;

function style(v: string | undefined): PictureStyle {
  if (v === undefined) return 'classic';
  if (!(PICTURE_STYLES as readonly string[]).includes(v)) throw new DataError(`--style must be one of ${PICTURE_STYLES.join(', ')}, got '${v}'`);
  return v as PictureStyle;
}

export async function runDataSynth(args: string[], out: Out = stdio): Promise<number> {
  try {
    const { positional, values } = flags(args, ['classes', 'per-class', 'size', 'seed', 'style']);
    if (positional.length !== 1) {
      out.error(SYNTH_USAGE);
      return EXIT.refused;
    }
    const t0 = Date.now();
    const r = await synthDataset(positional[0], {
      classes: int(values, 'classes', 10),
      perClass: int(values, 'per-class', 100),
      size: int(values, 'size', 128),
      seed: int(values, 'seed', 0),
      style: style(values.get('style')),
    });
    out.log(`wrote ${r.files} JPEGs in ${r.classes.length} classes to ${r.root} (${(r.bytes / 1e6).toFixed(1)} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof DataError) {
      out.error(`sere data synth: ${e.message}`);
      return EXIT.refused;
    }
    throw e;
  }
}

/** Exit code 0 when every file is usable, 1 when some would be skipped, 2 on a usage or folder error (SCAN_HELP). */
export async function runDataScan(args: string[], out: Out = stdio): Promise<number> {
  try {
    const { positional, values } = flags(args, ['max-pixels'], ['json']);
    if (positional.length !== 1) {
      out.error(SCAN_USAGE);
      return EXIT.refused;
    }
    const maxPixels = values.has('max-pixels') ? int(values, 'max-pixels', 0) : undefined;
    const report = await scanDataset(positional[0], { maxPixels });
    out.log(values.has('json') ? JSON.stringify(report, null, 2) : formatScanReport(report));
    return report.skipped.length > 0 ? EXIT.failed : EXIT.ok;
  } catch (e) {
    if (e instanceof DataError) {
      out.error(`sere data scan: ${e.message}`);
      return EXIT.refused;
    }
    throw e;
  }
}
