// A training run: the run loop (run-training.ts) feeds batches from a source (local folder or
// Kafka), runs steps on a worker thread (worker/), and writes progress, the run log and
// checkpoints to a run store.
export { runTraining, TrainingError, type RunOptions, type RunResult } from './run-training';
export type { RunStore } from './run-store';
export { RunLog } from './run-log';
export { openRunStore } from './open-run-store';
export { trainCommand, type TrainCommandOptions } from './train-command';
export { LocalSource } from './local-source';
export { KafkaSource, type KafkaSourceOptions, type ViewShape } from './kafka-source';
export type { BatchSource, SourceBatch, SourceFactory, StartPosition } from './batch-source';
export * from './worker/step-worker';
export type { GroupOptions, ResumePosition } from './worker/protocol';
export { rendezvousFrom, DEFAULT_MASTER_PORT, type Rendezvous } from './rendezvous';
export { launch, parseLaunchArgs, LAUNCH_DEFAULTS, LaunchUsageError, type LaunchOptions } from './launch';
