/**
 * The allow-list of Python globals a checkpoint may name, and what each stands for as plain data.
 * Nothing is looked up dynamically: a global absent from this table stops the read.
 */
import { GatherAllowance, materialize } from './strided';
import { DTYPES, PthDType, PthTensor, isPthTensor } from './types';
import { UnpickleHost, kindOf } from './unpickle';

type Fail = (detail: string) => never;

/** What a call may draw on beyond its arguments: the read's allowance for gathered bytes. */
export interface ReadLimits {
  gather: GatherAllowance;
}

/** A global from the allow-list, with what REDUCE (call) and NEWOBJ (construct) mean for it. */
export class AllowedGlobal {
  constructor(
    readonly qualname: string,
    readonly call?: (args: unknown[], fail: Fail, limits: ReadLimits) => unknown,
    readonly construct?: (args: unknown[], fail: Fail, limits: ReadLimits) => unknown,
  ) {}
}

/** torch.<X>Storage: only meaningful inside a persistent id. */
export class StorageType {
  constructor(
    readonly qualname: string,
    readonly dtype: PthDType,
  ) {}
}

/** A storage record from data/, typed by the persistent id that named it. */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: PthDType,
    readonly bytes: Buffer,
  ) {}
}

/** argparse.Namespace: its attributes arrive through BUILD. */
export class NamespaceObject {
  readonly attributes = new Map<unknown, unknown>();
}

const DICT_CLASS = 'collections.OrderedDict';
const TENSOR_TYPES = new Set(['torch.Tensor', 'torch.nn.parameter.Parameter']);
const OBJECT_TYPES = new Set(['builtins.object', '__builtin__.object']);

