/**
 * The module boundaries in eslint.config.mjs really fire: snippets placed (in memory) inside
 * each project are linted with the repository's own config, and every forbidden import is an
 * error while the allowed ones pass. The lint runs in a child
 * process because ESLint loads its flat config with import(), which jest's module VM refuses.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../..');

interface Case {
  filePath: string;
  code: string;
}

// Lints every case with one ESLint instance and prints, per case, the rule ids it reported.
const LINT_SNIPPETS = `
const { ESLint } = require('eslint');
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const out = [];
  for (const c of JSON.parse(input)) {
    const [result] = await eslint.lintText(c.code, { filePath: c.filePath });
    out.push(result.messages.map((m) => ({ ruleId: m.ruleId, severity: m.severity, message: m.message })));
  }
  process.stdout.write(JSON.stringify(out));
});
`;

type Messages = { ruleId: string | null; severity: number; message: string }[];

function lint(cases: Case[]): Messages[] {
  const run = spawnSync(process.execPath, ['-e', LINT_SNIPPETS], {
    cwd: ROOT,
    input: JSON.stringify(cases),
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  if (run.status !== 0) throw new Error(`linting the snippets failed (exit ${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout) as Messages[];
}

/** An import that is used, so only the boundary rule can object to it. */
const uses = (specifier: string, name = 'm') => `import * as ${name} from '${specifier}';\nexport const ${name}Used = ${name};\n`;

const forbidden: [string, Case][] = [
  ['a lib imports an app by name', { filePath: 'libs/wire/src/x.ts', code: uses('@sere/trainer') }],
  ['a lib imports an app by path', { filePath: 'libs/data/src/x.ts', code: uses('../../../apps/data-service/src/config') }],
  ['the CLI exception does not reach libs', { filePath: 'libs/sere/src/x.ts', code: uses('@sere/trainer') }],
  ['an app imports another app', { filePath: 'apps/data-service/src/x.ts', code: uses('@sere/trainer') }],
  ['augment imports the binding', { filePath: 'libs/augment/src/x.ts', code: uses('@sere/torch') }],
  ['wire imports SERE', { filePath: 'libs/wire/src/x.ts', code: uses('@sere/sere') }],
  ['data imports the binding', { filePath: 'libs/data/src/x.ts', code: uses('@sere/torch') }],
  ['the data service imports SERE', { filePath: 'apps/data-service/src/x.ts', code: uses('@sere/sere') }],
  ['the data service imports eval (libtorch through it)', { filePath: 'apps/data-service/src/x.ts', code: uses('@sere/eval') }],
  ['store imports SERE', { filePath: 'libs/store/src/x.ts', code: uses('@sere/sere') }],
  ['the binding imports SERE', { filePath: 'libs/torch/src/x.ts', code: uses('@sere/sere') }],
  ['the binding imports augment', { filePath: 'libs/torch/src/pth/x.ts', code: uses('@sere/augment') }],
  ['config imports augment', { filePath: 'libs/config/src/x.ts', code: uses('@sere/augment') }],
  ['config imports the binding', { filePath: 'libs/config/src/x.ts', code: uses('@sere/torch') }],
];

const allowed: [string, Case][] = [
  ['wire imports augment', { filePath: 'libs/wire/src/x.ts', code: uses('@sere/augment') }],
  ['data imports config', { filePath: 'libs/data/src/x.ts', code: uses('@sere/config') }],
  ['the binding imports config', { filePath: 'libs/torch/src/x.ts', code: uses('@sere/config') }],
  ['store imports config', { filePath: 'libs/store/src/x.ts', code: uses('@sere/config') }],
  ['the data service imports data and config', { filePath: 'apps/data-service/src/x.ts', code: uses('@sere/data', 'd') + uses('@sere/config', 'c') }],
  ['SERE imports the binding', { filePath: 'libs/sere/src/x.ts', code: uses('@sere/torch') }],
  ['eval imports SERE', { filePath: 'libs/eval/src/x.ts', code: uses('@sere/sere') }],
  ['the CLI starts a run through the trainer', { filePath: 'apps/cli/src/commands/x.ts', code: uses('@sere/trainer') }],
  ['the trainer imports SERE', { filePath: 'apps/trainer/src/x.ts', code: uses('@sere/sere') }],
];

let results: Messages[];

beforeAll(() => {
  results = lint([...forbidden, ...allowed].map(([, c]) => c));
});

describe('forbidden imports are lint errors', () => {
  it.each(forbidden.map(([name, c], i) => [name, c, i] as const))('%s', (_name, c, i) => {
    // Any error counts: the snippet uses what it imports, so only a boundary rule can object.
    const errors = results[i].filter((m) => m.severity === 2);
    expect({ filePath: c.filePath, errors: errors.length }).toEqual({ filePath: c.filePath, errors: 1 });
  });
});

describe('allowed imports pass', () => {
  it.each(allowed.map(([name, c], i) => [name, c, forbidden.length + i] as const))('%s', (_name, c, i) => {
    expect({ filePath: c.filePath, messages: results[i] }).toEqual({ filePath: c.filePath, messages: [] });
  });
});
