import { EXIT, type ExitCoded } from '@sere/config';

/** A problem with the dataset or the stream configuration, phrased for the person who runs the job. */
export class DataError extends Error implements ExitCoded {
  override readonly name = 'DataError';
  readonly exitCode = EXIT.refused;
}
