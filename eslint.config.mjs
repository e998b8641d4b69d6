// Lint for the whole monorepo: typescript-eslint's recommended rules, plus the module
// boundaries of the architecture (libs never import apps; the data path never loads libtorch).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/build/**', '**/dist/**', '.cache/**', '.device/**', '.nx/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@sere/cli', '@sere/data-service', '@sere/trainer', '@sere/eval-service', '**/apps/**'], message: 'libs never import apps' }] }],
    },
  },
  {
    files: ['libs/augment/**/*.ts', 'libs/wire/**/*.ts', 'libs/data/**/*.ts', 'apps/data-service/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@sere/torch', '@sere/sere'], message: 'the data path must deploy without libtorch' }] }],
    },
  },
);
