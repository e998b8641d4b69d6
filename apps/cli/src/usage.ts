/** A wrong command line: printed with the command's usage, exit code 2, never a stack trace. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}
