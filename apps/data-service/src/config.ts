/**
 * The service's settings, from flags (`--ranks 8`) or environment (`SERE_RANKS=8`); flags win.
 * Every value is checked here, so a typo fails at start with the flag's name, not deep in a run.
 */
import { ConfigError, FlagError, parseFlags, recipes, serviceSettings, tokenGrids, viewRecipe, type ServiceOption, type ViewFlags, type ViewRecipe } from '@sere/config';
import { DEFAULT_ENCODE_OPTIONS, gridBytesPerSample, MAX_DECODED_BYTES, viewBytesPerSample, type EncodeOptions, type ViewCodecName } from '@sere/wire';

export interface ServiceConfig {
  dataDir: string;
  brokers: string[];
  prefix: string;
  ranks: number;
  replicas: number;
  replica: number;
  seed: number;
  slotSize: number;
  startEpoch: number;
  startSlot: number;
  endEpoch: number;
  maxLag: number;
  concurrency: number;
  encode: EncodeOptions;
  recipe: ViewRecipe;
  maxPixels?: number;
  port: number;
  host: string;
}

export { ConfigError };

/** Flag name → environment variable, default and the advice shown by --help. */
export const OPTIONS: Record<string, ServiceOption> = {
  'data-dir': { env: 'SERE_DATA_DIR', help: 'ImageFolder root (<root>/<class>/<image>); run `sere data scan` on it first' },
  brokers: { env: 'KAFKA_BROKERS', default: '127.0.0.1:19092', help: 'comma-separated Kafka bootstrap servers' },
  prefix: { env: 'SERE_TOPIC_PREFIX', default: 'sere.batches', help: 'topic and group prefix; use a new one per job (the replica count is fixed per prefix)' },
  ranks: { env: 'SERE_RANKS', default: '1', help: "trainer ranks (GPUs): the trainers' world size; one topic per rank, each epoch shared as DistributedSampler does" },
  replicas: { env: 'SERE_REPLICAS', default: '1', help: 'data-service replicas sharing the work; add replicas until the trainers never wait' },
  replica: { env: 'SERE_REPLICA', help: 'this replica, 0..replicas-1 (default: the ordinal at the end of HOSTNAME, as in a StatefulSet, else 0)' },
  seed: { env: 'SERE_SEED', default: '0', help: 'seed of the epoch shuffles and views; must match across replicas' },
  'slot-size': { env: 'SERE_SLOT_SIZE', default: '16', help: 'images per Kafka message (about 1 MB at 16 with JPEG views)' },
  'start-epoch': { env: 'SERE_START_EPOCH', default: '0', help: 'first epoch when the topics are new (a restart resumes from the topics)' },
  'start-slot': { env: 'SERE_START_SLOT', default: '0', help: 'first slot of the first epoch when the topics are new' },
  epochs: { env: 'SERE_EPOCHS', default: '100', help: 'stop after this epoch (exclusive); "inf" streams until stopped' },
  'max-lag': { env: 'SERE_MAX_LAG', default: '64', help: 'messages a partition may run ahead of its trainer; max-lag x slot-size must exceed a trainer batch (the trainer commits whole batches), so keep it at 2 batches or more; raise it if trainers wait on a bursty producer' },
  concurrency: { env: 'SERE_CONCURRENCY', default: '4', help: 'images decoded at once per replica' },
  codec: { env: 'SERE_WIRE_CODEC', default: DEFAULT_ENCODE_OPTIONS.codec, help: 'view encoding on the wire: jpeg (smallest, see bench/data/wire.ts), deflate or raw (exact pixels)' },
  'jpeg-quality': { env: 'SERE_JPEG_QUALITY', default: String(DEFAULT_ENCODE_OPTIONS.jpegQuality), help: 'JPEG quality of re-encoded views' },
  recipe: { env: 'SERE_RECIPE', default: 'vit-small', help: 'view recipe: vit-small or vit-base (spec §7.1)' },
  'global-size': { env: 'SERE_GLOBAL_SIZE', default: '224', help: 'global crop size (224 in the recipes; smaller only for demos and tests)' },
  'local-size': { env: 'SERE_LOCAL_SIZE', default: '96', help: 'local crop size (96 in the recipes)' },
  'local-crops': { env: 'SERE_LOCAL_CROPS', help: 'local crops per image (recipe default 10)' },
  'patch-size': { env: 'SERE_PATCH_SIZE', default: '16', help: "the trainer's --patch_size: crop sizes must be multiples of it, and the overlap grids count its patches" },
  'max-pixels': { env: 'SERE_MAX_PIXELS', help: 'skip images with more pixels than this (decompression bombs); default: Pillow\'s limit' },
  port: { env: 'PORT', default: '3000', help: 'HTTP port of /health, /ready and /metrics' },
  host: { env: 'SERE_HOST', default: '127.0.0.1', help: 'HTTP bind address: loopback unless given; 0.0.0.0 serves every interface (a pod needs it for its probes)' },
};

