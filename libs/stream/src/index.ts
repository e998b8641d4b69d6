export { StreamUnavailableError } from './errors';
export { rankTopic, rankGroup, type ConsumerTransport, type ConsumerStartOptions, type ProducerTransport, type StreamMessage, type CommittedPosition, type CommitRequest } from './transport';
export { BatchConsumer, encodeCursor, decodeCursor, type Batch, type BatchConsumerOptions, type ConsumerEvent, type ConsumerStats, type Cursor } from './batch-consumer';
export {
  DataStreamer,
  type StreamerConfig,
  type StreamerMetrics,
  type StreamerLogger,
  type StreamerStatus,
  type StreamerState,
  type SampleMaker,
} from './streamer';
export { KafkaProducerTransport, KafkaConsumerTransport, kafkaClient, kafkaProbe, isBrokerUnreachable, type BrokerProbe, type KafkaSettings, type KafkaConsumerOptions } from './kafka';
