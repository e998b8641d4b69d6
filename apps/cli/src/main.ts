/**
 * The `sere` command line. Each command lives in its own module and is loaded only when
 * used, so `sere data ...` works on machines without libtorch and `sere verify-fixtures`
 * without the image decoder; `--help` loads only the help texts.
 *
 * Every error that the user can act on carries its exit code (EXIT in libs/config); main
 * prints its message and exits with that code. Anything else is a bug: exit 1, and the
 * stack trace with SERE_DEBUG=1.
 */
import { EXIT, formatExitCodes, formatTrainHelp, reportFailure, type ExitName } from '@sere/config';
import { type CommandHelp, formatCommandHelp } from './help/command-help';
import { UsageError } from './usage';

type Command = {
  summary: string;
  help: () => string;
  run: (argv: string[]) => number | Promise<number>;
};

const texts = () => require('./help/texts') as typeof import('./help/texts');
const dataTexts = () => require('./help/data') as typeof import('./help/data');
const helpOf = (h: () => CommandHelp) => () => formatCommandHelp(h());

const commands: Record<string, Command> = {
  demo: {
    summary: 'the whole pipeline on the embedded dataset: pretrain vit_tiny on the CPU, compare with random init',
    help: helpOf(() => texts().DEMO_HELP),
    run: (argv) => require('./commands/demo').demo(argv),
  },
  train: {
    summary: 'pretrain a ViT with iBOT + SERE (the reference training flags; --help lists them)',
    help: () => formatTrainHelp(),
    run: (argv) => require('./commands/train').train(argv),
  },
  launch: {
    summary: 'train on N processes of this machine joined by c10d (torchrun\'s flags), restarting the group on a failure',
    help: helpOf(() => texts().LAUNCH_HELP),
    run: (argv) => require('./commands/launch').runLaunch(argv),
  },
  eval: {
    summary: 'k-NN and linear probe of a checkpoint\'s teacher backbone (or --random)',
    help: helpOf(() => texts().EVAL_HELP),
    run: (argv) => require('./commands/eval').evaluate(argv),
  },
  'eval-service': {
    summary: 'watch a run\'s folder or bucket and evaluate every checkpoint as it lands (HTTP, Prometheus metrics)',
    help: () => require('./commands/eval-service').evalServiceHelp(),
    run: (argv) => require('./commands/eval-service').runEvalService(argv),
  },
  'data synth': {
    summary: 'write the embedded labelled dataset (procedurally drawn JPEGs, a folder per class)',
    help: helpOf(() => dataTexts().SYNTH_HELP),
    run: (argv) => require('./commands/data').runDataSynth(argv),
  },
  'data scan': {
    summary: 'report the images of a class-per-folder dataset that training would skip',
    help: helpOf(() => dataTexts().SCAN_HELP),
    run: (argv) => require('./commands/data').runDataScan(argv),
  },
  'verify-fixtures': {
    summary: 'check this build against a folder of reference fixtures',
    help: helpOf(() => texts().VERIFY_FIXTURES_HELP),
    run: (argv) => require('./commands/verify-fixtures').verifyFixtures(argv),
  },
};

/** Groups of subcommands: `sere data` alone prints the group's help. */
const groups: Record<string, () => string> = {
  data: helpOf(() => dataTexts().DATA_HELP),
};

const HELP_FLAGS = new Set(['--help', '-h']);
/** The root help shows the whole table; 1 is the one code whose meaning depends on the command. */
const ROOT_EXITS = (Object.keys(EXIT) as ExitName[]).map((n) =>
  n === 'failed' ? (['failed', 'problems found (data scan), a check failed (verify-fixtures), or an unexpected error (SERE_DEBUG=1 prints its stack)'] as const) : n,
);

function rootHelp(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(18)} ${c.summary}`);
  return (
    'usage: sere <command> [options]\n\n' +
    `commands:\n${lines.join('\n')}\n\n` +
    'sere <command> --help prints the usage, options and exit codes of a command.\n\n' +
    `exit codes (each command's help lists those it uses):\n${formatExitCodes(ROOT_EXITS)}\n`
  );
}

/** The command an argv names (`data scan` takes two words) and the arguments after it. */
function resolve(argv: string[]): { name: string; command?: Command; rest: string[] } {
  const two = argv.slice(0, 2).join(' ');
  if (commands[two]) return { name: two, command: commands[two], rest: argv.slice(2) };
  return { name: argv[0], command: commands[argv[0]], rest: argv.slice(1) };
}

export async function main(argv: string[]): Promise<number> {
  const [first] = argv;
  if (!first || HELP_FLAGS.has(first) || first === 'help') {
    // `sere help eval` is `sere eval --help`.
    if (first === 'help' && argv.length > 1) return main([...argv.slice(1), '--help']);
    process.stdout.write(rootHelp());
    return first ? EXIT.ok : EXIT.refused;
  }
  const { name, command, rest } = resolve(argv);
  if (!command) {
    const group = groups[first];
    if (group) {
      const asked = argv.length === 2 && HELP_FLAGS.has(argv[1]);
      if (!asked && argv.length > 1) process.stderr.write(`sere ${first}: unknown subcommand '${argv[1]}'\n\n`);
      (asked ? process.stdout : process.stderr).write(group());
      return asked ? EXIT.ok : EXIT.refused;
    }
    process.stderr.write(`sere: unknown command '${first}'\n\n${rootHelp()}`);
    return EXIT.refused;
  }
  if (rest.some((a) => HELP_FLAGS.has(a))) {
    process.stdout.write(command.help());
    return EXIT.ok;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    return reportFailure(`sere ${name}`, e, e instanceof UsageError ? `usage: ${e.usage}\n` : '');
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
