/**
 * npm run bench:step -- --nproc_per_node N [--master_port P] [training flags] [--steps N] [--warmup N]
 *
 * Data-parallel step on this machine, three runs of the same synthetic iteration:
 *   dp       N ranks (processes joined by c10d/Gloo) × B images, --threads each (default 1);
 *   alone    N processes × B images at once, no group: each rank's compute, competing for
 *            cores and memory as the ranks do, without the communication;
 *   baseline 1 process × N·B images on N × --threads threads: the same global batch, one process.
 * Prints per-rank and global images/s of each, the time one all-reduce of every gradient
 * takes (measured on its own after the steps), and the share of it hidden behind the
 * backward pass: 1 − (dp step − alone step) / all-reduce time, clamped to [0, 1].
 */
import { spawn } from 'child_process';
import { parseFlagsDetailed, type SereConfig } from '@sere/config';
import * as T from '@sere/torch';
import { DataParallel, SereTrainer, toObjectiveBatch, trainableParameters } from '@sere/sere';
import { syntheticSamples } from '../libs/sere/src/testing/synthetic';
import { closedPort as freePort } from '../libs/stream/src/testing/closed-port';

const DEFAULTS = ['--arch', 'vit_tiny', '--batch_size_per_gpu', '8', '--local_crops_number', '4', '--out_dim', '8192', '--threads', '1'];

interface ChildResult {
  mode: string;
  rank: number;
  step_s: number;
  images_per_s: number;
  allreduce_s?: number;
  gradient_bytes?: number;
}

function take(argv: string[], flag: string, fallback: string): [string, string[]] {
  const i = argv.findIndex((a) => a === flag || a.startsWith(flag + '='));
  if (i < 0) return [fallback, argv];
  const inline = argv[i].includes('=') ? argv[i].split('=')[1] : null;
  const value = inline ?? argv[i + 1];
  return [value, argv.filter((_, k) => k !== i && (inline !== null || k !== i + 1))];
}

function child(): void {
  const argv = JSON.parse(process.env.SERE_BENCH_ARGS!) as string[];
  const [warmupS, rest] = take(argv, '--warmup', '2');
  const cfg: SereConfig = parseFlagsDetailed([...DEFAULTS, ...rest]).config;
  const mode = process.env.SERE_BENCH_MODE!;
  const rank = Number(process.env.RANK ?? 0);
  const world = Number(process.env.WORLD_SIZE ?? 1);
  const batch = cfg.batch_size_per_gpu * (mode === 'baseline' ? world : 1);
  T.setNumThreads((cfg.threads ?? 1) * (mode === 'baseline' ? world : 1));
  const dp = mode === 'dp' ? new DataParallel(T.ProcessGroup.join({ masterAddr: '127.0.0.1', masterPort: Number(process.env.MASTER_PORT), rank, worldSize: world, timeoutSeconds: 300 })) : null;
  const flags = { ...cfg, batch_size_per_gpu: batch, epochs: Math.max(cfg.epochs, cfg.warmup_epochs + 1, cfg.warmup_teacher_temp_epochs) };
  const trainer = new SereTrainer(flags, 1000, dp);
  const samples = syntheticSamples({
    batch, localCrops: cfg.local_crops_number, globalSize: cfg.global_size, localSize: cfg.local_size, patchSize: cfg.patch_size,
    overlapSize: [cfg.overlap_size[0], cfg.overlap_size[1]], globalScale: [cfg.global_crops_scale[0], cfg.global_crops_scale[1]],
    localScale: [cfg.local_crops_scale[0], cfg.local_crops_scale[1]], predRatio: [...cfg.pred_ratio], predRatioVar: [...cfg.pred_ratio_var], seed: cfg.seed + rank,
  });
  const input = T.keep(toObjectiveBatch(samples, 'cpu'));
  const warmup = Number(warmupS);
  const steps = cfg.steps ?? 5;
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = process.hrtime.bigint();
    trainer.step(input, 100 + i, 0);
    if (i >= warmup) times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const step = times.reduce((a, b) => a + b, 0) / times.length;
  const out: ChildResult = { mode, rank, step_s: step, images_per_s: batch / step };
  if (dp) {
    // One all-reduce of as many bytes as the gradients, alone: what the reducer must move.
    const numel = trainableParameters(trainer.nets.student).reduce((n, [, p]) => n + p.numel, 0);
    const flat = T.zeros([numel]);
    dp.group.allReduce([flat]);
    const reps = 3;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) dp.group.allReduce([flat]);
    out.allreduce_s = Number(process.hrtime.bigint() - t0) / 1e9 / reps;
    out.gradient_bytes = numel * 4;
    flat.dispose();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  T.dispose(input);
  trainer.dispose();
  dp?.group.close();
}


