/** One jest run over every project: unit specs beside the code, end-to-end tests in test/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.spec.json', diagnostics: false }],
  },
  moduleNameMapper: {
    // Apps by name resolve to their entry points, as in tsconfig.base.json (where the linter needs them to refuse such imports).
    '^@sere/(trainer|cli|data-service)$': '<rootDir>/apps/$1/src/main.ts',
    '^@sere/([^/]+)/testing$': '<rootDir>/libs/$1/src/testing',
    '^@sere/(.*)$': '<rootDir>/libs/$1/src',
  },
  testTimeout: 120000,
};