function registry(): Map<string, unknown> {
  const r = new Map<string, unknown>();
  const add = (g: AllowedGlobal): void => void r.set(g.qualname, g);
  const aliases = (name: string, make: (q: string) => AllowedGlobal): void => {
    add(make(`builtins.${name}`));
    add(make(`__builtin__.${name}`)); // protocol 2 writes Python 2 module names
  };

  const orderedDict = (args: unknown[], fail: Fail): Map<unknown, unknown> => {
    const m = new Map<unknown, unknown>();
    if (args.length === 0) return m;
    if (args.length !== 1 || !Array.isArray(args[0])) fail(`${DICT_CLASS} expects () or (items,)`);
    for (const pair of args[0] as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) fail(`${DICT_CLASS} items must be (key, value) pairs`);
      m.set(pair[0], pair[1]);
    }
    return m;
  };
  add(new AllowedGlobal(DICT_CLASS, orderedDict, orderedDict));

  const set = (args: unknown[], fail: Fail): unknown[] => {
    if (args.length === 0) return [];
    if (args.length !== 1 || !Array.isArray(args[0])) fail('set expects () or (items,)');
    return [...(args[0] as unknown[])];
  };
  aliases('set', (q) => new AllowedGlobal(q, set));
  aliases('frozenset', (q) => new AllowedGlobal(q, set));
  aliases('object', (q) => new AllowedGlobal(q));

  // Protocol 2 has no bytes opcode: CPython pickles bytes as _codecs.encode(latin-1 text, 'latin1').
  add(
    new AllowedGlobal('_codecs.encode', (args, fail) => {
      const [text, encoding] = args;
      if (typeof text !== 'string' || typeof encoding !== 'string') return fail('_codecs.encode expects (str, encoding)');
      const enc = encoding.toLowerCase().replace(/[-_]/g, '');
      if (enc === 'latin1') return Buffer.from(text, 'latin1');
      if (enc === 'utf8') return Buffer.from(text, 'utf8');
      return fail(`_codecs.encode with encoding '${encoding}' is not supported`);
    }),
  );

  const namespace = (): NamespaceObject => new NamespaceObject();
  add(new AllowedGlobal('argparse.Namespace', namespace, namespace));

  const reconstructor = (args: unknown[], fail: Fail, limits: ReadLimits): unknown => {
    const [cls, base, state] = args;
    if (!(cls instanceof AllowedGlobal) || !cls.construct) fail(`copyreg._reconstructor of ${describe(cls)}`);
    if (!(base instanceof AllowedGlobal) || !OBJECT_TYPES.has(base.qualname) || state !== null) {
      fail('copyreg._reconstructor is only supported with base object and no state');
    }
    return cls.construct([], fail, limits);
  };
  add(new AllowedGlobal('copyreg._reconstructor', reconstructor));
  add(new AllowedGlobal('copy_reg._reconstructor', reconstructor));

  add(new AllowedGlobal('torch._utils._rebuild_tensor_v2', rebuildTensor));
  add(new AllowedGlobal('torch._utils._rebuild_tensor', rebuildTensor));
  const rebuildParameter = (args: unknown[], fail: Fail): PthTensor => {
    const [data, requiresGrad] = args;
    if (!isPthTensor(data)) fail(`_rebuild_parameter expects a tensor, got a ${kindOf(data)}`);
    return { ...data, requiresGrad: requiresGrad === true };
  };
  add(new AllowedGlobal('torch._utils._rebuild_parameter', rebuildParameter));
  add(new AllowedGlobal('torch._utils._rebuild_parameter_with_state', rebuildParameter));
  add(
    new AllowedGlobal('torch._tensor._rebuild_from_type_v2', (args, fail, limits) => {
      const [fn, type, fnArgs] = args;
      if (!(type instanceof AllowedGlobal) || !TENSOR_TYPES.has(type.qualname)) {
        fail(`_rebuild_from_type_v2 to ${describe(type)} is not supported`);
      }
      if (!(fn instanceof AllowedGlobal) || !fn.call || !Array.isArray(fnArgs)) return fail('malformed _rebuild_from_type_v2');
      return fn.call(fnArgs, fail, limits);
    }),
  );
  for (const q of TENSOR_TYPES) add(new AllowedGlobal(q));

  add(
    new AllowedGlobal('torch.Size', (args, fail) => {
      if (args.length !== 1 || !Array.isArray(args[0])) fail('torch.Size expects (sizes,)');
      return [...(args[0] as unknown[])];
    }),
  );
  add(
    new AllowedGlobal('torch.device', (args, fail) => {
      const [type, index] = args;
      if (typeof type !== 'string' || (index !== undefined && index !== null && typeof index !== 'number')) {
        fail('torch.device expects (type[, index])');
      }
      return typeof index === 'number' ? `${type}:${index}` : type;
    }),
  );

  for (const [dtype, info] of Object.entries(DTYPES) as [PthDType, (typeof DTYPES)[PthDType]][]) {
    r.set(`torch.${dtype}`, dtype); // a torch.dtype pickles as the global torch.<name>
    for (const module of ['torch', 'torch.cuda']) {
      r.set(`${module}.${info.storageClass}`, new StorageType(`${module}.${info.storageClass}`, dtype));
    }
  }
  r.set('torch.UntypedStorage', new StorageType('torch.UntypedStorage', 'uint8'));
  return r;
}

const REGISTRY = registry();

function rebuildTensor(args: unknown[], fail: Fail, limits: ReadLimits): PthTensor {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!(storage instanceof StorageRef)) return fail(`tensor rebuilt from a ${kindOf(storage)}, expected a storage`);
  const where = `tensor on storage '${storage.key}'`;
  if (!isCount(offset)) fail(`${where}: storage offset ${String(offset)} is not a non-negative integer`);
  if (!Array.isArray(size) || !size.every(isCount)) fail(`${where}: size is not a tuple of non-negative integers`);
  if (!Array.isArray(stride) || !stride.every(isCount) || stride.length !== size.length) {
    fail(`${where}: stride is not a tuple of ${size.length} non-negative integers`);
  }
  const data = materialize(
    storage.bytes,
    DTYPES[storage.dtype].itemSize,
    offset,
    size,
    stride,
    (d) => fail(`${where}: ${d}`),
    limits.gather,
  );
  return { dtype: storage.dtype, shape: [...size], data, requiresGrad: requiresGrad === true };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function describe(v: unknown): string {
  if (v instanceof AllowedGlobal || v instanceof StorageType) return v.qualname;
  return `a ${kindOf(v)}`;
}

