/**
 * Test doubles of @sere/stream, imported by specs as `@sere/stream/testing`. Not part of the
 * library's exports: production code never reaches them (eslint.config.mjs refuses it).
 */
export { FakeBroker, FakeConsumerTransport, FakeProducerTransport } from './fake-broker';
export { closedPort } from './closed-port';
