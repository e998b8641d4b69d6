/**
 * The eval service's settings, from flags or environment variables; flags win. The flags
 * that `sere eval` also has mean the same here (--data_path, --val_path, --arch,
 * --patch_size, --size, --checkpoint_key, --linear_epochs, --device), so a figure from the
 * service can be reproduced with `sere eval`. Every value is checked at start, naming the flag.
 */
import { ConfigError, serviceSettings, type ServiceOption } from '@sere/config';

export interface EvalServiceConfig {
  /** The run's output location: a folder, or s3://bucket/prefix. */
  store: string;
  /** The run's name in metrics and URLs (default: the last segment of --store). */
  run: string;
  dataPath: string;
  valPath: string | null;
  arch: string;
  patchSize: number;
  size: number;
  checkpointKey: 'teacher' | 'student';
  linearEpochs: number;
  device: string;
  ks: number[];
  /** Seconds between listings of the store. */
  interval: number;
  seed: number;
  host: string;
  port: number;
  /** Bearer token that guards what changes state (POST); none: those routes answer 403. */
  token: string | null;
}

export { ConfigError };

export const OPTIONS: Record<string, ServiceOption> = {
  store: { env: 'SERE_EVAL_STORE', help: "the run's --output_dir or --store (a folder or s3://BUCKET/PREFIX) to watch for checkpoints" },
  run: { env: 'SERE_EVAL_RUN', help: 'name of the run in metrics and URLs (default: the last path segment of --store)' },
  data_path: { env: 'SERE_EVAL_DATA_PATH', help: 'labelled train folder (<root>/<class>/<image>) of the k-NN and linear probe' },
  val_path: { env: 'SERE_EVAL_VAL_PATH', help: 'validation folder (default: 20 % of each class of --data_path held out)' },
  arch: { env: 'SERE_EVAL_ARCH', default: 'vit_small', help: "the run's --arch" },
  patch_size: { env: 'SERE_EVAL_PATCH_SIZE', default: '16', help: "the run's --patch_size" },
  size: { env: 'SERE_EVAL_SIZE', default: '224', help: 'crop side fed to the backbone' },
  checkpoint_key: { env: 'SERE_EVAL_CHECKPOINT_KEY', default: 'teacher', help: 'teacher or student' },
  linear_epochs: { env: 'SERE_EVAL_LINEAR_EPOCHS', default: '100', help: 'epochs of the linear probe (0: k-NN only)' },
  device: { env: 'SERE_EVAL_DEVICE', default: 'cpu', help: 'cpu or cuda[:N]' },
  k: { env: 'SERE_EVAL_K', default: '10,20,100,200', help: 'k values of the weighted k-NN, comma-separated' },
  interval: { env: 'SERE_EVAL_INTERVAL', default: '30', help: 'seconds between listings of the store' },
  seed: { env: 'SERE_EVAL_SEED', default: '0', help: 'seed of the split and the probe' },
  host: { env: 'SERE_EVAL_HOST', default: '127.0.0.1', help: 'HTTP bind address: loopback unless given (0.0.0.0 in a pod)' },
  port: { env: 'PORT', default: '3100', help: 'HTTP port of /health, /ready, /metrics and /runs' },
};

export function helpText(): string {
  return [
    'usage: eval-service --store DIR|s3://BUCKET/PREFIX --data_path DIR [--flag value ...]   (or the environment variables)',
    ...Object.entries(OPTIONS).map(([flag, s]) => `  --${flag.padEnd(16)} ${s.env.padEnd(26)} ${s.help}${s.default !== undefined ? ` [${s.default}]` : ''}`),
    'environment: SERE_EVAL_TOKEN  bearer token of POST /runs/:run/scan (without it, that route answers 403)',
    'endpoints:',
    '  GET /health               liveness',
    '  GET /ready                200 once the store has been listed; 503 while it cannot be',
    '  GET /metrics              Prometheus metrics (sere_eval_*)',
    '  GET /runs                 the watched run, with its last evaluated epoch',
    '  GET /runs/:run/evals      every result, by epoch (eval/index.json)',
    '  GET /runs/:run/report     the report page: accuracy by epoch, losses and teacher entropy by iteration, the configuration',
    '  POST /runs/:run/scan      list the store now (needs Authorization: Bearer $SERE_EVAL_TOKEN)',
  ].join('\n');
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): EvalServiceConfig {
  // Flags are spelled as sere eval's (--data_path), and also --data-path.
  const { raw, where, str, int } = serviceSettings(OPTIONS, argv, env, { example: '--store runs/a', normalise: (f) => f.replace(/-/g, '_') });
  const store = str('store').replace(/\/+$/, '');
  const key = str('checkpoint_key');
  if (key !== 'teacher' && key !== 'student') throw new ConfigError(`${where('checkpoint_key')} must be teacher or student, got '${key}'`);
  const ks = str('k').split(',').map((k) => Number(k.trim()));
  if (ks.some((k) => !Number.isInteger(k) || k < 1)) throw new ConfigError(`${where('k')} must be positive integers separated by commas, got '${raw('k')}'`);
  const interval = Number(str('interval'));
  if (!Number.isFinite(interval) || interval <= 0) throw new ConfigError(`${where('interval')} must be a positive number of seconds, got '${raw('interval')}'`);
  const patchSize = int('patch_size', 1);
  const size = int('size', 1);
  if (size % patchSize !== 0) throw new ConfigError(`${where('size')} ${size} is not a multiple of --patch_size ${patchSize}`);
  const run = raw('run') || store.split('/').filter(Boolean).pop() || 'run';
  if (!/^[\w.-]+$/.test(run)) throw new ConfigError(`${where('run')} must be letters, digits, '.', '_' or '-' (it appears in URLs and metric labels), got '${run}'`);
  return {
    store,
    run,
    dataPath: str('data_path'),
    valPath: raw('val_path') || null,
    arch: str('arch'),
    patchSize,
    size,
    checkpointKey: key,
    linearEpochs: int('linear_epochs', 0),
    device: str('device'),
    ks: [...new Set(ks)].sort((a, b) => a - b),
    interval,
    seed: int('seed', 0),
    host: str('host'),
    port: int('port', 0),
    token: env.SERE_EVAL_TOKEN || null,
  };
}
