import type { StreamerLogger } from '@sere/stream';

/** One JSON object per line on stdout: what log collectors in the cluster parse. */
export function jsonLogger(base: Record<string, unknown> = {}, write: (line: string) => void = (l) => process.stdout.write(l + '\n')): StreamerLogger {
  const emit = (level: string) => (msg: string, fields: Record<string, unknown> = {}) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }));
  return { info: emit('info'), warn: emit('warn') };
}
