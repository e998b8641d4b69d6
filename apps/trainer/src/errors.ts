/** A run that cannot go on, with the message for the person who started it and the exit code. */
export class TrainingError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'TrainingError';
  }
}
