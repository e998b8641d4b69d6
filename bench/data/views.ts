/**
 * Multi-crop view throughput per CPU core: our pipeline (sharp decode + the augment kernels)
 * against the reference pipeline (PIL + torchvision 0.14, bench/data/reference_views.py) on
 * the same synthetic ImageNet-sized JPEGs, ViT-S/16 recipe (2 x 224 + 10 x 96 views, block
 * masks, overlap grids).
 *
 *   npx tsx bench/data/views.ts [--json] [--images 64] [--rounds 3] [--concurrency 4]
 *
 * Both sides are timed in CPU seconds of their own process (all threads: sharp's libuv
 * workers here, torch's intra-op pool there, which the reference holds to one thread as
 * inside a data-loader worker), so the figure is images/s per core, not per wall second.
 * The machine is shared, so ours is measured before and after the reference and the two
 * runs are pooled: a load change during the run then affects both sides alike.
 */
import { spawnSync } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { augmentImage, decodeImage, makeMultiCropSample, Rng, VIT_SMALL_VIEWS, type MultiCropOptions } from '@sere/augment';
import { writeSyntheticJpegs } from './synthetic-images';

const TARGET_RATIO = 3;

interface Args {
  json: boolean;
  images: number;
  rounds: number;
  concurrency: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, images: 64, rounds: 3, concurrency: 4 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--images' || a === '--rounds' || a === '--concurrency') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} expects a positive integer, got '${argv[i]}'`);
      args[a.slice(2) as 'images' | 'rounds' | 'concurrency'] = v;
    } else throw new Error(`unknown argument '${a}' (expected --json, --images N, --rounds N, --concurrency N)`);
  }
  return args;
}

const cpuSeconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;

/** Runs `task` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, task: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function measureOurs(paths: string[], args: Args): Promise<{ images: number; cpu_s: number; wall_s: number; images_per_s_per_core: number }> {
  const opts = (index: number): MultiCropOptions => ({ ...VIT_SMALL_VIEWS, epoch: 0, index, label: 0 });
  // Warm-up, one pass: JIT tiers, sharp's thread pool, kernel memory, the coefficient cache
  // (a data service runs for hours; the reference needs no warm-up beyond its first image).
  await pool(paths, args.concurrency, async (p, i) => void (await augmentImage(p, opts(i), 1)));
  const work = Array.from({ length: args.rounds }, () => paths).flat();
  const c0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  let checksum = 0;
  await pool(work, args.concurrency, async (p, i) => {
    const s = await augmentImage(p, opts(i), 0);
    checksum += s.views[0].rgb[0]; // keep the result observable
  });
  const cpu = cpuSeconds(process.cpuUsage(c0));
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  if (!Number.isFinite(checksum)) throw new Error('unreachable');
  return { images: work.length, cpu_s: cpu, wall_s: wall, images_per_s_per_core: work.length / cpu };
}

/** CPU milliseconds per image of decoding alone and of making the views from decoded pixels. */
async function breakdown(paths: string[]): Promise<{ decode_ms: number; views_ms: number }> {
  let c0 = process.cpuUsage();
  const decoded = [];
  for (const p of paths) decoded.push(await decodeImage(p));
  const decodeMs = (cpuSeconds(process.cpuUsage(c0)) * 1e3) / paths.length;
  c0 = process.cpuUsage();
  decoded.forEach((d, i) => makeMultiCropSample(d, { ...VIT_SMALL_VIEWS, epoch: 0, index: i, label: 0 }, Rng.forImage(2, 0, i)));
  return { decode_ms: decodeMs, views_ms: (cpuSeconds(process.cpuUsage(c0)) * 1e3) / paths.length };
}

function measureReference(paths: string[], rounds: number): { images: number; cpu_s: number; wall_s: number; images_per_s_per_core: number } {
  const script = path.join(__dirname, 'reference_views.py');
  const res = spawnSync('/usr/bin/python3', [script, '--json', '--rounds', String(rounds), ...paths], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new Error(`reference pipeline failed (/usr/bin/python3 ${script}): ${res.error?.message ?? res.stderr.trim()}`);
  }
  return JSON.parse(res.stdout.trim().split('\n').pop() as string);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sere-views-bench-'));
  try {
    const paths = await writeSyntheticJpegs(dir, args.images);
    const sizes = await Promise.all(paths.map(async (p) => (await fs.stat(p)).size));
    const before = await measureOurs(paths, args);
    const reference = measureReference(paths, args.rounds);
    const after = await measureOurs(paths, args);
    const parts = await breakdown(paths);
    const images = before.images + after.images;
    const cpu = before.cpu_s + after.cpu_s;
    const wall = before.wall_s + after.wall_s;
    const ours = { images, cpu_s: cpu, wall_s: wall, images_per_s_per_core: images / cpu, runs_images_per_s_per_core: [before.images_per_s_per_core, after.images_per_s_per_core] };
    const ratio = ours.images_per_s_per_core / reference.images_per_s_per_core;
    const result = {
      recipe: 'vit_small_16: 2x224 + 10x96 views, block masks, overlap grids 13/13 + 6',
      images: paths.length,
      mean_jpeg_bytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
      concurrency: args.concurrency,
      ours: { ...ours, ...parts },
      reference,
      ratio,
      target_ratio: TARGET_RATIO,
      meets_target: ratio >= TARGET_RATIO,
      cpus: os.cpus().length,
      load_average_1m: os.loadavg()[0],
    };
    if (args.json) {
      console.log(JSON.stringify(result));
    } else {
      const f = (x: number): string => x.toFixed(1);
      console.log(`images: ${paths.length} synthetic JPEGs (~${Math.round(result.mean_jpeg_bytes / 1024)} KiB, q90), ${args.rounds} rounds`);
      console.log(`ours      (sharp + augment, ${args.concurrency} in flight): ${f(ours.images_per_s_per_core)} images/s per core (runs before/after the reference: ${ours.runs_images_per_s_per_core.map(f).join(' / ')}; ${f(ours.images / ours.wall_s)} images/s wall)`);
      console.log(`          per image: decode ${parts.decode_ms.toFixed(2)} ms CPU, views+masks+grids ${parts.views_ms.toFixed(2)} ms CPU`);
      console.log(`reference (PIL + torchvision 0.14):     ${f(reference.images_per_s_per_core)} images/s per core`);
      console.log(`ratio ours/reference: ${ratio.toFixed(2)}x (target ${TARGET_RATIO}x: ${result.meets_target ? 'met' : 'NOT met'})`);
      console.log(`machine: ${result.cpus} CPUs, 1-minute load average ${result.load_average_1m.toFixed(2)}`);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
