/** The text of `sere train --help`: syntax, every flag by section, and the recipes. */
import { DEFAULTS } from './defaults';
import { formatExitCodes, TRAIN_EXITS } from './exit-codes';
import { type FlagSpec, GROUPS } from './flag-spec';
import { FLAGS } from './flags';
import { recipes } from './recipes';
import { describeValues, formatValue } from './values';

const WIDTH = 88;

function wrap(text: string, indent: number, width = WIDTH): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && pad.length + line.length + 1 + word.length > width) {
      lines.push(pad + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(pad + line);
  return lines;
}

function metavar(spec: FlagSpec): string {
  if (spec.metavar) return spec.metavar;
  switch (spec.type) {
    case 'bool':
      return 'on|off';
    case 'int':
      return 'N';
    case 'float':
      return 'X';
    case 'choice':
      return spec.choices.join('|');
    default:
      return 'VALUE';
  }
}

function defaultText(spec: FlagSpec): string {
  if (spec.defaultText) return spec.defaultText;
  const words = formatValue(DEFAULTS[spec.key]);
  return words.join(' ');
}

function flagEntry(spec: FlagSpec): string[] {
  return [
    `  --${spec.key} ${metavar(spec)}`,
    ...wrap(`${describeValues(spec)}; default: ${defaultText(spec)}`, 6),
    ...wrap(spec.help, 6),
  ];
}

/** `usage` is how the entry point is typed: `sere train` or the trainer's own command. */
export function formatHelp(usage = 'sere train [flags]'): string {
  const out: string[] = [
    `Usage: ${usage}`,
    '',
    ...wrap(
      'Pretrain a Vision Transformer with SERE (feature self-relation) on top of iBOT. The flags are those of ' +
        'the reference training script, with the same names, defaults and values, so published command lines run ' +
        'unchanged; the last section adds SERE.ts settings.',
      0,
    ),
    '',
    ...wrap(
      "Syntax: --batch_size_per_gpu 64 or --batch-size-per-gpu=64. Booleans take on/off, true/false or 1/0 " +
        "(any case), and a bare boolean flag means on. Lists take several values (--pred_ratio 0 0.3), or " +
        "comma-separated values after '=' (--global_crops_scale=0.4,1). Flags marked 'or None' accept None. " +
        'A flag given twice keeps its last value.',
      0,
    ),
  ];
  for (const group of GROUPS) {
    out.push('', `${group}:`);
    for (const spec of FLAGS.filter((f) => f.group === group)) out.push(...flagEntry(spec), '');
    out.pop();
  }
  out.push('', 'Recipes (add --device cuda --data ... --store ... and launch one process per GPU):');
  for (const [name, recipe] of Object.entries(recipes)) {
    out.push(...wrap(`${name}: ${recipe.title}`, 2), ...wrap(`hardware: ${recipe.hardware}`, 6));
    out.push(...wrap(`expected: ${recipe.expected.text}`, 6), ...wrap(`run time: ${recipe.runTime.text}`, 6));
    out.push(...wrap(`flags: ${recipe.argv.join(' ')}`, 6));
  }
  return out.join('\n') + '\n';
}

/** The whole help of a training run: the flags, then the exit codes. */
export function formatTrainHelp(usage?: string): string {
  return `${formatHelp(usage)}\nexit codes:\n${formatExitCodes(TRAIN_EXITS)}\n`;
}
