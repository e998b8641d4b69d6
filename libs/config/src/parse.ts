/**
 * Command line → SereConfig, accepting the reference script's syntax:
 *   --batch_size_per_gpu 64 | --batch-size-per-gpu=64      (snake or kebab case, space or '=')
 *   --use_fp16 false | --use_fp16=OFF | --shared_head       (booleans; a bare flag means on)
 *   --pred_ratio 0 0.3 | --global_crops_scale=0.4,1         (lists: values after the flag, or comma-separated after '=')
 *   --load_from None                                       (None where the reference allows it)
 * As with the reference, a flag given twice keeps its last value. Unlike it, abbreviated
 * flag names are not accepted: an unknown name stops with the closest valid names.
 */
import { FlagError } from './errors';
import { FLAG_NAMES, findFlag } from './flags';
import { closestNames } from './suggest';
import type { FlagKey, SereConfig } from './types';
import { type FlagValue, article, describeValues, parseValue } from './values';
import { validateConfig } from './validate';

export interface ParseOptions {
  /** Skip unknown flags (and the values after them) instead of stopping; they are returned in `unknown`. */
  allowUnknown?: boolean;
}

export interface ParseResult {
  config: SereConfig;
  /** Flags set on the command line (later resolution such as --precision's default is not counted). */
  explicit: ReadonlySet<FlagKey>;
  /** Unknown flags with their values, in order (only with allowUnknown). */
  unknown: string[];
}

const HELP = new Set(['-h', '--help']);

/** True when the command line asks for help; check it before parseFlags. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.some((a) => HELP.has(a));
}

/** A token that names a flag rather than a value; '-0.5' and '-3' are values, as in the reference. */
function isFlagToken(token: string): boolean {
  return /^-[^\d.]/.test(token);
}

/** The validated, frozen config of a command line; throws FlagError with a message for the user. */
export function parseFlags(argv: readonly string[], options: ParseOptions = {}): SereConfig {
  return parseFlagsDetailed(argv, options).config;
}

export function parseFlagsDetailed(argv: readonly string[], options: ParseOptions = {}): ParseResult {
  const values: Partial<Record<FlagKey, FlagValue>> = {};
  const explicit = new Set<FlagKey>();
  const unknown: string[] = [];
  let previous: string | undefined; // the last flag and its value, for "unexpected value" messages

  let i = 0;
  while (i < argv.length) {
    const token = argv[i++];
    if (!isFlagToken(token)) {
      throw new FlagError(
        previous === undefined
          ? `unexpected argument '${token}': flags start with --`
          : `unexpected value '${token}' after '${previous}': that flag takes one value`,
        previous?.split(/[ =]/)[0],
      );
    }
    if (HELP.has(token)) throw new FlagError(`${token}: handle help requests with wantsHelp() before parsing`, token);

    const eq = token.indexOf('=');
    const typed = eq < 0 ? token : token.slice(0, eq);
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    const spec = typed.startsWith('--') ? findFlag(typed) : undefined;

    if (spec === undefined) {
      if (!options.allowUnknown) throw unknownFlag(typed);
      unknown.push(token);
      while (i < argv.length && !isFlagToken(argv[i])) unknown.push(argv[i++]);
      previous = undefined;
      continue;
    }

    const list = spec.type === 'float_list' || spec.type === 'int_list';
    let texts: string[];
    if (inline !== undefined) {
      texts = list ? inline.split(',') : [inline];
    } else if (list) {
      texts = [];
      while (i < argv.length && !isFlagToken(argv[i])) texts.push(argv[i++]);
    } else if (i < argv.length && !isFlagToken(argv[i])) {
      texts = [argv[i++]]; // for a boolean, a word other than on/off/... is rejected by parseValue, naming the flag
    } else if (spec.type === 'bool') {
      texts = ['on']; // a bare boolean flag switches it on
    } else {
      throw new FlagError(`${typed}: missing value (expected ${article(describeValues(spec))})`, typed);
    }

    values[spec.key] = parseValue(spec, typed, texts);
    explicit.add(spec.key);
    previous = inline !== undefined ? token : `${typed} ${texts.join(' ')}`;
  }

  const config = validateConfig(values, explicit);
  return { config, explicit, unknown };
}

function unknownFlag(typed: string): FlagError {
  const suggestions = closestNames(typed, FLAG_NAMES);
  const hint =
    suggestions.length === 0
      ? "run 'sere train --help' for the list of flags"
      : `did you mean ${suggestions.map((s) => `--${s}`).join(', ')}?`;
  const dashes = typed.startsWith('--') ? '' : ' (flags start with --)';
  return new FlagError(`unknown flag ${typed}${dashes}; ${hint}`, typed, suggestions);
}
