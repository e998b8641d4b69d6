/**
 * npm run bench:step -- [training flags] [--device cpu|cuda] [--precision fp32|fp16|bf16]
 *                       [--steps N] [--warmup N] [--global_size 224] [--local_size 96]
 *                       [--threads N] [--json] [--no-reference]
 * npm run bench:step -- --nproc_per_node N [flags]   (data-parallel: see step-dp.ts)
 *
 * Times one full SERE iteration (teacher + student on 2 global and L local crops, all
 * losses, backward, clipping, AdamW, EMA) on synthetic inputs, then runs the same iteration
 * in the PyTorch reference harness (bench/reference/sere_step.py) on this machine for a ratio.
 * Defaults are the CPU target: vit_tiny/16, batch 8, 2 x 224 + 4 x 96 px, out_dim 8192.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { parseFlagsDetailed, FlagError, type SereConfig } from '@sere/config';
import * as T from '@sere/torch';
import { SereTrainer, toObjectiveBatch } from '@sere/sere';
import { syntheticSamples } from '../libs/sere/src/testing/synthetic';

const BENCH_DEFAULTS = ['--arch', 'vit_tiny', '--batch_size_per_gpu', '8', '--local_crops_number', '4', '--out_dim', '8192'];

interface BenchArgs {
  steps: number;
  warmup: number;
  globalSize: number;
  localSize: number;
  json: boolean;
  reference: boolean;
}

function takeBenchArgs(argv: string[]): { rest: string[]; bench: BenchArgs } {
  const bench: BenchArgs = { steps: 5, warmup: 2, globalSize: 224, localSize: 96, json: false, reference: true };
  const rest: string[] = [];
  const num = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new FlagError(`${flag}: '${v}' is not a non-negative integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i].replace(/-/g, '_').replace(/^__/, '--');
    if (a === '--warmup') bench.warmup = num('--warmup', argv[++i]);
    else if (a === '--global_size') bench.globalSize = num('--global_size', argv[++i]);
    else if (a === '--local_size') bench.localSize = num('--local_size', argv[++i]);
    else if (a === '--json') bench.json = true;
    else if (a === '--no_reference') bench.reference = false;
    else rest.push(argv[i]);
  }
  return { rest, bench };
}

interface Result {
  impl: string;
  images_per_s: number;
  step_s: number;
  step_min_s: number;
  peak_memory_bytes: number;
  live_tensors: number;
  live_tensors_delta?: number;
  device: string;
  gpu: string | null;
  torch: string;
  [k: string]: unknown;
}

function runOurs(cfg: SereConfig, bench: BenchArgs): Result {
  if (cfg.threads) T.setNumThreads(cfg.threads);
  const steps = cfg.steps ?? 5;
  const device = T.checkDevice(cfg.device);
  const trainer = new SereTrainer({ ...cfg, epochs: Math.max(cfg.epochs, cfg.warmup_epochs + 1, cfg.warmup_teacher_temp_epochs) }, 1000);
  const batch = T.keep(
    toObjectiveBatch(
      syntheticSamples({
        batch: cfg.batch_size_per_gpu,
        localCrops: cfg.local_crops_number,
        globalSize: bench.globalSize,
        localSize: bench.localSize,
        patchSize: cfg.patch_size,
        overlapSize: [cfg.overlap_size[0], cfg.overlap_size[1]],
        globalScale: [cfg.global_crops_scale[0], cfg.global_crops_scale[1]],
        localScale: [cfg.local_crops_scale[0], cfg.local_crops_scale[1]],
        predRatio: [...cfg.pred_ratio],
        predRatioVar: [...cfg.pred_ratio_var],
        seed: cfg.seed,
      }),
      device,
    ),
  );
  const times: number[] = [];
  let live = 0;
  let delta = 0;
  for (let i = 0; i < bench.warmup + steps; i++) {
    if (i === bench.warmup) {
      T.synchronize();
      live = T.liveTensors();
      if (device !== 'cpu') T.cudaMemory(0, true);
    }
    const t0 = process.hrtime.bigint();
    const m = trainer.step(batch, 100 + i, 0);
    T.synchronize();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (i >= bench.warmup) times.push(dt);
    if (!bench.json) process.stderr.write(`  step ${i + 1}/${bench.warmup + steps}${i < bench.warmup ? ' (warm-up)' : ''}: ${dt.toFixed(3)} s, loss ${m.loss.toFixed(4)}\n`);
  }
  delta = T.liveTensors() - live;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const peak = device === 'cpu' ? process.resourceUsage().maxRSS * 1024 : T.cudaMemory(0)?.peak ?? -1;
  const info = T.buildInfo();
  const result: Result = {
    impl: 'sere-ts',
    images_per_s: cfg.batch_size_per_gpu / mean,
    step_s: mean,
    step_min_s: Math.min(...times),
    peak_memory_bytes: peak,
    live_tensors: T.liveTensors(),
    live_tensors_delta: delta,
    device,
    gpu: device === 'cpu' ? null : T.cudaDeviceName(0),
    torch: info.torch,
    threads: T.getNumThreads(),
    arch: cfg.arch,
    batch_size_per_gpu: cfg.batch_size_per_gpu,
    local_crops_number: cfg.local_crops_number,
    out_dim: cfg.out_dim,
    precision: cfg.precision,
    steps,
  };
  T.dispose(batch);
  trainer.dispose();
  // The reference runs next in another process on the same GPU.
  T.synchronize();
  T.emptyCache();
  return result;
}

function referencePython(): string | null {
  const candidates = [process.env.SERE_REFERENCE_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

function runReference(cfg: SereConfig, bench: BenchArgs, ours: Result): Result | { error: string } {
  const py = referencePython();
  if (!py) return { error: 'no Python with torch found (set SERE_REFERENCE_PYTHON)' };
  const args = [
    path.join(process.env.SERE_REFERENCE_DIR ?? path.join(__dirname, 'reference'), 'sere_step.py'),
    '--arch', cfg.arch, '--patch_size', String(cfg.patch_size), '--batch_size_per_gpu', String(cfg.batch_size_per_gpu),
    '--local_crops_number', String(cfg.local_crops_number), '--out_dim', String(cfg.out_dim),
    '--global_size', String(bench.globalSize), '--local_size', String(bench.localSize),
    '--shared_head', String(cfg.shared_head), '--norm_last_layer', String(cfg.norm_last_layer),
    '--clip_grad', String(cfg.clip_grad), '--alpha', String(cfg.alpha), '--beta', String(cfg.beta),
    '--overlap_size', String(cfg.overlap_size[0]), String(cfg.overlap_size[1]), '--drop_path', String(cfg.drop_path),
    '--device', cfg.device, '--precision', cfg.precision, '--steps', String(ours.steps), '--warmup', String(bench.warmup),
    '--threads', String(ours.threads), '--seed', String(cfg.seed), '--json',
  ];
  const r = spawnSync(py, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', bench.json ? 'pipe' : 'inherit'] });
  const line = (r.stdout || '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) return { error: `reference harness failed (exit ${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}` };
  return JSON.parse(line) as Result;
}

function fmtBytes(b: number): string {
  return b < 0 ? 'n/a' : `${(b / 2 ** 30).toFixed(2)} GiB`;
}

function main(): void {
  const { rest, bench } = takeBenchArgs(process.argv.slice(2));
  const { config } = parseFlagsDetailed([...BENCH_DEFAULTS, ...rest]);
  const ours = runOurs(config, bench);
  const ref = bench.reference ? runReference(config, bench, ours) : null;
  const refOk = ref && !('error' in ref) ? (ref as Result) : null;
  const ratio = refOk ? ours.images_per_s / refOk.images_per_s : null;
  if (bench.json) {
    console.log(JSON.stringify({ ...ours, reference: ref, ratio_vs_reference: ratio }));
    return;
  }
  const where = ours.gpu ? `${ours.device} (${ours.gpu})` : `${ours.device}, ${ours.threads} threads`;
  console.log(`\nSERE step — ${ours.arch}/${ours['batch_size_per_gpu']} imgs, ${bench.globalSize}px x2 + ${bench.localSize}px x${ours['local_crops_number']}, out_dim ${ours['out_dim']}, ${ours['precision']}, ${where}, libtorch ${ours.torch}`);
  console.log(`  sere-ts            ${ours.images_per_s.toFixed(2).padStart(9)} images/s  step ${ours.step_s.toFixed(3)} s (min ${ours.step_min_s.toFixed(3)})  peak ${fmtBytes(ours.peak_memory_bytes)}  live tensors ${ours.live_tensors} (Δ per run ${ours.live_tensors_delta})`);
  if (refOk) {
    console.log(`  pytorch reference  ${refOk.images_per_s.toFixed(2).padStart(9)} images/s  step ${refOk.step_s.toFixed(3)} s  peak ${fmtBytes(refOk.peak_memory_bytes)}  torch ${refOk.torch}`);
    console.log(`  ratio              ${ratio!.toFixed(2)}x`);
  } else if (ref) {
    console.log(`  pytorch reference  unavailable: ${(ref as { error: string }).error}`);
  }
}

try {
  // --nproc_per_node N: the data-parallel benchmark (step-dp.ts).
  if (process.argv.slice(2).some((a) => /^--nproc[-_]per[-_]node(=|$)/.test(a))) {
    require('./step-dp').main(process.argv.slice(2).map((a) => a.replace(/^--nproc-per-node/, '--nproc_per_node')));
  } else main();
} catch (e) {
  if (e instanceof FlagError) {
    console.error(`bench:step: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
