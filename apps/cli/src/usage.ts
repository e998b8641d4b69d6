import { EXIT, type ExitCoded } from '@sere/config';

/** A wrong command line: printed with the command's usage, exit code 2, never a stack trace. */
export class UsageError extends Error implements ExitCoded {
  readonly exitCode = EXIT.refused;
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}
