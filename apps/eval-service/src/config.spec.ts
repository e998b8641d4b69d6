import { loadConfig } from './config';

describe('eval service config', () => {
  it('takes flags over environment, with the defaults of sere eval', () => {
    const cfg = loadConfig(['--store', 's3://runs/vit-s/', '--data-path=/in1k/train', '--k', '20,10,20'], { SERE_EVAL_ARCH: 'vit_base', SERE_EVAL_TOKEN: 't' });
    expect(cfg).toMatchObject({ store: 's3://runs/vit-s', run: 'vit-s', dataPath: '/in1k/train', arch: 'vit_base', patchSize: 16, size: 224, ks: [10, 20], linearEpochs: 100, host: '127.0.0.1', token: 't' });
  });

  it.each([
    [['--data_path', '/d'], /--store \/ SERE_EVAL_STORE is required/],
    [['--store', 'r', '--data_path', '/d', '--checkpoint_key', 'ema'], /--checkpoint_key \/ SERE_EVAL_CHECKPOINT_KEY must be teacher or student, got 'ema'/],
    [['--store', 'r', '--data_path', '/d', '--interval', '0'], /--interval \/ SERE_EVAL_INTERVAL must be a positive number of seconds, got '0'/],
    [['--store', 'r', '--data_path', '/d', '--size', '100'], /--size \/ SERE_EVAL_SIZE 100 is not a multiple of --patch_size 16/],
    [['--store', 'r', '--data_path', '/d', '--run', 'a b'], /--run \/ SERE_EVAL_RUN must be letters/],
    [['--store', 'r', '--data_path', '/d', '--nope', '1'], /unknown flag --nope; see --help/],
  ])('refuses %j, naming the flag', (argv, msg) => {
    expect(() => loadConfig(argv, {})).toThrow(msg);
  });
});
