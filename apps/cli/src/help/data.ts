/** The help of `sere data`, `sere data synth` and `sere data scan`. */
import { PICTURE_STYLES } from '@sere/dataset';
import type { CommandHelp } from './command-help';

export const SYNTH_HELP: CommandHelp = {
  name: 'data synth',
  usage: `sere data synth <dir> [--classes 10] [--per-class 100] [--size 128] [--seed 0] [--style ${PICTURE_STYLES.join('|')}]`,
  options: [
    ['--classes N', 'number of classes (default 10)'],
    ['--per-class N', 'images per class (default 100)'],
    ['--size N', 'image side in pixels (default 128)'],
    ['--seed N', 'the same seed draws the same pictures (default 0)'],
    ['--style NAME', `how the class shows in a picture: ${PICTURE_STYLES.join(', ')} (default classic)`],
  ],
  exits: ['ok', 'failed', 'refused'],
};

export const SCAN_HELP: CommandHelp = {
  name: 'data scan',
  usage: 'sere data scan <dir> [--json] [--max-pixels N]',
  options: [
    ['--json', 'the report as JSON'],
    ['--max-pixels N', 'count an image larger than N pixels as unusable'],
  ],
  exits: [
    ['ok', 'clean: every image is usable'],
    ['failed', 'problems found: some images would be skipped (the report lists them)'],
    ['refused', 'refused: a bad flag, or the folder is missing or holds no class folders'],
  ],
};

export const DATA_HELP: CommandHelp = {
  name: 'data',
  usage: 'sere data (synth | scan) ...',
  description: `commands:\n  ${SYNTH_HELP.usage.replace('sere ', '')}\n  ${SCAN_HELP.usage.replace('sere ', '')}\n\nsere data synth --help and sere data scan --help say more.`,
  exits: ['ok', ['failed', 'data scan: problems found; otherwise an unexpected error (SERE_DEBUG=1 prints its stack trace)'], 'refused'],
};
