import type { GetOptions } from '@sere/store';

/** What a training run needs from a checkpoint store (local folder or S3; see libs/store). */
export interface RunStore {
  put(name: string, bytes: Buffer): Promise<void>;
  /** verify 'if-present' accepts files written elsewhere (no checksum alongside); see GetOptions. */
  get(name: string, options?: GetOptions): Promise<Buffer>;
  exists(name: string): Promise<boolean>;
  /** Appends to a log file (on object stores, to its last segment; see libs/store). */
  append(name: string, text: string): Promise<void>;
  /** A log's whole text (every segment), or null if there is none. */
  readLog(name: string): Promise<Buffer | null>;
  /** Cuts a log back to its first `length` bytes. */
  truncateLog(name: string, length: number): Promise<void>;
  /** Where `name` lives, for messages (a path or an s3:// URL). */
  describe(name: string): string;
}
