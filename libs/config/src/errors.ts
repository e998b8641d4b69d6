import { EXIT, type ExitCoded } from './exit-codes';

/**
 * The one error a user sees for a bad command line: it names the flag, the value and what
 * would be valid. The CLI prints `message` alone, never a stack trace.
 */
export class FlagError extends Error implements ExitCoded {
  override readonly name = 'FlagError';
  readonly exitCode = EXIT.refused;

  constructor(
    message: string,
    /** The flag as the user typed it (e.g. `--batch-size`), when one is to blame. */
    readonly flag?: string,
    /** Valid flag names closest to an unknown one, best first. */
    readonly suggestions: readonly string[] = [],
  ) {
    super(message);
  }
}
