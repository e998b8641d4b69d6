/**
 * Settings of a long-running service (the data service, the eval service): each option a
 * flag (`--name value` or `--name=value`) or an environment variable, the flag winning, with
 * a default. Values are read through typed getters that fail at start, naming the flag and
 * its variable, so a typo never surfaces deep in a run.
 */
export interface ServiceOption {
  env: string;
  help: string;
  default?: string;
}

/** A bad setting: the service prints the message and exits 2 before it starts. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface ServiceSettings {
  /** The value as given (flag, else variable, else default). */
  raw(name: string): string | undefined;
  /** How messages name an option: `--name / VARIABLE`. */
  where(name: string): string;
  /** A required string. */
  str(name: string): string;
  /** An integer >= min; `fallback` where it is not given. */
  int(name: string, min: number, fallback?: number): number;
}

export interface ServiceSettingsOptions {
  /** A flag of this service, for the message about a stray argument (e.g. `--ranks 8`). */
  example: string;
  /** Also accept a flag with '-' where the option has '_' (or the reverse). */
  normalise?: (flag: string) => string;
}

export function serviceSettings(options: Record<string, ServiceOption>, argv: string[], env: NodeJS.ProcessEnv, o: ServiceSettingsOptions): ServiceSettings {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument '${a}' (flags look like ${o.example})`);
    const [given, inline] = a.slice(2).split('=', 2);
    const name = o.normalise ? o.normalise(given) : given;
    if (!(name in options)) throw new ConfigError(`unknown flag --${given}; see --help`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`flag --${given} needs a value`);
    flags.set(name, value);
  }
  const raw = (name: string) => flags.get(name) ?? env[options[name].env] ?? options[name].default;
  const where = (name: string) => `--${name} / ${options[name].env}`;
  return {
    raw,
    where,
    str(name) {
      const v = raw(name);
      if (v === undefined || v === '') throw new ConfigError(`${where(name)} is required: ${options[name].help}`);
      return v;
    },
    int(name, min, fallback) {
      const v = raw(name);
      if ((v === undefined || v === '') && fallback !== undefined) return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new ConfigError(`${where(name)} must be an integer >= ${min}, got '${v}'`);
      return n;
    },
  };
}
