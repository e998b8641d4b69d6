// Lint for the whole monorepo: typescript-eslint's recommended rules, plus the module
// boundaries of the architecture, checked by Nx from the tags in each project.json.
import nx from '@nx/eslint-plugin';
import { createProjectGraphAsync } from '@nx/devkit';
import tseslint from 'typescript-eslint';

// The boundary rule reads Nx's cached project graph and silently skips every check when
// there is none (a fresh clone) or judges by stale tags: build the graph on every lint run
// instead (about a second; in-process, no daemon left behind), and fail loudly if it can't.
process.env.NX_DAEMON ??= 'false';
await createProjectGraphAsync({ exitOnError: false });

// The architecture, one line per rule. Each project may import only projects that carry one
// of the listed tags; a project with several tags obeys every line that names one of them.
const depConstraints = [
  // Libs never import apps; apps import libs, not each other.
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  // The data path deploys without libtorch: what it imports must not load it either.
  { sourceTag: 'runtime:no-torch', onlyDependOnLibsWithTags: ['runtime:no-torch'] },
  // The tensor binding knows nothing of SERE: only the shared tables.
  { sourceTag: 'role:binding', onlyDependOnLibsWithTags: ['scope:shared'] },
  // The shared tables (flags, recipes, exit codes) import nothing of ours.
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: [] },
];
const boundaries = { allow: [], depConstraints };

// Import paths that reach a testing/ folder: by a lib's deep path or relatively.
const TEST_DOUBLES = ['**/testing', '**/testing/*'];
const TEST_DOUBLES_MESSAGE = 'test doubles (testing/) are for specs and tests, not for code that ships';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/build/**', '**/dist/**', '.cache/**', '.device/**', '.nx/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  { files: ['**/*.ts'], rules: { '@nx/enforce-module-boundaries': ['error', boundaries] } },
  // Test doubles live in each lib's src/testing/ (specs import them as `@sere/<lib>/testing`):
  // specs, end-to-end tests and benchmarks may use them, the code that ships never does.
  {
    files: ['libs/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.e2e.ts', '**/*.bench.ts', '**/testing/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: TEST_DOUBLES, message: TEST_DOUBLES_MESSAGE }] }] },
  },
);
