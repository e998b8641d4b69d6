/**
 * Test doubles of @sere/store, imported by specs as `@sere/store/testing`. Not part of the
 * library's exports: production code never reaches them (eslint.config.mjs refuses it).
 */
export { FaultFs, SimulatedCrash, type FaultRule, type FaultAction } from './fault-fs';
export { makeTestCa, type TestCa } from './tls';
