// Reader for PyTorch checkpoints written by torch.save: the zip format (PyTorch >= 1.6:
// `<archive>/data.pkl` + raw little-endian storages `<archive>/data/<key>`) and the legacy
// format (several pickles back to back, then the storages). The pickle is read by the safe
// unpickler in ./pickle: only the globals listed below exist, each a small data-building function.
import { inflateSync } from 'fflate';
import { callable, describe, isTuple, unpickle, type PyDict } from './pickle';
import { ITEM_SIZE, numelOf, readFileBytes, typedArrayFromBytes, type DType, type RawTensor, type TensorData } from './safetensors';

// ------------------------------------------------------------------ zip (central directory)

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/**
 * Minimal zip reader. torch.save stores records uncompressed, so stored records come back as
 * views into the file buffer (no copy: checkpoints can be gigabytes); deflated ones go through fflate.
 */
class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly dv: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly file: string,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const truncated = `${file}: not a complete zip archive: the end-of-central-directory record is missing (file truncated?)`;
    let eocd = -1;
    for (let p = buf.byteLength - 22; p >= Math.max(0, buf.byteLength - 22 - 0xffff); p--) {
      if (this.dv.getUint32(p, true) === SIG_EOCD) {
        eocd = p;
        break;
      }
    }
    if (eocd < 0) throw new Error(truncated);
    let count = this.dv.getUint16(eocd + 10, true);
    let cdSize = this.dv.getUint32(eocd + 12, true);
    let cdOffset = this.dv.getUint32(eocd + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || this.dv.getUint32(loc, true) !== SIG_EOCD64_LOCATOR) throw new Error(`${file}: zip64 locator missing (corrupt file)`);
      const rec = this.u64(loc + 8);
      if (rec + 56 > buf.byteLength || this.dv.getUint32(rec, true) !== SIG_EOCD64) throw new Error(`${file}: zip64 end record missing (corrupt file)`);
      count = this.u64(rec + 32);
      cdSize = this.u64(rec + 40);
      cdOffset = this.u64(rec + 48);
    }
    if (cdOffset + cdSize > buf.byteLength) throw new Error(truncated);
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > buf.byteLength || this.dv.getUint32(p, true) !== SIG_CENTRAL) {
        throw new Error(`${file}: zip central directory entry ${i} is corrupt`);
      }
      const method = this.dv.getUint16(p + 10, true);
      let compressedSize = this.dv.getUint32(p + 20, true);
      let size = this.dv.getUint32(p + 24, true);
      const nameLen = this.dv.getUint16(p + 28, true);
      const extraLen = this.dv.getUint16(p + 30, true);
      const commentLen = this.dv.getUint16(p + 32, true);
      let localOffset = this.dv.getUint32(p + 42, true);
      const name = new TextDecoder().decode(buf.subarray(p + 46, p + 46 + nameLen));
      // zip64 extra field: the 64-bit values, in this order, for fields saturated at 0xffffffff.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = this.dv.getUint16(e, true);
        const len = this.dv.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) (size = this.u64(q)), (q += 8);
          if (compressedSize === 0xffffffff) (compressedSize = this.u64(q)), (q += 8);
          if (localOffset === 0xffffffff) localOffset = this.u64(q);
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, localOffset });
      p = extraEnd + commentLen;
    }
  }

  private u64(p: number): number {
    return Number(this.dv.getBigUint64(p, true));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.file}: zip record "${name}" is missing`);
    const p = e.localOffset;
    if (p + 30 > this.buf.byteLength || this.dv.getUint32(p, true) !== SIG_LOCAL) {
      throw new Error(`${this.file}: zip record "${name}" has no local header at byte ${p} (file truncated or corrupt)`);
    }
    const start = p + 30 + this.dv.getUint16(p + 26, true) + this.dv.getUint16(p + 28, true);
    const end = start + e.compressedSize;
    if (end > this.buf.byteLength) {
      throw new Error(`${this.file}: zip record "${name}" needs bytes ${start}..${end} but the file has ${this.buf.byteLength} (truncated?)`);
    }
    const raw = this.buf.subarray(start, end);
    if (e.method === 0) return raw;
    if (e.method === 8) return inflateSync(raw, { out: new Uint8Array(e.size) });
    throw new Error(`${this.file}: zip record "${name}" uses compression method ${e.method}; only stored (0) and deflate (8) are supported`);
  }
}

// ------------------------------------------------------------------ storages and tensors

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  UntypedStorage: 'U8',
};

const TORCH_DTYPES: Record<string, DType> = {
  float32: 'F32',
  float: 'F32',
  float64: 'F64',
  double: 'F64',
  float16: 'F16',
  half: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  long: 'I64',
  int32: 'I32',
  int: 'I32',
  int16: 'I16',
  short: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

class StorageType {
  constructor(
    readonly name: string,
    readonly dtype: DType,
  ) {}
}

class TorchDType {
  constructor(readonly dtype: DType) {}
}

/** A storage: `numel` items of `dtype`, bytes fetched on first use. */
class Storage {
  private cached?: TensorData;
  users = 0;
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    private readonly load: () => TensorData,
  ) {}
  get data(): TensorData {
    return (this.cached ??= this.load());
  }
}

/** A tensor as described by _rebuild_tensor_v2: a strided view into a storage, materialised on demand. */
class LazyTensor {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {
    storage.users++;
  }
}

function checkIntTuple(x: unknown, what: string): number[] {
  if (!Array.isArray(x) || !x.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${what} must be a tuple of non-negative integers, got ${describe(x)}`);
  }
  return [...(x as number[])];
}

