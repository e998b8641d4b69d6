export { runTraining, TrainingError, type RunOptions, type RunResult } from './run-training';
export type { RunStore } from './run-store';
export { LocalSource } from './local-source';
export { KafkaSource, type KafkaSourceOptions, type ViewShape } from './kafka-source';
export type { BatchSource, SourceBatch, SourceFactory, StartPosition } from './batch-source';
