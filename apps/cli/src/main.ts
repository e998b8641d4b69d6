/**
 * The `sere` command line. Each command lives in its own module and is loaded only when
 * used, so `sere data ...` works on machines without libtorch and `sere verify-fixtures`
 * without the image decoder.
 */
import { UsageError } from './usage';

type Command = { summary: string; run: (argv: string[]) => number | Promise<number> };

const commands: Record<string, Command> = {
  demo: {
    summary: 'the whole pipeline on the embedded dataset: pretrain vit_tiny on the CPU, compare with random init',
    run: (argv) => require('./commands/demo').demo(argv),
  },
  train: {
    summary: 'pretrain a ViT with iBOT + SERE (the reference training flags; --help lists them)',
    run: (argv) => require('./commands/train').train(argv),
  },
  data: {
    summary: 'data synth <dir> (the embedded labelled dataset) | data scan <dir> [--json] (report unusable images)',
    run: (argv) => {
      const d = require('./commands/data');
      const [sub, ...rest] = argv;
      if (sub === 'synth') return d.runDataSynth(rest);
      if (sub === 'scan') return d.runDataScan(rest);
      process.stderr.write(`${d.SYNTH_USAGE}\n${d.SCAN_USAGE}\n`);
      return 2;
    },
  },
  eval: {
    summary: 'k-NN and linear probe of a checkpoint\'s teacher backbone (or --random)',
    run: (argv) => require('./commands/eval').evaluate(argv),
  },
  'verify-fixtures': {
    summary: 'check this build against a folder of reference fixtures',
    run: (argv) => require('./commands/verify-fixtures').verifyFixtures(argv),
  },
};

function help(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(18)} ${c.summary}`);
  return `usage: sere <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`sere: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`sere ${name}: ${e.message}\nusage: ${e.usage}\n`);
      return 2;
    }
    const err = e as Error & { name?: string; kind?: string };
    if (err && err.name === 'StoreError') {
      process.stderr.write(`sere ${name}: ${err.message}\n`);
      return require('@sere/store').EXIT_CODES[err.kind as string] ?? 1;
    }
    if (err && (['FlagError', 'PthError', 'DataError', 'DecodeError'].includes(err.name ?? '') || /^--\w+:/.test(err.message ?? ''))) {
      process.stderr.write(`sere ${name}: ${err.message}\n`);
      return 2;
    }
    if (process.env.SERE_DEBUG) throw e;
    process.stderr.write(`sere ${name}: ${err?.message ?? String(e)}\n(set SERE_DEBUG=1 for a stack trace)\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