function run(mode: string, ranks: number, world: number, args: string[], port: number): Promise<ChildResult[]> {
  return Promise.all(
    Array.from({ length: ranks }, (_, rank) =>
      new Promise<ChildResult>((resolve, reject) => {
        const env = { ...process.env, SERE_BENCH_CHILD: '1', SERE_BENCH_MODE: mode, SERE_BENCH_ARGS: JSON.stringify(args), RANK: String(rank), WORLD_SIZE: String(world), MASTER_PORT: String(port) };
        const p = spawn(process.execPath, [require.resolve('tsx/cli'), __filename], { env, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`bench:step ${mode} rank ${rank} exited with ${code}`))));
      }),
    ),
  );
}

export async function main(argv: string[]): Promise<void> {
  const [nprocS, rest0] = take(argv, '--nproc_per_node', '2');
  const [portS, rest1] = take(rest0, '--master_port', '0');
  const [, rest] = take(rest1, '--no-reference', '');
  const json = rest.includes('--json');
  const args = rest.filter((a) => a !== '--json');
  const n = Number(nprocS);
  const cfg = parseFlagsDetailed([...DEFAULTS, ...take(args, '--warmup', '2')[1]]).config;
  const port = Number(portS) || (await freePort());
  const dp = await run('dp', n, n, args, port);
  const alones = await run('alone', n, n, args, port);
  const alone = { ...alones[0], step_s: Math.max(...alones.map((r) => r.step_s)) };
  const [baseline] = await run('baseline', 1, n, args, port);
  const dpStep = Math.max(...dp.map((r) => r.step_s));
  const comm = Math.max(...dp.map((r) => r.allreduce_s ?? 0));
  const hidden = comm > 0 ? Math.min(1, Math.max(0, 1 - (dpStep - alone.step_s) / comm)) : null;
  const summary = {
    nproc_per_node: n, threads_per_rank: cfg.threads ?? 1, arch: cfg.arch, batch_size_per_gpu: cfg.batch_size_per_gpu,
    per_rank_images_per_s: dp.map((r) => r.images_per_s), global_images_per_s: (n * cfg.batch_size_per_gpu) / dpStep,
    dp_step_s: dpStep, alone_step_s: alone.step_s, baseline_images_per_s: baseline.images_per_s, baseline_step_s: baseline.step_s,
    allreduce_s: comm, gradient_bytes: dp[0].gradient_bytes, hidden_share: hidden, torch: T.buildInfo().torch,
  };
  if (json) {
    console.log(JSON.stringify(summary));
    return;
  }
  const t = cfg.threads ?? 1;
  console.log(`\nSERE data-parallel step — ${cfg.arch}/${cfg.batch_size_per_gpu} imgs per rank, ${cfg.global_size}px x2 + ${cfg.local_size}px x${cfg.local_crops_number}, out_dim ${cfg.out_dim}, CPU, Gloo, libtorch ${summary.torch}`);
  console.log(`  ${n} ranks x ${t} thread${t > 1 ? 's' : ''}      ${summary.global_images_per_s.toFixed(2).padStart(8)} images/s global  (per rank ${summary.per_rank_images_per_s.map((v) => v.toFixed(2)).join(', ')}; step ${dpStep.toFixed(3)} s)`);
  console.log(`  1 rank x ${n * t} threads       ${baseline.images_per_s.toFixed(2).padStart(8)} images/s  (${n * cfg.batch_size_per_gpu} images per step; step ${baseline.step_s.toFixed(3)} s)`);
  console.log(`  ranks' compute alone   step ${alone.step_s.toFixed(3)} s (${n} processes at once, ${t} thread${t > 1 ? 's' : ''} each, no group)`);
  console.log(`  gradient all-reduce    ${(comm * 1000).toFixed(1)} ms for ${((summary.gradient_bytes ?? 0) / 2 ** 20).toFixed(1)} MiB alone; hidden behind backward: ${hidden === null ? 'n/a' : (hidden * 100).toFixed(0) + ' %'}`);
}

if (process.env.SERE_BENCH_CHILD === '1') child();
