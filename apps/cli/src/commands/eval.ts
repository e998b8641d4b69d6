/**
 * sere eval --checkpoint <file | s3://bucket/key> --data_path <folder> [--val_path <folder>]
 *           [--arch vit_small] [--patch_size 16] [--size 224] [--random] [--output report.json]
 *           [--linear_epochs 100] [--device cpu] [--checkpoint_key teacher] [--json]
 * k-NN (k = 10, 20, 100, 200; T = 0.07) and a linear probe on frozen teacher features,
 * as in spec §8 (--checkpoint_key student scores the student instead, as the reference's
 * evaluation flag of that name does). --random evaluates the architecture at random
 * initialisation.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EXIT } from '@sere/config';
import { evaluateBackbone, loadTeacherBackbone, type EvalReport } from '@sere/eval';
import { archByName, vitConfig, VisionTransformer } from '@sere/sere';
import * as T from '@sere/torch';
import { EVAL_HELP } from '../help/texts';
import { UsageError } from '../usage';
import { withLocalCheckpoint } from '../run-store';

const usage = EVAL_HELP.usage;

interface EvalArgs {
  checkpoint: string | null;
  random: boolean;
  dataPath: string;
  valPath: string | null;
  arch: string;
  patchSize: number;
  size: number;
  linearEpochs: number;
  output: string | null;
  device: string;
  seed: number;
  checkpointKey: 'teacher' | 'student';
  json: boolean;
}

function parse(argv: string[]): EvalArgs {
  const a: EvalArgs = { checkpoint: null, random: false, dataPath: '', valPath: null, arch: 'vit_small', patchSize: 16, size: 224, linearEpochs: 100, output: null, device: 'cpu', seed: 0, checkpointKey: 'teacher', json: false };
  const int = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag}: '${v}' is not a non-negative integer`, usage);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].replace(/^--([\w-]+)/, (m) => m.replace(/-/g, '_').replace(/^__/, '--')).split('=', 2);
    const val = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--checkpoint': a.checkpoint = val(); break;
      case '--random': a.random = true; break;
      case '--data_path': a.dataPath = val(); break;
      case '--val_path': a.valPath = val(); break;
      case '--arch': a.arch = val(); archByName(a.arch); break;
      case '--patch_size': a.patchSize = int(flag, val()); break;
      case '--size': a.size = int(flag, val()); break;
      case '--linear_epochs': a.linearEpochs = int(flag, val()); break;
      case '--output': a.output = val(); break;
      case '--device': a.device = val(); break;
      case '--seed': a.seed = int(flag, val()); break;
      case '--checkpoint_key': {
        const key = val();
        if (key !== 'teacher' && key !== 'student') throw new UsageError(`--checkpoint_key: '${key}' is not one of teacher, student`, usage);
        a.checkpointKey = key;
        break;
      }
      case '--json': a.json = true; break;
      default: throw new UsageError(`unknown flag ${argv[i]}`, usage);
    }
  }
  if (!a.dataPath) throw new UsageError('--data_path is required', usage);
  if (!a.checkpoint && !a.random) throw new UsageError('give --checkpoint or --random', usage);
  if (a.size % a.patchSize !== 0) throw new UsageError(`--size ${a.size} is not a multiple of --patch_size ${a.patchSize}`, usage);
  return a;
}

/** A backbone from a checkpoint, or a randomly initialised one of the same architecture. */
export async function backboneFor(a: { checkpoint: string | null; arch: string; patchSize: number; device: string; seed: number; checkpointKey?: 'teacher' | 'student' }): Promise<VisionTransformer> {
  if (!a.checkpoint) {
    T.manualSeed(a.seed);
    return VisionTransformer.create(vitConfig(archByName(a.arch), a.patchSize, { localHeads: false }), a.device);
  }
  return withLocalCheckpoint(a.checkpoint, (file) => loadTeacherBackbone(file, { arch: a.arch, patchSize: a.patchSize, device: a.device, key: a.checkpointKey }));
}

export async function runEval(a: EvalArgs, log: (l: string) => void): Promise<EvalReport> {
  T.checkDevice(a.device);
  const backbone = await backboneFor(a);
  try {
    return await evaluateBackbone({
      backbone,
      trainDir: a.dataPath,
      valDir: a.valPath ?? undefined,
      size: a.size,
      seed: a.seed,
      linear: a.linearEpochs > 0 ? { epochs: a.linearEpochs } : false,
      cacheDir: path.join(a.output ? path.dirname(a.output) : '.', '.feature-cache'),
      log,
    });
  } finally {
    backbone.dispose();
  }
}

export async function evaluate(argv: string[]): Promise<number> {
  const a = parse(argv);
  const log = a.json ? () => undefined : (l: string) => process.stderr.write(l + '\n');
  const report = await runEval(a, log);
  const out = { checkpoint: a.checkpoint ?? 'random', ...(a.checkpoint ? { checkpoint_key: a.checkpointKey } : {}), arch: a.arch, patch_size: a.patchSize, ...report };
  if (a.output) fs.writeFileSync(a.output, JSON.stringify(out, null, 2) + '\n');
  if (a.json) {
    console.log(JSON.stringify(out));
  } else {
    for (const [k, r] of Object.entries(report.knn)) console.log(`k-NN k=${k.padEnd(3)} top-1 ${r.top1.toFixed(2)}%  top-5 ${r.top5.toFixed(2)}%`);
    if (report.linear) console.log(`linear probe      top-1 ${report.linear.top1.toFixed(2)}%  top-5 ${report.linear.top5.toFixed(2)}%  (${report.linear.epochs} epochs)`);
    console.log(`${report.n_train} train / ${report.n_val} val images, ${report.seconds.toFixed(1)} s${a.output ? `; report in ${a.output}` : ''}`);
  }
  return EXIT.ok;
}
