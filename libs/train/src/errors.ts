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

/**
 * The training worker's collectives failed: a rank died, never came, or the rendezvous broke
 * (the binding's COLLECTIVE_ERROR_CODE). This rank cannot go on, a restart of the group can.
 */
export class GroupFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GroupFailure';
  }
}
