/**
 * Where images come from (--data / --data_path) and where checkpoints go
 * (--store / --output_dir): the syntax of both, checked at parse time so that a typo in a
 * URL fails before a run starts rather than an hour into it.
 */
import type { SereConfig } from './types';

export type DataSource =
  | { kind: 'folder'; path: string }
  | { kind: 'kafka'; brokers: string[]; topic: string };

export type StoreLocation = { kind: 'local'; path: string } | { kind: 's3'; bucket: string; prefix: string };

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
// Kafka's own rule for topic names.
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
// S3 bucket naming rules (lower case, 3–63 characters, no leading/trailing dot or dash).
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses a data source; throws an Error whose message says what is wrong (no flag name). */
export function parseDataSource(text: string): DataSource {
  const scheme = SCHEME.exec(text)?.[1].toLowerCase();
  if (scheme === undefined) return { kind: 'folder', path: text };
  if (scheme !== 'kafka') {
    throw new Error(`'${text}' is neither a local folder nor kafka://host:port/topic`);
  }
  const rest = text.slice('kafka://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0) throw new Error(`'${text}' has no topic; expected kafka://host:port/topic`);
  const brokers = rest.slice(0, slash).split(',');
  const topic = rest.slice(slash + 1);
  for (const broker of brokers) checkHostPort(broker, text);
  if (!KAFKA_TOPIC.test(topic)) {
    throw new Error(`'${text}': topic '${topic}' must be 1–249 characters of letters, digits, '.', '_' or '-'`);
  }
  return { kind: 'kafka', brokers, topic };
}

/** Parses a checkpoint store; throws an Error whose message says what is wrong (no flag name). */
export function parseStoreLocation(text: string): StoreLocation {
  const scheme = SCHEME.exec(text)?.[1].toLowerCase();
  if (scheme === undefined) return { kind: 'local', path: text };
  if (scheme !== 's3') throw new Error(`'${text}' is neither a local folder nor s3://bucket/prefix`);
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  // Keys in the URL would be echoed in messages and saved in config.json; never repeat them.
  if (bucket.includes('@')) {
    throw new Error('s3:// URL carries credentials; write s3://bucket/prefix and set SERE_S3_ACCESS_KEY and SERE_S3_SECRET_KEY in the environment');
  }
  if (!S3_BUCKET.test(bucket) || bucket.includes('..')) {
    throw new Error(
      `'${text}': bucket '${bucket}' must be 3–63 characters of lower-case letters, digits, '.' or '-'`,
    );
  }
  return { kind: 's3', bucket, prefix };
}

/** The run's image source: --data if given, else --data_path. */
export function dataSource(config: Pick<SereConfig, 'data' | 'data_path'>): DataSource {
  return parseDataSource(config.data ?? config.data_path);
}

/** The run's checkpoint store: --store if given, else --output_dir. */
export function storeLocation(config: Pick<SereConfig, 'store' | 'output_dir'>): StoreLocation {
  return parseStoreLocation(config.store ?? config.output_dir);
}

function checkHostPort(broker: string, text: string): void {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(broker);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new Error(`'${text}': broker '${broker}' is not host:port (port 1–65535)`);
  }
}
