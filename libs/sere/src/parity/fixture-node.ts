/**
 * Reads a parsed fixture file field by field, carrying the path of each field, so that a
 * malformed file (a field missing, of the wrong kind, a tensor whose data, shape or dtype
 * is wrong) fails with a message naming the field instead of a TypeError deep in a check.
 *
 * Why not a JSON-schema validator (ajv) or zod: the checks read the fields as they go, and a
 * schema would be a second, complete description of six files to keep in step with them;
 * it could not say either that a tensor's nesting depth follows its own `shape`, or that an
 * input's shape follows the file's config. A reader that every check goes through covers
 * every field it reads, and nothing else.
 */

export class FixtureError extends Error {
  override name = 'FixtureError';
}

export const DTYPES = ['float32', 'float64', 'bool', 'int64'] as const;
export type Dtype = (typeof DTYPES)[number];

/** A validated tensor of the fixture encoding {dtype, shape, data}; `values` is data flattened row-major. */
export interface FixtureTensor {
  dtype: Dtype;
  shape: number[];
  data: unknown;
  /** Where it was read (e.g. `inputs.masks[0]`). */
  path: string;
  values: number[];
}

export interface TensorSpec {
  /** Accepted dtypes (default: any of DTYPES). */
  dtype?: Dtype | readonly Dtype[];
  /** Expected shape; null leaves that dimension free. */
  shape?: ReadonlyArray<number | null>;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  return String(v);
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function childPath(path: string, key: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
  if (!path) return plain ? key : `[${JSON.stringify(key)}]`;
  return plain ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export class FixtureNode {
  constructor(
    readonly value: unknown,
    readonly path = '',
  ) {}

  fail(expected: string): never {
    throw new FixtureError(`${this.path || 'the file'}: expected ${expected}, got ${describe(this.value)}`);
  }

  private pick(key?: string): FixtureNode {
    return key === undefined ? this : this.at(key);
  }

  /** The field `key`, which must be present (it may be null). */
  at(key: string): FixtureNode {
    if (!isObject(this.value)) this.fail(`an object with the field '${key}'`);
    const path = childPath(this.path, key);
    if (!(key in this.value)) throw new FixtureError(`${path}: missing`);
    return new FixtureNode(this.value[key], path);
  }

  /** True when `key` is present and not null. */
  has(key: string): boolean {
    return isObject(this.value) && this.value[key] !== undefined && this.value[key] !== null;
  }

  /** The field `key`, or null when it is absent or null (optional fields). */
  opt(key: string): FixtureNode | null {
    return this.has(key) ? this.at(key) : null;
  }

  list(key?: string): FixtureNode[] {
    const n: FixtureNode = this.pick(key);
    if (!Array.isArray(n.value)) n.fail('a list');
    return n.value.map((v, i) => new FixtureNode(v, `${n.path}[${i}]`));
  }

  /** An object's fields in file order (name → tensor maps, per-case records). */
  entries(key?: string): [string, FixtureNode][] {
    const n: FixtureNode = this.pick(key);
    if (!isObject(n.value)) n.fail('an object');
    return Object.keys(n.value).map((k) => [k, new FixtureNode((n.value as Record<string, unknown>)[k], childPath(n.path, k))]);
  }

  num(key?: string): number {
    const n: FixtureNode = this.pick(key);
    if (typeof n.value !== 'number' || !Number.isFinite(n.value)) n.fail('a number');
    return n.value;
  }

  /** A non-negative integer (sizes, counts, epochs, indices). */
  int(key?: string): number {
    const n: FixtureNode = this.pick(key);
    if (!Number.isSafeInteger(n.value) || (n.value as number) < 0) n.fail('a non-negative integer');
    return n.value as number;
  }

  /** A positive integer (dimensions). */
  dim(key?: string): number {
    const n: FixtureNode = this.pick(key);
    if (!Number.isSafeInteger(n.value) || (n.value as number) < 1) n.fail('a positive integer');
    return n.value as number;
  }

  bool(key?: string): boolean {
    const n: FixtureNode = this.pick(key);
    if (typeof n.value !== 'boolean') n.fail('true or false');
    return n.value;
  }

  str(key?: string): string {
    const n: FixtureNode = this.pick(key);
    if (typeof n.value !== 'string') n.fail('a string');
    return n.value;
  }

  strs(key?: string): string[] {
    return this.list(key).map((n) => n.str());
  }

  nums(key?: string): number[] {
    return this.list(key).map((n) => n.num());
  }

  tensor(key?: string, spec: TensorSpec = {}): FixtureTensor {
    return readTensor(this.pick(key), spec);
  }

  tensors(key?: string, spec: TensorSpec = {}): FixtureTensor[] {
    return this.list(key).map((n) => readTensor(n, spec));
  }
}

function readTensor(n: FixtureNode, spec: TensorSpec): FixtureTensor {
  if (!isObject(n.value) || !('dtype' in n.value) || !('shape' in n.value) || !('data' in n.value)) {
    n.fail('a tensor {dtype, shape, data}');
  }
  const dtype = n.at('dtype').str() as Dtype;
  if (!DTYPES.includes(dtype)) throw new FixtureError(`${n.path}.dtype: '${dtype}' is not one of ${DTYPES.join(', ')}`);
  const allowed = spec.dtype === undefined ? null : typeof spec.dtype === 'string' ? [spec.dtype] : spec.dtype;
  if (allowed && !allowed.includes(dtype)) throw new FixtureError(`${n.path}.dtype: ${dtype}, expected ${allowed.join(' or ')}`);
  const shape = n.at('shape').list().map((d) => d.int());
  if (spec.shape && (spec.shape.length !== shape.length || spec.shape.some((d, i) => d !== null && d !== shape[i]))) {
    const want = spec.shape.map((d) => (d === null ? '*' : d)).join(', ');
    throw new FixtureError(`${n.path}.shape: [${shape.join(', ')}], expected [${want}] (from the file's config)`);
  }
  const values: number[] = [];
  const leaf = (v: unknown, where: string): number => {
    if (dtype === 'bool') {
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (v === 0 || v === 1) return v;
      throw new FixtureError(`${where}: ${describe(v)} is not a bool`);
    }
    if (typeof v !== 'number') throw new FixtureError(`${where}: ${describe(v)} is not a number (dtype ${dtype})`);
    if (dtype === 'int64' && !Number.isInteger(v)) throw new FixtureError(`${where}: ${v} is not an integer (dtype int64)`);
    return v;
  };
  const walk = (v: unknown, depth: number, where: string): void => {
    if (depth === shape.length) {
      values.push(leaf(v, where));
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new FixtureError(`${where}: ${describe(v)} where shape [${shape.join(', ')}] needs a list of ${shape[depth]} (depth ${depth})`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${where}[${i}]`);
  };
  walk(n.value.data, 0, `${n.path}.data`);
  return { dtype, shape, data: n.value.data, path: n.path, values };
}

/**
 * Runs one check of a record (a case, a recipe, a head) so that an error the record's values
 * cause further down (an operator refusing inconsistent shapes, a schedule refusing its
 * lengths) names the record it came from.
 */
export function within<R>(n: FixtureNode, what: string, fn: () => R): R {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FixtureError) throw e;
    throw new FixtureError(`${n.path || 'the file'}: ${what} failed: ${(e as Error)?.message ?? String(e)}`);
  }
}
