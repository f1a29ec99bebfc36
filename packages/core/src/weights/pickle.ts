// A minimal, SAFE unpickler for PyTorch state dicts (pickle protocols 0-5, binary opcodes plus the
// few text ones old files use). It never imports or runs anything: every GLOBAL is looked up in an
// allow-list supplied by the caller, whose entries are plain TypeScript functions building data.
// A global outside the list is refused at the GLOBAL opcode, before any REDUCE could call it.

/** A Python dict (or OrderedDict); insertion order kept, keys are strings / numbers / bigints / tuples. */
export type PyDict = Map<unknown, unknown>;

/** What an allowed global resolves to: a callable (REDUCE / NEWOBJ call it) or a plain value. */
export interface PyCallable {
  readonly kind: 'callable';
  readonly qualname: string;
  call(args: unknown[]): unknown;
}

export function callable(qualname: string, call: (args: unknown[]) => unknown): PyCallable {
  return { kind: 'callable', qualname, call };
}

export function isCallable(x: unknown): x is PyCallable {
  return typeof x === 'object' && x !== null && (x as PyCallable).kind === 'callable';
}

/** A Python tuple: an array tagged so that it can be told from a list when it matters. */
export type PyTuple = unknown[] & { readonly __tuple__: true };

function tuple(items: unknown[]): PyTuple {
  Object.defineProperty(items, '__tuple__', { value: true });
  return items as PyTuple;
}

export function isTuple(x: unknown): x is PyTuple {
  return Array.isArray(x) && (x as Partial<PyTuple>).__tuple__ === true;
}

export interface UnpickleOptions {
  /** Used in error messages. */
  file: string;
  /** "module.name" → value. Anything not in here is refused. */
  globals: ReadonlyMap<string, unknown>;
  /** Called for PERSID / BINPERSID (PyTorch storages). */
  persistentLoad?: (pid: unknown) => unknown;
  /** Byte offset to start at (files that hold several pickles back to back). */
  offset?: number;
}

export interface UnpickleResult {
  value: unknown;
  /** Offset just past the STOP opcode. */
  end: number;
}

