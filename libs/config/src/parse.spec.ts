import { DEFAULTS } from './defaults';
import { FlagError } from './errors';
import { FLAGS } from './flags';
import { parseFlags, parseFlagsDetailed, wantsHelp } from './parse';

/** The FlagError a command line raises (fails the test if it parses). */
function errorOf(argv: string[]): FlagError {
  try {
    parseFlags(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(FlagError);
    return e as FlagError;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('parseFlags: syntax', () => {
  it('accepts snake_case and kebab-case, with a space or =', () => {
    for (const argv of [
      ['--batch_size_per_gpu', '64'],
      ['--batch-size-per-gpu', '64'],
      ['--batch_size_per_gpu=64'],
      ['--batch-size-per-gpu=64'],
    ]) {
      expect(parseFlags(argv).batch_size_per_gpu).toBe(64);
    }
  });

  it('reads booleans as on/off, true/false, 1/0 in any case, and a bare flag as on', () => {
    const cases: Array<[string[], boolean]> = [
      [['--use_fp16', 'off'], false],
      [['--use_fp16', 'OFF'], false],
      [['--use_fp16', 'False'], false],
      [['--use_fp16', '0'], false],
      [['--use_fp16=false'], false],
      [['--shared_head', 'on'], true],
      [['--shared_head', 'TRUE'], true],
      [['--shared_head', '1'], true],
      [['--shared-head=On'], true],
      [['--shared_head'], true],
      [['--shared_head', '--epochs', '50'], true],
    ];
    for (const [argv, expected] of cases) {
      const key = argv[0].includes('fp16') ? 'use_fp16' : 'shared_head';
      expect([argv, parseFlags(argv)[key]]).toEqual([argv, expected]);
    }
  });

  it('reads lists as repeated values or comma-separated after =', () => {
    const c = parseFlags(['--pred_ratio', '0', '0.3', '--pred_ratio_var', '0', '0.2', '--global_crops_scale', '0.4', '1']);
    expect(c.pred_ratio).toEqual([0, 0.3]);
    expect(c.pred_ratio_var).toEqual([0, 0.2]);
    expect(c.global_crops_scale).toEqual([0.4, 1]);
    expect(parseFlags(['--local-crops-scale=0.05,0.32']).local_crops_scale).toEqual([0.05, 0.32]);
    expect(parseFlags(['--pred_ratio', '0.5']).pred_ratio).toEqual([0.5]);
  });

  it('repeats a single --pred_ratio_var for every ratio and a single --overlap_size for both sides', () => {
    expect(parseFlags(['--pred_ratio', '0.2', '0.4', '--pred_ratio_var', '0.1']).pred_ratio_var).toEqual([0.1, 0.1]);
    expect(parseFlags(['--pred_ratio', '0', '0.3']).pred_ratio_var).toEqual([0, 0]);
    expect(parseFlags(['--overlap_size', '7']).overlap_size).toEqual([7, 7]);
    expect(parseFlags(['--overlap_size', '13', '9']).overlap_size).toEqual([13, 9]);
  });

  it('accepts None where the reference allows it', () => {
    for (const word of ['None', 'none', 'NULL']) {
      expect(parseFlags(['--norm_in_head', word]).norm_in_head).toBeNull();
      expect(parseFlags(['--load_from', word]).load_from).toBeNull();
    }
    expect(parseFlags(['--norm_in_head', 'ln']).norm_in_head).toBe('ln');
    expect(parseFlags(['--load_from', 'checkpoint0040.pth']).load_from).toBe('checkpoint0040.pth');
    expect(parseFlags(['--steps', '20']).steps).toBe(20);
    expect(errorOf(['--epochs', 'None']).message).toBe("--epochs: 'None' is not an integer ≥ 1");
  });

  it('takes numbers in the forms the reference takes, including negative and exponent forms', () => {
    expect(parseFlags(['--min_lr', '2e-6']).min_lr).toBe(2e-6);
    expect(parseFlags(['--lr', '.00075']).lr).toBe(0.00075);
    expect(parseFlags(['--lr', '5E-4']).lr).toBe(5e-4);
    // '-1' is a value, not a flag: the error is about the range.
    expect(errorOf(['--local_rank', '-1']).message).toBe("--local_rank: '-1' is not an integer ≥ 0");
  });

  it('keeps the last of repeated flags, as the reference does', () => {
    expect(parseFlags(['--epochs', '50', '--epochs', '70']).epochs).toBe(70);
  });

  it('returns a frozen config and reports which flags were given', () => {
    const { config, explicit } = parseFlagsDetailed(['--epochs', '50', '--device', 'cuda']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.pred_ratio)).toBe(true);
    expect([...explicit].sort()).toEqual(['device', 'epochs']);
    expect(DEFAULTS.pred_ratio).toEqual([0.3]); // the defaults are not shared with configs
  });

  it('accepts every flag of the table', () => {
    for (const f of FLAGS) expect(() => parseFlags([`--${f.key.replace(/_/g, '-')}=${sample(f.key)}`])).not.toThrow();
  });
});

function sample(key: string): string {
  const v = (DEFAULTS as unknown as Record<string, unknown>)[key];
  if (v === null) return 'None';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

describe('parseFlags: our flags', () => {
  it('derives --precision from the device and --use_fp16 unless given', () => {
    expect(parseFlags([]).precision).toBe('fp32');
    expect(parseFlags(['--device', 'cuda']).precision).toBe('fp16');
    expect(parseFlags(['--device', 'cuda:3', '--use_fp16', 'false']).precision).toBe('fp32');
    expect(parseFlags(['--device', 'cuda', '--precision', 'bf16']).precision).toBe('bf16');
    expect(parseFlags(['--precision', 'bf16']).precision).toBe('bf16');
  });

  it('checks --device, --data and --store syntax', () => {
    expect(parseFlags(['--device', 'cuda:1']).device).toBe('cuda:1');
    expect(errorOf(['--device', 'gpu']).message).toBe("--device: 'gpu' is not one of cpu, cuda, cuda:N");
    expect(parseFlags(['--data', 'kafka://localhost:9092/views']).data).toBe('kafka://localhost:9092/views');
    expect(parseFlags(['--data', '/data/imagenet/train']).data).toBe('/data/imagenet/train');
    expect(errorOf(['--data', 'kafka://localhost/views']).message).toMatch(/^--data: .*broker 'localhost' is not host:port/);
    expect(errorOf(['--data', 'http://host/x']).message).toMatch(/^--data: 'http:\/\/host\/x' is neither a local folder nor kafka/);
    expect(parseFlags(['--store', 's3://sere-runs/vit-s']).store).toBe('s3://sere-runs/vit-s');
    expect(errorOf(['--store', 'gs://bucket/x']).message).toMatch(/^--store: .*neither a local folder nor s3:\/\//);
  });

  it('--compat_local_heads, --threads, --json, --steps', () => {
    const c = parseFlags(['--compat_local_heads', 'on', '--threads', '2', '--json', '--steps', '10']);
    expect([c.compat_local_heads, c.threads, c.json, c.steps]).toEqual([true, 2, true, 10]);
    expect(errorOf(['--threads', '0']).message).toBe("--threads: '0' is not an integer ≥ 1, or None");
  });
});

describe('parseFlags: errors name the flag, the value and what is valid', () => {
  it('invalid choice', () => {
    const e = errorOf(['--arch', 'vit_hug']);
    expect(e.message).toBe("--arch: 'vit_hug' is not one of vit_tiny, vit_small, vit_base, vit_large");
    expect(e.flag).toBe('--arch');
  });

  it('unknown flag, with the closest valid names', () => {
    const e = errorOf(['--batch_size', '64']);
    expect(e.message).toMatch(/^unknown flag --batch_size; did you mean --batch_size_per_gpu/);
    expect(e.suggestions[0]).toBe('batch_size_per_gpu');
    expect(errorOf(['--lr_min', '1e-6']).suggestions[0]).toBe('min_lr');
    expect(errorOf(['--warmup-teacher-temperature-epochs', '3']).suggestions).toEqual(['warmup_teacher_temp_epochs']);
    expect(errorOf(['--teacher-tmp', '0.07']).suggestions[0]).toBe('teacher_temp');
    expect(errorOf(['--xyzzy']).message).toBe("unknown flag --xyzzy; run 'sere train --help' for the list of flags");
    expect(errorOf(['-lr', '1']).message).toBe('unknown flag -lr (flags start with --); did you mean --lr?');
  });

  it('flag names are case-sensitive, like the reference', () => {
    expect(errorOf(['--LR', '1']).suggestions).toContain('lr');
  });

  it('bad numbers and booleans', () => {
    expect(errorOf(['--epochs', '10.5']).message).toBe("--epochs: '10.5' is not an integer ≥ 1");
    expect(errorOf(['--lr', 'fast']).message).toBe("--lr: 'fast' is not a number ≥ 0");
    expect(errorOf(['--lr', 'NaN']).message).toBe("--lr: 'NaN' is not a number ≥ 0");
    expect(errorOf(['--drop_path', '1']).message).toBe("--drop_path: '1' is not a number in [0, 1)");
    expect(errorOf(['--use_fp16', 'yes']).message).toBe("--use_fp16: 'yes' is not a boolean; use on/off, true/false or 1/0");
    expect(errorOf(['--patch_size', '15']).message).toBe('--patch_size: 15 does not divide the 224-px crop');
    expect(errorOf(['--global_crops_number', '4']).message).toBe("--global_crops_number: '4' is not an integer = 2");
  });

  it('wrong number of values', () => {
    expect(errorOf(['--global_crops_scale', '0.4']).message).toBe(
      '--global_crops_scale: expects 2 numbers in (0, 1], got 1: 0.4',
    );
    expect(errorOf(['--global_crops_scale', '0', '1']).message).toBe("--global_crops_scale: '0' is not a number in (0, 1]");
    expect(errorOf(['--pred_ratio', '--epochs', '3']).message).toBe('--pred_ratio: expects 1 or more numbers in [0, 1], got 0');
    expect(errorOf(['--epochs']).message).toBe('--epochs: missing value (expected an integer ≥ 1)');
    expect(errorOf(['--epochs', '--lr', '1']).message).toBe('--epochs: missing value (expected an integer ≥ 1)');
    expect(errorOf(['--epochs', '10', '20']).message).toBe("unexpected value '20' after '--epochs 10': that flag takes one value");
    expect(errorOf(['train']).message).toBe("unexpected argument 'train': flags start with --");
  });

  it('inconsistent flags', () => {
    expect(errorOf(['--epochs', '10']).message).toBe(
      '--warmup_teacher_temp_epochs: 30 does not fit in --epochs 10; use at most 10',
    );
    expect(
      errorOf(['--epochs', '10', '--warmup_teacher_temp_epochs', '8', '--pred_start_epoch', '3']).message,
    ).toBe('--warmup_teacher_temp_epochs: 8 after --pred_start_epoch 3 does not fit in --epochs 10; use at most 7');
    expect(errorOf(['--epochs', '40', '--warmup_epochs', '50']).message).toBe(
      '--warmup_epochs: 50 is longer than the run (--epochs 40); use at most 40',
    );
    expect(errorOf(['--pred_ratio', '0', '0.3', '--pred_ratio_var', '0', '0.1', '0.2']).message).toBe(
      '--pred_ratio_var: 3 values for 2 --pred_ratio values; give one value, or one per ratio',
    );
    expect(errorOf(['--pred_ratio', '0.3', '--pred_ratio_var', '0.4']).message).toMatch(/^--pred_ratio_var: 0.4 around --pred_ratio 0.3 leaves \[0, 1\]/);
    expect(errorOf(['--local_crops_scale', '0.4', '0.05']).message).toBe('--local_crops_scale: the minimum 0.4 exceeds the maximum 0.05');
    expect(errorOf(['--alpha', '3', '--beta', '2']).message).toMatch(/^--alpha 3 \+ --beta 2 exceeds 4/);
    expect(errorOf(['--precision', 'fp16']).message).toBe("--precision: 'fp16' needs --device cuda; on cpu use fp32 or bf16");
  });
});

describe('allowUnknown and help', () => {
  it('skips unknown flags with their values and returns them', () => {
    const r = parseFlagsDetailed(['--epochs', '40', '--nproc_per_node', '8', '--foo=1', '--lr', '0.001'], { allowUnknown: true });
    expect(r.config.epochs).toBe(40);
    expect(r.config.lr).toBe(0.001);
    expect(r.unknown).toEqual(['--nproc_per_node', '8', '--foo=1']);
  });

  it('wantsHelp sees -h and --help; parseFlags leaves them to the caller', () => {
    expect(wantsHelp(['--epochs', '3', '--help'])).toBe(true);
    expect(wantsHelp(['-h'])).toBe(true);
    expect(wantsHelp(['--epochs', '3'])).toBe(false);
    expect(errorOf(['--help']).flag).toBe('--help');
  });
});
