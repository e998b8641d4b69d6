/** The one interface the trainer and the eval service see; local folder and S3 implement it. */

export interface GetOptions {
  /**
   * 'required' (default): bytes without a stored checksum are refused as 'corrupt'.
   * 'if-present': verify when a checksum exists, otherwise return the bytes as they are;
   * for checkpoints made elsewhere (say, a PyTorch run). Logs are read with `readLog`.
   */
  verify?: 'required' | 'if-present';
  /**
   * With 'required': how the person running the program can accept such a file anyway (say,
   * the command-line flag that does), appended to the refusal. The store knows no flags.
   */
  uncheckedHint?: string;
}

export interface CheckpointStore {
  /** Where the store points: a folder path or an s3://bucket/prefix URL. */
  readonly root: string;

  /**
   * Stores `bytes` under `name` atomically: readers see the previous content or the new
   * one, never a mix, and a failed or interrupted put leaves the previous content readable.
   */
  put(name: string, bytes: Uint8Array): Promise<void>;

  /** The bytes under `name`, checked against the checksum stored with them. */
  get(name: string, options?: GetOptions): Promise<Buffer>;

  /** Names under `prefix` (relative to the root), sorted; the store's own files are hidden. */
  list(prefix?: string): Promise<string[]>;

  exists(name: string): Promise<boolean>;

  /**
   * What identifies the bytes under `name` without reading them, changing whenever they do:
   * `sha256:<hex>` recorded when they were put, else what the store knows (S3's ETag, a local
   * file's size and modification time). Null when there is no such name. A watcher compares
   * it between listings to tell a new checkpoint from one it has seen.
   */
  version(name: string): Promise<string | null>;

  /** Removes `name` and its checksum; removing a missing name is not an error. */
  delete(name: string): Promise<void>;

  /**
   * Appends text to a log such as log.txt. Local folders append in place (no checksum is
   * kept for logs). Object stores cannot append to an object, so a log there is a series of
   * segments (`name`, `name~000001`, ...): an append rewrites the last one while it stays
   * under a size bound, then starts the next, so what an append sends is bounded by that
   * bound plus the text, however long the log. One writer per log.
   */
  append(name: string, text: string): Promise<void>;

  /** The whole text of a log written by `append` (all its segments), or null if there is none. */
  readLog(name: string): Promise<Buffer | null>;

  /** Cuts a log back to its first `length` bytes (a resumed run drops lines past its checkpoint). */
  truncateLog(name: string, length: number): Promise<void>;

  /** The path or URL of `name`, for messages. */
  describe(name: string): string;
}
