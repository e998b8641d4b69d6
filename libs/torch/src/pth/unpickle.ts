/**
 * A pickle virtual machine that never executes anything: every global, call, instantiation and
 * persistent id goes through the host, which decides what (plain data) it stands for.
 * Covers the binary opcodes of protocols 1-5 and the numeric/memo text opcodes of protocol 0.
 * Python dicts become Maps, lists/tuples/sets arrays, bytes Buffers.
 */
import { MAX_LONG_BYTES, decodeLong, normaliseInt } from './long';

export interface UnpickleHost {
  /** Resolves `module.name`; throws for anything not on its allow-list. */
  global(module: string, name: string): unknown;
  /** REDUCE: `fn(*args)`. */
  call(fn: unknown, args: unknown[]): unknown;
  /** NEWOBJ / NEWOBJ_EX / OBJ / INST: `cls.__new__(cls, *args)`. */
  construct(cls: unknown, args: unknown[]): unknown;
  /** BUILD: `obj.__setstate__(state)`. */
  build(obj: unknown, state: unknown): void;
  persistentLoad(pid: unknown): unknown;
}

const MAX_PROTOCOL = 5;
/** Decimal digits of MAX_LONG_BYTES (protocol 0 spells ints in text). */
const MAX_LONG_DIGITS = Math.ceil(MAX_LONG_BYTES * 8 * Math.log10(2));