export function helpText(): string {
  return [
    'usage: data-service [--flag value ...]   (or the environment variables)',
    ...Object.entries(OPTIONS).map(([flag, s]) => `  --${flag.padEnd(14)} ${s.env.padEnd(18)} ${s.help}${s.default !== undefined ? ` [${s.default}]` : ''}`),
    'endpoints:',
    '  GET /health    liveness: 200 while the process works (503 once the streamer has failed)',
    '  GET /ready     readiness: 200 while the Kafka brokers answer; 503, with since when and the last error, while they do not',
    '  GET /metrics   Prometheus metrics',
  ].join('\n');
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): ServiceConfig {
  const { raw, where, str, int } = serviceSettings(OPTIONS, argv, env, { example: '--ranks 8' });

  const replicas = int('replicas', 1);
  const ordinal = /-(\d+)$/.exec(env.HOSTNAME ?? '')?.[1];
  const replica = int('replica', 0, ordinal !== undefined ? Number(ordinal) : 0);
  if (replica >= replicas) throw new ConfigError(`${where('replica')} is ${replica} but there are ${replicas} replicas (expected 0..${replicas - 1})`);
  const codec = str('codec');
  if (!['raw', 'deflate', 'jpeg'].includes(codec)) throw new ConfigError(`${where('codec')} must be raw, deflate or jpeg, got '${codec}'`);
  const recipeName = str('recipe');
  const preset = { 'vit-small': recipes.vit_small_16, 'vit-base': recipes.vit_base_16 }[recipeName];
  if (!preset) throw new ConfigError(`${where('recipe')} must be vit-small or vit-base, got '${recipeName}'`);
  const base = parseFlags([...preset.argv]);
  const epochs = str('epochs');
  const endEpoch = epochs === 'inf' ? Number.POSITIVE_INFINITY : int('epochs', 1);
  const maxPixels = raw('max-pixels');
  // The views as the trainer derives them from its flags (libs/config), with this service's sizes.
  const recipe = recipeOf(base, {
    global_size: int('global-size', 16),
    local_size: int('local-size', 8),
    local_crops_number: int('local-crops', 0, base.local_crops_number),
    patch_size: int('patch-size', 1),
  }, where);
  const { globalSize, localSize, localCropsNumber } = recipe;
  const grids = tokenGrids(recipe);
  const slotSize = int('slot-size', 1);
  // Trainers refuse a message that decodes to more than MAX_DECODED_BYTES (a decompression-bomb guard).
  const viewSizes = [globalSize, globalSize, ...Array<number>(localCropsNumber).fill(localSize)];
  const perImage = viewBytesPerSample(viewSizes) + gridBytesPerSample({ viewSizes, overlap: [grids.global, grids.global], localGrid: grids.local });
  if (slotSize * perImage > MAX_DECODED_BYTES) {
    throw new ConfigError(
      `${where('slot-size')} ${slotSize} makes messages that decode to ${slotSize * perImage} bytes; trainers refuse more than ${MAX_DECODED_BYTES}, so use at most ${Math.floor(MAX_DECODED_BYTES / perImage)} with these views`,
    );
  }
  return {
    dataDir: str('data-dir'),
    brokers: str('brokers').split(',').map((b) => b.trim()).filter(Boolean),
    prefix: str('prefix'),
    ranks: int('ranks', 1),
    replicas,
    replica,
    seed: int('seed', 0),
    slotSize,
    startEpoch: int('start-epoch', 0),
    startSlot: int('start-slot', 0),
    endEpoch,
    maxLag: int('max-lag', 1),
    concurrency: int('concurrency', 1),
    encode: { ...DEFAULT_ENCODE_OPTIONS, codec: codec as ViewCodecName, jpegQuality: int('jpeg-quality', 1) },
    recipe,
    maxPixels: maxPixels ? int('max-pixels', 1) : undefined,
    port: int('port', 0),
    host: str('host'),
  };
}

/** This service's flag for each training flag it sets. */
const OWN_FLAG: Partial<Record<keyof ViewFlags, string>> = { global_size: 'global-size', local_size: 'local-size', local_crops_number: 'local-crops', patch_size: 'patch-size' };

function recipeOf(base: ViewFlags, sizes: Partial<ViewFlags>, where: (name: string) => string): ViewRecipe {
  try {
    return viewRecipe({ ...base, ...sizes }, (f) => (OWN_FLAG[f] ? where(OWN_FLAG[f]) : `--${f}`));
  } catch (e) {
    if (e instanceof FlagError) throw new ConfigError(e.message);
    throw e;
  }
}