function rebuildTensor(args: unknown[]): LazyTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof Storage)) throw new Error(`expected a storage as first argument, got ${describe(storage)}`);
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new Error(`storage offset must be a non-negative integer, got ${describe(offset)}`);
  const shape = checkIntTuple(size, 'size');
  const strides = checkIntTuple(stride, 'stride');
  if (shape.length !== strides.length) throw new Error(`size has ${shape.length} dims but stride has ${strides.length}`);
  return new LazyTensor(storage, offset as number, shape, strides);
}

/** Copy the elements a (possibly strided, offset) view selects into a fresh contiguous array. */
function materialise(t: LazyTensor, file: string, name: string): RawTensor {
  const { storage, offset, shape, stride } = t;
  const n = numelOf(shape);
  const dtype = storage.dtype;
  let last = offset;
  for (let d = 0; d < shape.length; d++) if (shape[d] > 0) last += (shape[d] - 1) * stride[d];
  if (n > 0 && last >= storage.numel) {
    throw new Error(
      `${file}: tensor "${name}" (offset ${offset}, size [${shape}], stride [${stride}]) reads element ${last} of storage "${storage.key}" which has ${storage.numel} elements (corrupt file)`,
    );
  }
  // Stride-0 views can claim far more elements than the file holds; refuse absurd sizes up front.
  if (n > 2 ** 31) throw new Error(`${file}: tensor "${name}" has ${n} elements (size [${shape}]); refusing to allocate`);
  const src = storage.data;
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  if (contiguous) {
    // A sole user may keep a view into the file buffer; shared storages are copied so tensors never alias.
    const data = storage.users === 1 ? src.subarray(offset, offset + n) : src.slice(offset, offset + n);
    return { dtype, shape: [...shape], data };
  }
  const out = new (src.constructor as new (n: number) => TensorData)(n) as unknown as Record<number, number | bigint>;
  const from = src as unknown as Record<number, number | bigint>;
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let p = offset;
  for (let i = 0; i < n; i++) {
    out[i] = from[p];
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      p += stride[d];
      if (idx[d] < shape[d]) break;
      p -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return { dtype, shape: [...shape], data: out as unknown as TensorData };
}

function makeGlobals(): Map<string, unknown> {
  const g = new Map<string, unknown>();
  // OrderedDict() / OrderedDict([(k, v), ...]); BUILD on it (e.g. `_metadata`) is tolerated by the unpickler.
  g.set(
    'collections.OrderedDict',
    callable('collections.OrderedDict', (args) => {
      const m: PyDict = new Map();
      const items = args[0];
      if (Array.isArray(items)) for (const kv of items) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0], kv[1]);
      return m;
    }),
  );
  g.set('torch._utils._rebuild_tensor_v2', callable('torch._utils._rebuild_tensor_v2', rebuildTensor));
  g.set('torch._utils._rebuild_tensor', callable('torch._utils._rebuild_tensor', rebuildTensor));
  // Parameters unwrap to their data: (data, requires_grad, backward_hooks[, state]).
  const param = (args: unknown[]) => {
    if (!(args[0] instanceof LazyTensor)) throw new Error(`expected a tensor, got ${describe(args[0])}`);
    return args[0];
  };
  g.set('torch._utils._rebuild_parameter', callable('torch._utils._rebuild_parameter', param));
  g.set('torch._utils._rebuild_parameter_with_state', callable('torch._utils._rebuild_parameter_with_state', param));
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) g.set(`torch.${name}`, new StorageType(name, dtype));
  for (const [name, dtype] of Object.entries(TORCH_DTYPES)) g.set(`torch.${name}`, new TorchDType(dtype));
  g.set('torch.Size', callable('torch.Size', (args) => checkIntTuple(args[0] ?? [], 'torch.Size')));
  g.set('torch.device', callable('torch.device', (args) => String(args[0])));
  // Protocol-2 pickles encode `bytes` as _codecs.encode(latin1_text, 'latin1').
  g.set(
    '_codecs.encode',
    callable('_codecs.encode', ([text, enc]) => {
      if (typeof text !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) throw new Error('only latin1 text is supported');
      return Uint8Array.from(text, (c) => c.charCodeAt(0));
    }),
  );
  return g;
}

