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

// Each with the reason the linter must give. Cases that would close a cycle are caught by Nx's
// cycle check before the tags are looked at, so most cases avoid one on purpose; libs/config
// cannot: every project reaches it.
const APP = /Imports of apps are forbidden/;
const PATH = /Projects cannot be imported by a relative or absolute path/;
const NO_TORCH = /tagged with "runtime:no-torch" can only depend on libs tagged with "runtime:no-torch"/;
const BINDING = /tagged with "role:binding" can only depend on libs tagged with "scope:shared"/;
const CYCLE = /Circular dependency/;
const TEST_DOUBLE = /test doubles \(testing\/\) are for specs and tests/;

const forbidden: [string, Case, RegExp][] = [
  ['a lib imports an app by name', { filePath: 'libs/eval/src/x.ts', code: uses('@sere/trainer') }, APP],
  ['a lib imports an app by path', { filePath: 'libs/stream/src/x.ts', code: uses('../../../apps/data-service/src/config') }, PATH],
  ['the CLI imports the trainer app', { filePath: 'apps/cli/src/commands/x.ts', code: uses('@sere/trainer') }, APP],
  ['an app imports another app', { filePath: 'apps/data-service/src/x.ts', code: uses('@sere/trainer') }, APP],
  ['augment imports the binding', { filePath: 'libs/augment/src/x.ts', code: uses('@sere/torch') }, NO_TORCH],
  ['wire imports SERE', { filePath: 'libs/wire/src/x.ts', code: uses('@sere/sere') }, NO_TORCH],
  ['dataset imports the binding', { filePath: 'libs/dataset/src/x.ts', code: uses('@sere/torch') }, NO_TORCH],
  ['stream imports the binding', { filePath: 'libs/stream/src/x.ts', code: uses('@sere/torch') }, NO_TORCH],
  ['dataset imports stream (stream imports dataset)', { filePath: 'libs/dataset/src/x.ts', code: uses('@sere/stream') }, CYCLE],
  ['the run loop imports a test double', { filePath: 'libs/train/src/x.ts', code: uses('@sere/stream/testing') }, TEST_DOUBLE],
  ['a lib imports its own test doubles', { filePath: 'libs/store/src/x.ts', code: uses('./testing') }, TEST_DOUBLE],
  ['the data service imports SERE', { filePath: 'apps/data-service/src/x.ts', code: uses('@sere/sere') }, NO_TORCH],
  ['the data service imports eval (libtorch through it)', { filePath: 'apps/data-service/src/x.ts', code: uses('@sere/eval') }, NO_TORCH],
  ['store imports SERE', { filePath: 'libs/store/src/x.ts', code: uses('@sere/sere') }, NO_TORCH],
  ['store imports the binding', { filePath: 'libs/store/src/x.ts', code: uses('@sere/torch') }, NO_TORCH],
  ['the binding imports store', { filePath: 'libs/torch/src/x.ts', code: uses('@sere/store') }, BINDING],
  ['the binding imports wire', { filePath: 'libs/torch/src/pth/x.ts', code: uses('@sere/wire') }, BINDING],
  ['the binding imports SERE', { filePath: 'libs/torch/src/x.ts', code: uses('@sere/sere') }, CYCLE],
  ['config imports augment', { filePath: 'libs/config/src/x.ts', code: uses('@sere/augment') }, CYCLE],
  ['config imports the binding', { filePath: 'libs/config/src/x.ts', code: uses('@sere/torch') }, CYCLE],
];

const allowed: [string, Case][] = [
  ['wire imports augment', { filePath: 'libs/wire/src/x.ts', code: uses('@sere/augment') }],
  ['dataset imports config', { filePath: 'libs/dataset/src/x.ts', code: uses('@sere/config') }],
  ['stream imports dataset', { filePath: 'libs/stream/src/x.ts', code: uses('@sere/dataset') }],
  ['a spec imports a test double', { filePath: 'apps/data-service/src/x.spec.ts', code: uses('@sere/stream/testing') }],
  ['an end-to-end test imports a test double', { filePath: 'test/store/x.e2e.ts', code: uses('@sere/store/testing') }],
  ['the binding imports config', { filePath: 'libs/torch/src/x.ts', code: uses('@sere/config') }],
  ['store imports config', { filePath: 'libs/store/src/x.ts', code: uses('@sere/config') }],
  ['the data service imports dataset, stream and config', { filePath: 'apps/data-service/src/x.ts', code: uses('@sere/dataset', 'd') + uses('@sere/stream', 's') + uses('@sere/config', 'c') }],
  ['SERE imports the binding', { filePath: 'libs/sere/src/x.ts', code: uses('@sere/torch') }],
  ['eval imports SERE', { filePath: 'libs/eval/src/x.ts', code: uses('@sere/sere') }],
  ['the CLI starts a run through the run loop', { filePath: 'apps/cli/src/commands/x.ts', code: uses('@sere/train') }],
  ['the trainer app starts a run through the run loop', { filePath: 'apps/trainer/src/x.ts', code: uses('@sere/train') }],
  ['the run loop imports SERE', { filePath: 'libs/train/src/x.ts', code: uses('@sere/sere') }],
];

let results: Messages[];

beforeAll(() => {
  results = lint([...forbidden, ...allowed].map(([, c]) => c));
});

describe('forbidden imports are lint errors', () => {
  it.each(forbidden.map(([name, c, reason], i) => [name, c, reason, i] as const))('%s', (_name, c, reason, i) => {
    // The snippet uses what it imports, so only a boundary rule can object.
    const errors = results[i].filter((m) => m.severity === 2);
    expect({ filePath: c.filePath, errors: errors.length }).toEqual({ filePath: c.filePath, errors: 1 });
    expect(errors[0].message).toMatch(reason);
  });
});

describe('allowed imports pass', () => {
  it.each(allowed.map(([name, c], i) => [name, c, forbidden.length + i] as const))('%s', (_name, c, i) => {
    expect({ filePath: c.filePath, messages: results[i] }).toEqual({ filePath: c.filePath, messages: [] });
  });
});
