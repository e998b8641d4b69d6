export type { CheckpointStore, GetOptions } from './store';
export { StoreError, isStoreError, EXIT_CODES, type StoreErrorKind, type StoreOperation } from './errors';
export { LocalStore } from './local-store';
export { nodeFs, type FsLayer, type FileHandleLike } from './fs-layer';
export { S3Store, METADATA_KEY, type S3StoreOptions } from './s3-store';
export { parseEndpoint, redactEndpoint, type Endpoint } from './endpoint';
export { openStore, type OpenStoreOptions } from './open-store';
export { DEFAULT_RETRY, withRetry, RetriesExhausted, type RetryPolicy } from './retry';
export { sha256Hex } from './checksum';
export {
  RESUME_CHECKPOINT,
  checkpointName,
  checkpointEpoch,
  listCheckpoints,
  loadLatestCheckpoint,
  type CheckpointListing,
  type LoadedCheckpoint,
} from './checkpoints';