const MARK = Symbol('mark');

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Unpickle one object from `bytes`. Throws an Error naming the file and byte offset on any problem. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): UnpickleResult {
  const { file, globals } = opts;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = opts.offset ?? 0;
  let opPos = pos;
  const stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let current = stack;

  const fail = (msg: string): never => {
    throw new Error(`${file}: pickle at byte ${opPos}: ${msg}`);
  };
  const need = (n: number): void => {
    if (pos + n > bytes.byteLength) fail(`needs ${n} more bytes but the pickle ends at byte ${bytes.byteLength} (truncated?)`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is too large`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const b = bytes.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail('unterminated text argument (truncated?)');
    const s = latin1.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const utf8 = (b: Uint8Array): string => {
    try {
      return textDecoder.decode(b);
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const pop = (): unknown => {
    if (current.length === 0) fail('stack underflow');
    return current.pop();
  };
  const top = (): unknown => {
    if (current.length === 0) fail('stack underflow');
    return current[current.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = current;
    const prev = metastack.pop();
    if (!prev) return fail('MARK expected on the stack');
    current = prev;
    return items;
  };
  const push = (v: unknown): void => {
    current.push(v);
  };
  // A persistent id names a storage of the checkpoint; the caller resolves it.
  const pushPersistent = (pid: unknown): void => {
    if (!opts.persistentLoad) fail('persistent id found but this file has no storages');
    try {
      push(opts.persistentLoad!(pid));
    } catch (e) {
      fail((e as Error).message);
    }
  };
  const findGlobal = (module: string, name: string): unknown => {
    const key = `${module}.${name}`;
    if (!globals.has(key)) {
      fail(`global "${key}" is refused and was never executed: only tensor-building globals are allowed in a weights file (${[...globals.keys()].join(', ')})`);
    }
    return globals.get(key);
  };
  const callValue = (fn: unknown, args: unknown, how: string): unknown => {
    if (!isCallable(fn)) fail(`${how} on ${describe(fn)}, which is not callable`);
    if (!Array.isArray(args)) fail(`${how} arguments must be a tuple, got ${describe(args)}`);
    try {
      return (fn as PyCallable).call(args as unknown[]);
    } catch (e) {
      return fail(`${(fn as PyCallable).qualname}: ${(e as Error).message}`);
    }
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof Map)) fail(`SETITEM(S) on ${describe(dict)}, expected a dict`);
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (dict as PyDict).set(dictKey(items[i]), items[i + 1]);
  };
  const appendItems = (list: unknown, items: unknown[]): void => {
    if (!Array.isArray(list) || isTuple(list)) fail(`APPEND(S) on ${describe(list)}, expected a list`);
    (list as unknown[]).push(...items);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo entry ${i} is not set`);
    return memo.get(i);
  };

  for (;;) {
    opPos = pos;
    if (pos >= bytes.byteLength) fail('the pickle ends without a STOP opcode (truncated?)');
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail(`pickle protocol ${bytes[pos - 1]} is newer than 5`);
        break;
      case 0x95: // FRAME: framing is only a read-ahead hint
        u64();
        break;
      case 0x2e: // STOP
        if (current.length !== 1 || metastack.length !== 0) fail(`STOP with ${current.length} values on the stack`);
        return { value: current[0], end: pos };
      case 0x28: // MARK
        metastack.push(current);
        current = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;

      // ---- constants and numbers
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(decodeLong(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) fail('LONG4 with a negative length');
        push(decodeLong(take(n)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x49: {
        // INT (text): "I01\n" / "I00\n" are True / False in protocol 0
        const s = line();
        if (s === '01') push(true);
        else if (s === '00') push(false);
        else push(parseIntText(s, fail));
        break;
      }
      case 0x4c: // LONG (text)
        push(parseIntText(line().replace(/L$/, ''), fail));
        break;
      case 0x46: {
        // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (Number.isNaN(v) && !/nan/i.test(s)) fail(`bad FLOAT ${JSON.stringify(s)}`);
        push(v);
        break;
      }

      // ---- strings and bytes
      case 0x58: // BINUNICODE
        push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(utf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        push(utf8(take(u64())));
        break;
      case 0x54: {
        // BINSTRING (Python 2 str): kept as a latin-1 string
        const n = i32();
        if (n < 0) fail('BINSTRING with a negative length');
        push(latin1.decode(take(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        push(take(u64()).slice());
        break;
      case 0x56: // UNICODE (text, raw-unicode-escape; enough for ASCII keys)
        push(line());
        break;
      case 0x53: {
        // STRING (text, quoted repr)
        const s = line();
        const m = /^(['"])(.*)\1$/s.exec(s);
        if (!m) fail(`bad STRING ${JSON.stringify(s)}`);
        push(m![2]);
        break;
      }

      // ---- containers
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push(tuple([]));
        break;
      case 0x8f: // EMPTY_SET (kept as an array)
        push([]);
        break;
      case 0x74: // TUPLE
        push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        push(tuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        push(tuple([a, b, c]));
        break;
      }
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d: PyDict = new Map();
        setItems(d, items);
        push(d);
        break;
      }
      case 0x91: // FROZENSET
        push(popMark());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = top();
        if (!Array.isArray(set)) fail('ADDITEMS on a non-set');
        (set as unknown[]).push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }

      // ---- memo
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT (text)
        memo.set(parseIntText(line(), fail) as number, top());
        break;
      case 0x68: // BINGET
        push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(u32()));
        break;
      case 0x67: // GET (text)
        push(memoGet(parseIntText(line(), fail) as number));
        break;

      // ---- globals and object construction (allow-list only)
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        push(findGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(findGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        push(callValue(fn, args, 'REDUCE'));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        push(callValue(cls, args, 'NEWOBJ'));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX (keyword arguments are not supported by any allowed global)
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0) fail('NEWOBJ_EX with keyword arguments is not supported');
        push(callValue(cls, args, 'NEWOBJ_EX'));
        break;
      }
      case 0x62: {
        // BUILD: set state on the object below. Only dict attributes (e.g. a state dict's
        // `_metadata`) and tensors show up here; their state carries nothing we need.
        const state = pop();
        const obj = top();
        if (!(obj instanceof Map) && !(typeof obj === 'object' && obj !== null)) {
          fail(`BUILD on ${describe(obj)}`);
        }
        void state;
        break;
      }
      case 0x51: // BINPERSID
        pushPersistent(pop());
        break;
      case 0x50: // PERSID (text)
        pushPersistent(line());
        break;
      case 0x69: // INST
      case 0x6f: // OBJ
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail(`opcode 0x${op.toString(16)} is not supported in a weights file`);
        break;
      default:
        fail(`unknown opcode 0x${op.toString(16)} (corrupt file or not a pickle)`);
    }
  }
}

/** Python's little-endian two's-complement LONG encoding → number when safe, else bigint. */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function parseIntText(s: string, fail: (m: string) => never): number | bigint {
  if (!/^[-+]?\d+$/.test(s)) fail(`bad integer ${JSON.stringify(s)}`);
  const v = BigInt(s);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

// Tuples as dict keys: JS Maps compare arrays by identity, so key them by a string form.
function dictKey(k: unknown): unknown {
  return Array.isArray(k) ? JSON.stringify(k, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) : k;
}

export function describe(x: unknown): string {
  if (x === null) return 'None';
  if (x instanceof Map) return 'a dict';
  if (isTuple(x)) return 'a tuple';
  if (Array.isArray(x)) return 'a list';
  if (isCallable(x)) return x.qualname;
  return typeof x === 'object' ? 'an object' : `${typeof x} ${String(x)}`;
}
