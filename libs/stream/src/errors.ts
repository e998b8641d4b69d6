import { EXIT, type ExitCoded } from '@sere/config';

/**
 * The stream cannot be read now: the broker cannot be reached or went away, or the data
 * service has not created the topic. Nothing about the job is wrong; the same command may
 * succeed once the broker or the data service is up, so callers exit with "unavailable".
 */
export class StreamUnavailableError extends Error implements ExitCoded {
  override readonly name = 'StreamUnavailableError';
  readonly exitCode = EXIT.unavailable;
  constructor(
    readonly reason: 'broker-unreachable' | 'broker-lost' | 'no-topic',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
