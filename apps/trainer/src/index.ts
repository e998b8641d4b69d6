export { runTraining, TrainingError, type RunOptions, type RunResult } from './run-training';
export type { RunStore } from './run-store';
export { LocalSource } from './local-source';
