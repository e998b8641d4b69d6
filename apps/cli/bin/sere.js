#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx registers the loader for this process).
require('tsx/cjs');
require('../src/main.ts')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