export function unpickle(data: Buffer, host: UnpickleHost, fail: (detail: string) => never): unknown {
  let pos = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let opStart = 0;

  const error: (detail: string) => never = (detail) => fail(`byte ${opStart}: ${detail}`);
  const need = (n: number): void => {
    if (n < 0 || pos + n > data.length) error(`pickle ends inside an opcode (truncated data.pkl)`);
  };
  const u8 = (): number => (need(1), data[pos++]);
  const u16 = (): number => (need(2), (pos += 2), data.readUInt16LE(pos - 2));
  const u32 = (): number => (need(4), (pos += 4), data.readUInt32LE(pos - 4));
  const i32 = (): number => (need(4), (pos += 4), data.readInt32LE(pos - 4));
  const u64 = (): number => {
    need(8);
    const v = data.readBigUInt64LE(pos);
    pos += 8;
    if (v > BigInt(data.length)) error(`length ${v} exceeds the pickle size`);
    return Number(v);
  };
  const bytes = (n: number): Buffer => (need(n), (pos += n), data.subarray(pos - n, pos));
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) error('text opcode without end of line (truncated data.pkl)');
    const s = data.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) error('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) error('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const outer = metastack.pop();
    if (!outer) error('no MARK on the stack');
    stack = outer;
    return items;
  };
  const getMemo = (key: number): unknown => {
    if (!memo.has(key)) error(`memo key ${key} was never stored`);
    return memo.get(key);
  };
  const putMemo = (key: number): void => void memo.set(key, top());
  const textInt = (s: string): number => {
    if (!/^[-+]?\d+$/.test(s)) error(`malformed integer '${s}'`);
    return Number(s);
  };
  const long = (n: number, opcode: string): number | bigint => {
    if (n > MAX_LONG_BYTES) error(`${opcode} integer of ${n} bytes is longer than the ${MAX_LONG_BYTES} a checkpoint may hold`);
    return decodeLong(bytes(n));
  };
  const asList = (v: unknown, what: string): unknown[] => {
    if (!Array.isArray(v)) error(`${what} on a ${kindOf(v)}, expected a list`);
    return v;
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof Map)) error(`SETITEM(S) on a ${kindOf(dict)}, expected a dict`);
    if (items.length % 2 !== 0) error('odd number of items for a dict');
    for (let i = 0; i < items.length; i += 2) dict.set(dictKey(items[i]), items[i + 1]);
  };
  const dictKey = (k: unknown): unknown => {
    const t = typeof k;
    if (k === null || t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean') return k;
    return error(`dict key of type ${kindOf(k)} is not supported`);
  };
  const utf8 = (b: Buffer): string => b.toString('utf8');

  while (pos < data.length) {
    opStart = pos;
    const op = data[pos++];
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > MAX_PROTOCOL) error(`pickle protocol ${v} is newer than ${MAX_PROTOCOL}`);
        break;
      }
      case 0x95: // FRAME: framing is only a read-ahead hint
        u64();
        break;
      case 0x2e: // STOP
        return pop();

      // Stack and memo
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x70: // PUT
        putMemo(textInt(line()));
        break;
      case 0x71: // BINPUT
        putMemo(u8());
        break;
      case 0x72: // LONG_BINPUT
        putMemo(u32());
        break;
      case 0x94: // MEMOIZE
        putMemo(memo.size);
        break;
      case 0x67: // GET
        stack.push(getMemo(textInt(line())));
        break;
      case 0x68: // BINGET
        stack.push(getMemo(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(getMemo(u32()));
        break;

      // Constants and numbers
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x49: { // INT (protocol 0 spells bools as I00 / I01)
        const s = line();
        stack.push(s === '00' ? false : s === '01' ? true : textInt(s));
        break;
      }
      case 0x4c: { // LONG
        const s = line().replace(/L$/, '');
        if (s.length > MAX_LONG_DIGITS) error(`LONG integer of ${s.length} digits is longer than the ${MAX_LONG_DIGITS} a checkpoint may hold`);
        if (!/^[-+]?\d+$/.test(s)) error(`malformed integer '${s}'`);
        stack.push(normaliseInt(BigInt(s)));
        break;
      }
      case 0x46: { // FLOAT
        const s = line();
        const inf = /^([-+]?)inf$/i.exec(s);
        const v = inf ? (inf[1] === '-' ? -Infinity : Infinity) : Number(s);
        if (Number.isNaN(v) && !/^[-+]?nan$/i.test(s)) error(`malformed float '${s}'`);
        stack.push(v);
        break;
      }
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(u8(), 'LONG1'));
        break;
      case 0x8b: // LONG4
        stack.push(long(i32(), 'LONG4'));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(data.readDoubleBE(pos));
        pos += 8;
        break;

      // Strings and bytes
      case 0x58: // BINUNICODE
        stack.push(utf8(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(bytes(u64())));
        break;
      case 0x54: // BINSTRING (Python 2 str; torch.load decodes it as UTF-8)
        stack.push(utf8(bytes(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(utf8(bytes(u8())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape)
        stack.push(decodeRawUnicodeEscape(line()));
        break;
      case 0x42: // BINBYTES
        stack.push(Buffer.from(bytes(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(Buffer.from(bytes(u8())));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(Buffer.from(bytes(u64())));
        break;

      // Containers
      case 0x29: // EMPTY_TUPLE
      case 0x5d: // EMPTY_LIST
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x74: // TUPLE
      case 0x6c: // LIST
      case 0x91: { // FROZENSET
        const items = popMark(); // before `stack.push`, which would bind the inner stack
        stack.push(items);
        break;
      }
      case 0x61: { // APPEND
        const item = pop();
        asList(top(), 'APPEND').push(item);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: { // ADDITEMS (sets are read as lists)
        const items = popMark();
        const list = asList(top(), op === 0x65 ? 'APPENDS' : 'ADDITEMS');
        for (const item of items) list.push(item);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: { // DICT
        const items = popMark();
        const dict = new Map();
        setItems(dict, items);
        stack.push(dict);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }

      // Globals, calls and objects: all decided by the host
      case 0x63: { // GLOBAL
        const module = line();
        stack.push(host.global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') error('STACK_GLOBAL needs two strings');
        stack.push(host.global(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!Array.isArray(args)) error(`REDUCE arguments are a ${kindOf(args)}, expected a tuple`);
        stack.push(host.call(fn, args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = pop();
        if (!Array.isArray(args)) error(`NEWOBJ arguments are a ${kindOf(args)}, expected a tuple`);
        stack.push(host.construct(cls, args));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!Array.isArray(args)) error(`NEWOBJ_EX arguments are a ${kindOf(args)}, expected a tuple`);
        if (!(kwargs instanceof Map) || kwargs.size > 0) error('NEWOBJ_EX with keyword arguments is not supported');
        stack.push(host.construct(cls, args));
        break;
      }
      case 0x69: { // INST
        const module = line();
        const cls = host.global(module, line());
        const args = popMark();
        stack.push(host.construct(cls, args));
        break;
      }
      case 0x6f: { // OBJ
        const [cls, ...args] = popMark();
        stack.push(host.construct(cls, args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        host.build(top(), state);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(host.persistentLoad(pop()));
        break;
      case 0x50: // PERSID
        stack.push(host.persistentLoad(line()));
        break;

      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        error('extension-registry opcodes (EXT1/2/4) are not allowed');
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        error('out-of-band buffers (pickle protocol 5) are not supported');
        break;
      case 0x53: // STRING
        error('protocol-0 STRING opcode is not supported; re-save with torch.save (protocol 2)');
        break;
      default:
        error(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
  return error('pickle ends without STOP (truncated data.pkl)');
}

function decodeRawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (m, u4: string | undefined, u8: string | undefined) => {
    const code = parseInt((u4 ?? u8) as string, 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}

export function kindOf(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'dict';
  if (Buffer.isBuffer(v)) return 'bytes';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
