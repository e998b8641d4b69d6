/**
 * Every exit code of `sere`, in one table, so that a script around it can tell a typo from
 * a full disk or a broker that is down. Codes from 64 on follow sysexits.h. Errors carry
 * their code in an `exitCode` field (see ExitCoded); the command line maps an error to its
 * code by that field alone, and each command's `--help` lists its codes from this table.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  refused: 2,
  diverged: 3,
  usage: 64,
  corrupt: 65,
  notFound: 66,
  unavailable: 69,
  noSpace: 73,
  io: 74,
  permission: 77,
  interrupted: 130,
} as const;

export type ExitName = keyof typeof EXIT;
export type ExitCode = (typeof EXIT)[ExitName];

/** The codes of every command that reads or writes a run's store (a folder or S3). */
export const STORE_EXITS: readonly ExitName[] = ['usage', 'corrupt', 'notFound', 'unavailable', 'noSpace', 'io', 'permission'];

/** The codes of a training run, whichever entry point starts it (`sere train`, apps/trainer). */
export const TRAIN_EXITS: readonly ExitName[] = ['ok', 'failed', 'refused', 'diverged', ...STORE_EXITS, 'interrupted'];

/** What each code means wherever it appears; a command's help may say it in its own terms. */
export const EXIT_MEANING: Readonly<Record<ExitName, string>> = {
  ok: 'success',
  failed: 'an unexpected error (SERE_DEBUG=1 prints its stack trace)',
  refused: 'refused: a bad flag, value, file or folder; the message names it',
  diverged: 'the training loss became NaN or infinite',
  usage: 'a store setting or name the store refuses (EX_USAGE): an S3 endpoint, bucket or key; a file where a folder should be',
  corrupt: 'a checkpoint or checksum is damaged or truncated (EX_DATAERR)',
  notFound: 'a file or object the store should hold is missing (EX_NOINPUT)',
  unavailable: 'a service is unreachable (Kafka broker, data service, S3 endpoint); run the same command again once it is up (EX_UNAVAILABLE)',
  noSpace: 'the disk is full (EX_CANTCREAT); the last checkpoint is intact',
  io: 'an input/output error of the store (EX_IOERR)',
  permission: 'permission denied by the file system or the store (EX_NOPERM)',
  interrupted: 'interrupted twice (Ctrl-C); the last saved checkpoint is intact',
};

/** An error that says which exit code the process should end with. */
export interface ExitCoded {
  readonly exitCode: ExitCode;
}

const CODES: ReadonlySet<number> = new Set(Object.values(EXIT));

/**
 * The exit code an error carries, or undefined for an unexpected one. The field is read
 * rather than the class tested because errors from the training worker thread arrive as
 * copies (plain Errors with the original's name, message and code).
 */
export function exitCodeOf(e: unknown): ExitCode | undefined {
  const code = (e as { exitCode?: unknown } | null)?.exitCode;
  return typeof code === 'number' && CODES.has(code) ? (code as ExitCode) : undefined;
}

/** One line per code for a command's help: its number and what it means for that command. */
export function formatExitCodes(entries: ReadonlyArray<ExitName | readonly [ExitName, string]>): string {
  return entries
    .map((entry) => {
      const [name, meaning] = typeof entry === 'string' ? [entry, EXIT_MEANING[entry]] : entry;
      return `  ${String(EXIT[name]).padEnd(4)} ${meaning}`;
    })
    .join('\n');
}