function storageArgs(pid: unknown): { type: StorageType; key: string; numel: number; view: unknown } {
  if (!isTuple(pid) || pid[0] !== 'storage' || pid.length < 5) {
    throw new Error(`unexpected persistent id ${describe(pid)}; expected ('storage', type, key, location, numel)`);
  }
  const [, type, key, , numel, view] = pid;
  if (!(type instanceof StorageType)) throw new Error(`persistent id names ${describe(type)}, not a storage type`);
  if (!Number.isSafeInteger(numel) || (numel as number) < 0) throw new Error(`storage "${String(key)}" has a bad size ${describe(numel)}`);
  return { type, key: String(key), numel: numel as number, view };
}

function decodeStorage(bytes: Uint8Array, dtype: DType, bigEndian: boolean): TensorData {
  const size = ITEM_SIZE[dtype];
  if (!bigEndian || size === 1) return typedArrayFromBytes(dtype, bytes);
  const swapped = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += size) for (let j = 0; j < size; j++) swapped[i + j] = bytes[i + size - 1 - j];
  return typedArrayFromBytes(dtype, swapped);
}

// ------------------------------------------------------------------ checkpoint layouts

function parseZipCheckpoint(buf: Uint8Array, file: string): unknown {
  const zip = new ZipArchive(buf, file);
  const pkl = [...zip.entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl) throw new Error(`${file}: zip archive has no data.pkl record; not a torch.save checkpoint`);
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  let bigEndian = false;
  if (zip.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (order !== 'little' && order !== 'big') throw new Error(`${file}: unknown byteorder "${order}"`);
    bigEndian = order === 'big';
  }
  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: unknown): Storage => {
    const { type, key, numel } = storageArgs(pid);
    const known = storages.get(key);
    if (known) return known;
    const record = `${prefix}data/${key}`;
    if (!zip.has(record)) throw new Error(`storage "${key}" (record "${record}") is missing from the archive (file truncated or corrupt?)`);
    const s = new Storage(key, type.dtype, numel, () => {
      const bytes = zip.read(record);
      const nbytes = numel * ITEM_SIZE[type.dtype];
      if (bytes.byteLength < nbytes) {
        throw new Error(`${file}: storage "${key}" (record "${record}") has ${bytes.byteLength} bytes but ${numel} × ${type.name} need ${nbytes}`);
      }
      return decodeStorage(bytes.subarray(0, nbytes), type.dtype, bigEndian);
    });
    storages.set(key, s);
    return s;
  };
  return unpickle(zip.read(pkl), { file: `${file} (${pkl})`, globals: makeGlobals(), persistentLoad }).value;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** Pre-1.6 torch.save: magic, protocol version, sys_info, the object, the storage keys, then raw storages. */