function forbiddenHint(qualname: string): string {
  if (qualname === 'torch.storage._load_from_bytes') {
    return ': storages are embedded in the legacy way; re-save with torch.save(..., _use_new_zipfile_serialization=True)';
  }
  if (qualname.startsWith('torch.nn.')) return ': this looks like torch.save(model); save model.state_dict() instead';
  if (qualname.startsWith('numpy.')) return ': convert numpy values to Python numbers or tensors before saving';
  return '';
}

/** Host for torch.save pickles: storages come from `loadStorage(key)` (the record data/<key>). */
export class TorchHost implements UnpickleHost {
  private readonly records = new Map<string, Buffer>();
  private readonly storages = new Map<string, StorageRef>();

  constructor(
    private readonly loadStorage: (key: string) => Buffer,
    private readonly fail: Fail,
    private readonly limits: ReadLimits,
  ) {}

  global(module: string, name: string): unknown {
    const qualname = `${module}.${name}`;
    if (REGISTRY.has(qualname)) return REGISTRY.get(qualname);
    return this.fail(
      `global '${qualname}' is not allowed; a checkpoint may hold tensors, OrderedDict, argparse.Namespace ` +
        `and plain Python values only, and nothing in it is executed${forbiddenHint(qualname)}`,
    );
  }

  call(fn: unknown, args: unknown[]): unknown {
    if (fn instanceof AllowedGlobal && fn.call) return fn.call(args, this.fail, this.limits);
    return this.fail(`cannot call ${describe(fn)}`);
  }

  construct(cls: unknown, args: unknown[]): unknown {
    if (cls instanceof AllowedGlobal && cls.construct) return cls.construct(args, this.fail, this.limits);
    return this.fail(`cannot instantiate ${describe(cls)}`);
  }

  build(obj: unknown, state: unknown): void {
    if (obj instanceof NamespaceObject) {
      if (!(state instanceof Map)) this.fail(`argparse.Namespace state is a ${kindOf(state)}, expected a dict`);
      for (const [k, v] of state) obj.attributes.set(k, v);
      return;
    }
    // An OrderedDict's state is its instance attributes (a state dict's `_metadata`), not items.
    if (obj instanceof Map) return;
    this.fail(`cannot set the state of ${describe(obj)}`);
  }

  persistentLoad(pid: unknown): StorageRef {
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
      return this.fail(`persistent id (a ${kindOf(pid)}) is not a ('storage', type, key, location, numel) tuple`);
    }
    const [, type, key, , numel] = pid;
    if (!(type instanceof StorageType)) return this.fail(`persistent id names ${describe(type)}, expected a torch storage class`);
    if (typeof key !== 'string' || !isCount(numel)) return this.fail(`malformed persistent id for storage ${String(key)}`);
    // One record may back views of several dtypes (torch >= 2 saves untyped storages).
    const id = `${key}\0${type.dtype}`;
    const seen = this.storages.get(id);
    if (seen) return seen;
    let bytes = this.records.get(key);
    if (!bytes) {
      bytes = this.loadStorage(key);
      this.records.set(key, bytes);
    }
    const needed = numel * DTYPES[type.dtype].itemSize;
    if (bytes.length < needed) {
      this.fail(`storage 'data/${key}' has ${bytes.length} bytes, but the pickle declares ${numel} ${type.dtype} elements (${needed} bytes)`);
    }
    const ref = new StorageRef(key, type.dtype, bytes.subarray(0, needed));
    this.storages.set(id, ref);
    return ref;
  }
}
