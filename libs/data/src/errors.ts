/** A problem with the dataset or the stream configuration, phrased for the person who runs the job. */
export class DataError extends Error {
  override readonly name = 'DataError';
}