function parseLegacyCheckpoint(buf: Uint8Array, file: string): unknown {
  const noGlobals = new Map<string, unknown>();
  const magic = unpickle(buf, { file, globals: noGlobals });
  if (magic.value !== LEGACY_MAGIC) {
    throw new Error(`${file}: starts with a pickle but not with the PyTorch magic number; not a torch.save checkpoint`);
  }
  const version = unpickle(buf, { file, globals: noGlobals, offset: magic.end });
  if (version.value !== 1001) throw new Error(`${file}: unsupported legacy PyTorch protocol version ${describe(version.value)}`);
  const sysInfo = unpickle(buf, { file, globals: noGlobals, offset: version.end });
  const littleEndian = sysInfo.value instanceof Map ? sysInfo.value.get('little_endian') !== false : true;

  const roots = new Map<string, { type: StorageType; numel: number; data?: TensorData }>();
  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: unknown): Storage => {
    const { type, key, numel, view } = storageArgs(pid);
    if (!roots.has(key)) roots.set(key, { type, numel });
    const root = roots.get(key)!;
    const rootData = (): TensorData => {
      if (!root.data) throw new Error(`${file}: storage "${key}" was never written (file truncated?)`);
      return root.data;
    };
    if (view === null || view === undefined) {
      let s = storages.get(key);
      if (!s) storages.set(key, (s = new Storage(key, type.dtype, numel, rootData)));
      return s;
    }
    // Old files may point into a slice of a root storage: (view_key, offset, view_size).
    const [viewKey, off, viewSize] = view as unknown[];
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(viewSize)) throw new Error(`storage "${key}" has a bad view ${describe(view)}`);
    const o = off as number;
    const n = viewSize as number;
    const vk = String(viewKey);
    let s = storages.get(vk);
    if (!s) {
      storages.set(vk, (s = new Storage(vk, type.dtype, n, () => rootData().subarray(o, o + n))));
      s.users++; // it shares its root's memory: make tensors copy
    }
    return s;
  };
  const main = unpickle(buf, { file, globals: makeGlobals(), persistentLoad, offset: sysInfo.end });
  const keys = unpickle(buf, { file, globals: noGlobals, offset: main.end });
  if (!Array.isArray(keys.value)) throw new Error(`${file}: the storage key list is missing (file truncated?)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = keys.end;
  for (const k of keys.value) {
    const key = String(k);
    const root = roots.get(key);
    if (!root) throw new Error(`${file}: storage "${key}" is listed but no tensor uses it`);
    if (p + 8 > buf.byteLength) throw new Error(`${file}: storage "${key}" is missing (file truncated?)`);
    const numel = Number(dv.getBigInt64(p, true));
    const nbytes = numel * ITEM_SIZE[root.type.dtype];
    if (numel !== root.numel) throw new Error(`${file}: storage "${key}" has ${numel} elements on disk but the pickle says ${root.numel}`);
    if (p + 8 + nbytes > buf.byteLength) {
      throw new Error(`${file}: storage "${key}" needs bytes ${p + 8}..${p + 8 + nbytes} but the file has ${buf.byteLength} (file truncated?)`);
    }
    root.data = decodeStorage(buf.subarray(p + 8, p + 8 + nbytes), root.type.dtype, !littleEndian);
    p += 8 + nbytes;
  }
  return main.value;
}

// ------------------------------------------------------------------ public API

const WRAPPER_KEYS = ['state_dict', 'model', 'module'];

/**
 * The tensors of a checkpoint object: a dict of tensors as is, or the dict found under
 * `state_dict` / `model` / `module` (recursively). Non-tensor entries are skipped.
 */
function findStateDict(obj: unknown, file: string, path: string[] = [], seen = new Set<unknown>()): Map<string, LazyTensor> {
  if (obj instanceof LazyTensor) throw new Error(`${file}: holds a single tensor, not a state dict`);
  if (!(obj instanceof Map)) throw new Error(`${file}: top-level object is ${describe(obj)}, expected a dict of tensors`);
  seen.add(obj); // the memo can make a dict contain itself
  for (const k of WRAPPER_KEYS) {
    const inner = obj.get(k);
    if (inner instanceof Map && !seen.has(inner)) {
      const found = findStateDict(inner, file, [...path, k], seen);
      if (found.size > 0) return found;
    }
  }
  const tensors = new Map<string, LazyTensor>();
  for (const [k, v] of obj) if (typeof k === 'string' && v instanceof LazyTensor) tensors.set(k, v);
  if (tensors.size === 0 && path.length === 0) {
    const keys = [...obj.keys()].slice(0, 10).map(String).join(', ');
    throw new Error(`${file}: no tensors found at the top level or under ${WRAPPER_KEYS.join(' / ')} (top-level keys: ${keys})`);
  }
  return tensors;
}

// PROTO n, LONG1 10 bytes: the pickled magic number 0x1950a86a20f9469cfc6c that legacy files start with.
const LEGACY_PREFIX = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/** True for the legacy (pre-1.6) torch.save layout, which starts with the pickled PyTorch magic number. */
export function isLegacyTorchFile(buf: Uint8Array): boolean {
  if (buf.byteLength < 2 + LEGACY_PREFIX.length || buf[0] !== 0x80 || buf[1] < 2 || buf[1] > 5) return false;
  return LEGACY_PREFIX.every((b, i) => buf[2 + i] === b);
}

export function isZipFile(buf: Uint8Array): boolean {
  return buf.byteLength >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

/** Parse a checkpoint held in memory (zip or legacy layout). `path` is used in error messages. */
export function parseTorchCheckpoint(buf: Uint8Array, path: string): Map<string, RawTensor> {
  let obj: unknown;
  if (isZipFile(buf)) obj = parseZipCheckpoint(buf, path);
  else if (isLegacyTorchFile(buf)) obj = parseLegacyCheckpoint(buf, path);
  else if (buf.byteLength >= 2 && buf[0] === 0x80) {
    throw new Error(`${path}: a pickle without the PyTorch magic number; not a torch.save checkpoint`);
  } else {
    throw new Error(`${path}: not a PyTorch checkpoint (neither a torch.save zip archive nor a legacy torch.save pickle)`);
  }
  const lazy = findStateDict(obj, path);
  const out = new Map<string, RawTensor>();
  for (const [k, t] of lazy) out.set(k, materialise(t, path, k));
  return out;
}

/** Read a `torch.save` checkpoint's state dict as raw tensors (keys untouched, e.g. `module.` prefixes kept). */
export async function readTorchCheckpoint(path: string): Promise<Map<string, RawTensor>> {
  const buf = await readFileBytes(path);
  return parseTorchCheckpoint(buf, path);
}
