/**
 * What `sere <command> --help` prints: the usage line, what the command does, its options
 * and its exit codes. The codes and their meanings come from the one table (EXIT in
 * libs/config); a command words a code in its own terms where the general meaning is vague.
 */
import { formatExitCodes, type ExitName } from '@sere/config';

export interface CommandHelp {
  /** As typed after `sere`, e.g. `data scan`. */
  name: string;
  /** The synopsis without the leading `usage: `; also printed after a usage error. */
  usage: string;
  description?: string;
  options?: ReadonlyArray<readonly [flag: string, meaning: string]>;
  exits: ReadonlyArray<ExitName | readonly [ExitName, string]>;
}

/** The codes of every command that reads or writes a run's store (a folder or S3). */
export { STORE_EXITS } from '@sere/config';

export function exitSection(help: Pick<CommandHelp, 'exits'>): string {
  return `exit codes:\n${formatExitCodes(help.exits)}\n`;
}

export function formatCommandHelp(help: CommandHelp): string {
  const parts = [`usage: ${help.usage}\n`];
  if (help.description) parts.push(`${help.description}\n`);
  if (help.options?.length) {
    const width = Math.max(...help.options.map(([flag]) => flag.length));
    parts.push(`options:\n${help.options.map(([flag, meaning]) => `  ${flag.padEnd(width)}  ${meaning}`).join('\n')}\n`);
  }
  parts.push(exitSection(help));
  return parts.join('\n');
}
