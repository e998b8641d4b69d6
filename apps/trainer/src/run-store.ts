/** What a training run needs from a checkpoint store (local folder or S3; see libs/store). */
export interface RunStore {
  put(name: string, bytes: Buffer): Promise<void>;
  /** verify 'if-present' accepts files written elsewhere (no checksum alongside). */
  get(name: string, options?: { verify?: 'required' | 'if-present' }): Promise<Buffer>;
  exists(name: string): Promise<boolean>;
  /** Appends to a log file (read-modify-write on object stores). */
  append(name: string, text: string): Promise<void>;
  /** Where `name` lives, for messages (a path or an s3:// URL). */
  describe(name: string): string;
}
