// A small pickle WRITER for tests, written from the pickle opcode spec (Lib/pickletools.py docs),
// emitting the same opcode sequences torch.save produces, so checkpoints can be built by hand
// independently of the reader under test. Zipped with fflate the way torch.save stores them.
import { zipSync } from 'fflate';

export interface StorageSpec {
  key: string;
  /** torch storage class name, e.g. 'FloatStorage', 'HalfStorage'. */
  type: string;
  numel: number;
  /** Raw little-endian bytes of the storage. */
  bytes: Uint8Array;
}

/** Python values, tagged where JS types are ambiguous. Plain arrays are tuples. */
export type Py =
  | null
  | boolean
  | string
  | number // integers only; use { float } for floats
  | { float: number }
  | Py[]
  | { list: Py[] }
  | { dict: [Py, Py][] }
  | { odict: [Py, Py][]; state?: Py }
  | { tensor: { storage: StorageSpec; offset: number; size: number[]; stride: number[] }; param?: boolean }
  | { call: [string, string]; args: Py[] }
  | { raw: number[] };

export class PickleWriter {
  private out: number[] = [];
  private memo = new Map<string, number>();
  private memoCount = 0;

  constructor(
    private readonly protocol: 2 | 4 = 2,
    /** Legacy (pre-1.6) persistent ids carry a sixth element, view_metadata (None here). */
    private readonly legacy = false,
  ) {}

