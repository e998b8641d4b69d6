export { DataError } from './errors';
export { indexImageFolder, type DatasetIndex, type IndexEntry } from './image-folder';
export { EpochPlan, type PlanOptions, type Slot } from './epoch-plan';
export { scanDataset, formatScanReport, type ScanReport, type ScanOptions, type SkippedFile, type ConvertedFile } from './scan';
export { synthDataset, className, type SynthOptions, type SynthResult } from './synth';
export { drawPicture } from './draw';
export { rankTopic, rankGroup, type ConsumerTransport, type ProducerTransport, type StreamMessage, type CommittedPosition, type CommitRequest } from './transport';
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
export { KafkaProducerTransport, KafkaConsumerTransport, kafkaClient, type KafkaSettings } from './kafka';
export { mapLimit } from './pool';
