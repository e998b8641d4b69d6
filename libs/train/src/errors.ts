import { type ExitCode, type ExitCoded } from '@sere/config';

/** A run that cannot go on, with the message for the person who started it and the exit code (EXIT in libs/config). */
export class TrainingError extends Error implements ExitCoded {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'TrainingError';
  }
}