  private op(...b: number[]): void {
    this.out.push(...b);
  }
  private u32(n: number): number[] {
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  }
  private put(): void {
    if (this.protocol >= 4) this.op(0x94); // MEMOIZE
    else this.op(0x71, this.memoCount); // BINPUT (tests stay < 256 memo entries)
    this.memoCount++;
  }
  str(s: string): void {
    const b = [...new TextEncoder().encode(s)];
    if (this.protocol >= 4 && b.length < 256) this.op(0x8c, b.length, ...b); // SHORT_BINUNICODE
    else this.op(0x58, ...this.u32(b.length), ...b); // BINUNICODE
    this.put();
  }
  int(n: number): void {
    if (n >= 0 && n < 256) this.op(0x4b, n); // BININT1
    else if (n >= 0 && n < 65536) this.op(0x4d, n & 0xff, n >> 8); // BININT2
    else if (n >= -(2 ** 31) && n < 2 ** 31) this.op(0x4a, ...this.u32(n >>> 0)); // BININT
    else {
      // LONG1: little-endian two's complement, minimal length
      const bytes: number[] = [];
      let v = BigInt(n);
      for (;;) {
        bytes.push(Number(v & 0xffn));
        v >>= 8n;
        const last = bytes[bytes.length - 1];
        if ((v === 0n && !(last & 0x80)) || (v === -1n && last & 0x80)) break;
      }
      this.op(0x8a, bytes.length, ...bytes);
    }
  }
  float(x: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    this.op(0x47, ...b); // BINFLOAT, big-endian
  }
  global(module: string, name: string): void {
    const key = `${module}.${name}`;
    const m = this.memo.get(key);
    if (m !== undefined) {
      this.op(0x68, m); // BINGET
      return;
    }
    if (this.protocol >= 4) {
      this.str(module);
      this.str(name);
      this.op(0x93); // STACK_GLOBAL
    } else {
      this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`)); // GLOBAL
    }
    this.memo.set(key, this.memoCount);
    this.put();
  }
  tuple(items: Py[]): void {
    if (items.length === 0) return this.op(0x29); // EMPTY_TUPLE
    if (items.length <= 3) {
      items.forEach((x) => this.value(x));
      this.op([0x85, 0x86, 0x87][items.length - 1]); // TUPLE1..3
    } else {
      this.op(0x28); // MARK
      items.forEach((x) => this.value(x));
      this.op(0x74); // TUPLE
    }
    this.put();
  }
  private setitems(items: [Py, Py][]): void {
    if (items.length === 0) return;
    this.op(0x28); // MARK
    for (const [k, v] of items) {
      this.value(k);
      this.value(v);
    }
    this.op(0x75); // SETITEMS
  }
  value(v: Py): void {
    if (v === null) return this.op(0x4e); // NONE
    if (v === true) return this.op(0x88); // NEWTRUE
    if (v === false) return this.op(0x89); // NEWFALSE
    if (typeof v === 'string') return this.str(v);
    if (typeof v === 'number') return this.int(v);
    if (Array.isArray(v)) return this.tuple(v);
    if ('float' in v) return this.float(v.float);
    if ('raw' in v) return this.op(...v.raw);
    if ('list' in v) {
      this.op(0x5d); // EMPTY_LIST
      this.put();
      if (v.list.length) {
        this.op(0x28);
        v.list.forEach((x) => this.value(x));
        this.op(0x65); // APPENDS
      }
      return;
    }
    if ('dict' in v) {
      this.op(0x7d); // EMPTY_DICT
      this.put();
      return this.setitems(v.dict);
    }
    if ('odict' in v) {
      // collections.OrderedDict's __reduce__: (cls, ()), items via SETITEMS, then BUILD(state)
      this.global('collections', 'OrderedDict');
      this.op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
      this.put();
      this.setitems(v.odict);
      if (v.state !== undefined) {
        this.value(v.state);
        this.op(0x62); // BUILD
      }
      return;
    }
    if ('call' in v) {
      this.global(v.call[0], v.call[1]);
      this.tuple(v.args);
      this.op(0x52); // REDUCE
      this.put();
      return;
    }
    if ('tensor' in v) {
      const { storage: s, offset, size, stride } = v.tensor;
      if (v.param) this.global('torch._utils', '_rebuild_parameter');
      this.global('torch._utils', '_rebuild_tensor_v2');
      this.op(0x28); // MARK: args tuple
      // persistent id ('storage', storage_type, key, location, numel) + BINPERSID
      this.op(0x28);
      this.str('storage');
      this.global('torch', s.type);
      this.str(s.key);
      this.str('cpu');
      this.int(s.numel);
      if (this.legacy) this.op(0x4e); // NONE
      this.op(0x74);
      this.put();
      this.op(0x51); // BINPERSID
      this.int(offset);
      this.tuple(size);
      this.tuple(stride);
      this.op(0x89); // requires_grad False
      this.value({ odict: [] }); // backward_hooks
      this.op(0x74); // TUPLE
      this.put();
      this.op(0x52); // REDUCE
      this.put();
      if (v.param) {
        this.op(0x88); // requires_grad True
        this.value({ odict: [] });
        this.op(0x87, 0x52); // TUPLE3, REDUCE
        this.put();
      }
      return;
    }
    throw new Error(`PickleWriter: cannot write ${JSON.stringify(v)}`);
  }

  /** A complete pickle of `v`: PROTO, (FRAME for protocol 4), body, STOP. */
  static dump(v: Py, protocol: 2 | 4 = 2, legacy = false): Uint8Array {
    const w = new PickleWriter(protocol, legacy);
    w.value(v);
    w.op(0x2e); // STOP
    const body = w.out;
    if (protocol >= 4) {
      const len = [...w.u32(body.length), 0, 0, 0, 0];
      return Uint8Array.from([0x80, protocol, 0x95, ...len, ...body]);
    }
    return Uint8Array.from([0x80, protocol, ...body]);
  }
}

/** The storages a Py value references (each key once). */
export function storagesOf(v: Py, acc = new Map<string, StorageSpec>()): Map<string, StorageSpec> {
  if (v === null || typeof v !== 'object') return acc;
  if (Array.isArray(v)) v.forEach((x) => storagesOf(x, acc));
  else if ('tensor' in v) acc.set(v.tensor.storage.key, v.tensor.storage);
  else if ('list' in v) v.list.forEach((x) => storagesOf(x, acc));
  else if ('dict' in v) v.dict.forEach(([k, x]) => (storagesOf(k, acc), storagesOf(x, acc)));
  else if ('odict' in v) v.odict.forEach(([k, x]) => (storagesOf(k, acc), storagesOf(x, acc)));
  else if ('call' in v) v.args.forEach((x) => storagesOf(x, acc));
  return acc;
}

/** A torch.save-style zip: `<archive>/data.pkl`, `<archive>/byteorder`, `<archive>/data/<key>`, `<archive>/version`, all stored (level 0). */
export function torchZip(
  v: Py,
  opts: { archive?: string; protocol?: 2 | 4; byteorder?: 'little' | 'big'; omitStorage?: string } = {},
): Uint8Array {
  const archive = opts.archive ?? 'archive';
  const files: Record<string, Uint8Array> = {};
  files[`${archive}/data.pkl`] = PickleWriter.dump(v, opts.protocol ?? 2);
  files[`${archive}/byteorder`] = new TextEncoder().encode(opts.byteorder ?? 'little');
  for (const s of storagesOf(v).values()) if (s.key !== opts.omitStorage) files[`${archive}/data/${s.key}`] = s.bytes;
  files[`${archive}/version`] = new TextEncoder().encode('3\n');
  return zipSync(files, { level: 0 });
}

/** The legacy (pre-1.6) torch.save layout: magic, protocol version, sys_info, object, storage keys, storages. */
export function torchLegacy(v: Py): Uint8Array {
  const parts: Uint8Array[] = [
    PickleWriter.dump({ raw: [0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19] }), // 0x1950a86a20f9469cfc6c
    PickleWriter.dump(1001),
    PickleWriter.dump({ dict: [['protocol_version', 1001], ['little_endian', true], ['type_sizes', { dict: [['int', 4], ['long', 4], ['short', 2]] }]] }),
    PickleWriter.dump(v, 2, true),
  ];
  const storages = [...storagesOf(v).values()];
  parts.push(PickleWriter.dump({ list: storages.map((s) => s.key) }));
  for (const s of storages) {
    const n = new Uint8Array(8);
    new DataView(n.buffer).setBigInt64(0, BigInt(s.numel), true);
    parts.push(n, s.bytes);
  }
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.byteLength));
  return out;
}
