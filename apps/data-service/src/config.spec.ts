import { parseFlags, recipes, viewRecipe } from '@sere/config';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('takes flags over environment over defaults', () => {
    const cfg = loadConfig(['--ranks', '8', '--data-dir=/data/in1k'], { SERE_RANKS: '4', SERE_REPLICAS: '3', HOSTNAME: 'sere-data-2' });
    expect(cfg).toMatchObject({ dataDir: '/data/in1k', ranks: 8, replicas: 3, replica: 2, brokers: ['127.0.0.1:19092'], endEpoch: 100, slotSize: 16 });
    // HTTP on loopback unless a host is given.
    expect(cfg.host).toBe('127.0.0.1');
    expect(loadConfig(['--data-dir', '/d'], { SERE_HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig(['--data-dir', '/d', '--host', '::1'], { SERE_HOST: '0.0.0.0' }).host).toBe('::1');
    expect(cfg.encode).toMatchObject({ codec: 'jpeg', jpegQuality: 90, chromaSubsampling: '4:4:4', deflateGrids: true });
    expect(cfg.recipe).toMatchObject({ globalSize: 224, localSize: 96, localCropsNumber: 10, globalCropsScale: [0.4, 1] });
  });

  it('makes the views the trainer derives from the same flags, patch size included', () => {
    const cfg = loadConfig(['--data-dir', '/d', '--recipe', 'vit-base', '--patch-size', '8', '--global-size', '64', '--local-size', '32', '--local-crops', '3'], {});
    const trainer = viewRecipe(parseFlags([...recipes.vit_base_16.argv, '--patch_size', '8', '--global_size', '64', '--local_size', '32', '--local_crops_number', '3']));
    expect(cfg.recipe).toEqual(trainer);
    expect(cfg.recipe.patchSize).toBe(8);
    expect(loadConfig(['--data-dir', '/d'], { SERE_PATCH_SIZE: '14', SERE_GLOBAL_SIZE: '224', SERE_LOCAL_SIZE: '98' }).recipe.patchSize).toBe(14);
  });

  it('streams forever with --epochs inf and takes the ViT-B recipe by name', () => {
    const cfg = loadConfig(['--data-dir', '/d', '--epochs', 'inf', '--recipe', 'vit-base'], {});
    expect(cfg.endEpoch).toBe(Number.POSITIVE_INFINITY);
    expect(cfg.recipe.globalCropsScale).toEqual([0.32, 1]);
  });

  it.each([
    [['--ranks', '0', '--data-dir', '/d'], '--ranks / SERE_RANKS must be an integer >= 1, got \'0\''],
    [['--data-dir', '/d', '--replica', '3', '--replicas', '2'], '--replica / SERE_REPLICA is 3 but there are 2 replicas'],
    [['--data-dir', '/d', '--codec', 'png'], "--codec / SERE_WIRE_CODEC must be raw, deflate or jpeg, got 'png'"],
    [['--data-dir', '/d', '--global-size', '100'], '--global-size / SERE_GLOBAL_SIZE: 100 px is not a multiple of --patch-size / SERE_PATCH_SIZE 16'],
    [['--data-dir', '/d', '--patch-size', '8', '--local-size', '20'], '--local-size / SERE_LOCAL_SIZE: 20 px is not a multiple of --patch-size / SERE_PATCH_SIZE 8'],
    [['--data-dir', '/d', '--patch-size', '0'], "--patch-size / SERE_PATCH_SIZE must be an integer >= 1, got '0'"],
    [['--data-dir', '/d', '--slot-size', '500'], '--slot-size / SERE_SLOT_SIZE 500 makes messages that decode to 297664000 bytes; trainers refuse more than 268435456, so use at most 450 with these views'],
    [['--bogus', '1'], 'unknown flag --bogus'],
    [[], '--data-dir / SERE_DATA_DIR is required'],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(ConfigError);
    expect(() => loadConfig(argv, {})).toThrow(message);
  });
});
