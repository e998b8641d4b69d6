/**
 * Which kafkajs failures count as "the broker is not there" (callers exit with
 * "unavailable" and say so) and which are refusals to report as they are. The transports
 * themselves are tested against a real broker in test/data.
 */
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { DataError } from '@sere/dataset';
import { StreamUnavailableError } from './errors';
import { isBrokerUnreachable } from './kafka';

describe('isBrokerUnreachable', () => {
  it('recognises a refused or dropped connection, also behind kafkajs\' retry wrapper', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:19092');
    expect(isBrokerUnreachable(refused)).toBe(true);
    expect(isBrokerUnreachable(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 6, retryTime: 3000 }))).toBe(true);
    expect(isBrokerUnreachable(new DataError('reading the offsets of group g: Connection error: connect ECONNREFUSED 127.0.0.1:19092'))).toBe(true);
    expect(isBrokerUnreachable(new StreamUnavailableError('broker-lost', 'reading t: Closed connection'))).toBe(true);
  });

  it('leaves refusals and a missing topic to be reported as they are', () => {
    expect(isBrokerUnreachable(new KafkaJSProtocolError('The group member needs to have a valid member id'))).toBe(false);
    expect(isBrokerUnreachable(new DataError('topic t has 2 partitions but the job runs 3 replicas'))).toBe(false);
    expect(isBrokerUnreachable(new StreamUnavailableError('no-topic', 'topic t did not appear within 60000 ms'))).toBe(false);
  });
});
