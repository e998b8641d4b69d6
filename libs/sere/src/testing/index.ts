// Test doubles for other projects' specs and benchmarks, imported as '@sere/sere/testing':
// kept out of the production exports of '@sere/sere'.
export * from './synthetic';
export * from './tiny-trainer';
