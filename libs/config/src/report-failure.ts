import { EXIT, exitCodeOf, type ExitCode } from './exit-codes';

/**
 * How an entry point (`sere`, apps/trainer) ends on an error: `program: message` on stderr
 * and the code the error carries. An error without a code is a bug: exit 1 with a hint, or
 * with SERE_DEBUG set it is rethrown so Node prints the stack trace. `more` follows the
 * message of an error with a code (the usage line after a usage error).
 */
export function reportFailure(program: string, e: unknown, more = ''): ExitCode {
  const code = exitCodeOf(e);
  if (code === undefined) {
    if (process.env.SERE_DEBUG) throw e;
    process.stderr.write(`${program}: ${(e as Error)?.message ?? String(e)}\n(set SERE_DEBUG=1 for a stack trace)\n`);
    return EXIT.failed;
  }
  process.stderr.write(`${program}: ${(e as Error).message}\n${more}`);
  return code;
}
