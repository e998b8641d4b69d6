export { DataError, StreamUnavailableError } from './errors';
export { indexImageFolder, type DatasetIndex, type IndexEntry } from './image-folder';
export { EpochPlan, type PlanOptions, type Slot } from './epoch-plan';
export { scanDataset, formatScanReport, type ScanReport, type ScanOptions, type SkippedFile, type ConvertedFile } from './scan';
export { synthDataset, className, type SynthOptions, type SynthResult } from './synth';
export { drawPicture, PICTURE_STYLES, SHAPES, type PictureStyle } from './draw';
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
export { FakeBroker, FakeConsumerTransport, FakeProducerTransport } from './fake-broker';
export { KafkaProducerTransport, KafkaConsumerTransport, kafkaClient, kafkaProbe, isBrokerUnreachable, type BrokerProbe, type KafkaSettings, type KafkaConsumerOptions } from './kafka';
export { mapLimit } from './pool';
