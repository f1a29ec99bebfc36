// Reader / writer for the safetensors format (https://huggingface.co/docs/safetensors):
// [u64 little-endian header length N][N bytes of JSON header][data section].
// Pure TypeScript, no tfjs: tensors come back as typed arrays in their stored dtype.
import { open, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** F16 / BF16 are kept as their raw 16-bit patterns (Uint16Array); BOOL is a Uint8Array of 0/1. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

export interface RawTensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

export interface TensorFile {
  path: string;
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

export const ITEM_SIZE: Readonly<Record<DType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

type TypedArrayCtor = {
  new (length: number): TensorData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

const CTOR: Readonly<Record<DType, TypedArrayCtor>> = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
} as unknown as Record<DType, TypedArrayCtor>;

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(ITEM_SIZE, s);
}

export const DTYPES = Object.keys(ITEM_SIZE) as DType[];

/** Product of the dims; a 0-d tensor (shape []) has one element. */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// Typed arrays use the host byte order; both formats here are little-endian on disk.
function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new Error('weight files are little-endian; this big-endian host is not supported');
}

/**
 * A typed array of `dtype` over `bytes` (little-endian). Shares memory with `bytes` when the
 * offset is aligned to the item size; otherwise (legal in files from other writers) copies.
 */
export function typedArrayFromBytes(dtype: DType, bytes: Uint8Array): TensorData {
  assertLittleEndianHost();
  const ctor = CTOR[dtype];
  const size = ITEM_SIZE[dtype];
  const n = bytes.byteLength / size;
  if (!Number.isInteger(n)) throw new Error(`${bytes.byteLength} bytes is not a whole number of ${dtype} items`);
  if (bytes.byteOffset % size === 0) return new ctor(bytes.buffer, bytes.byteOffset, n);
  const out = new ctor(n);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function expectedArrayName(dtype: DType): string {
  return CTOR[dtype].name;
}

/** Where one tensor's bytes lie in the data section, as the header declares them. */
interface HeaderEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

type Fail = (msg: string) => never;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** The header JSON object and where the data section starts. */
function readHeader(buf: Uint8Array, fail: Fail): { header: Record<string, unknown>; dataStart: number } {
  if (buf.byteLength < 8) fail(`file has ${buf.byteLength} bytes, too short for the 8-byte header length (not a safetensors file or truncated)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen64 = dv.getBigUint64(0, true);
  if (headerLen64 > BigInt(buf.byteLength - 8)) {
    fail(`header length field says ${headerLen64} bytes but only ${buf.byteLength - 8} bytes follow it (file truncated or not a safetensors file)`);
  }
  const headerLen = Number(headerLen64);
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLen));
    header = JSON.parse(text);
  } catch (e) {
    fail(`the ${headerLen}-byte header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) fail('the header is not a JSON object');
  return { header: header as Record<string, unknown>, dataStart: 8 + headerLen };
}

function parseMetadata(raw: unknown, fail: Fail): Record<string, string> {
  if (!isPlainObject(raw)) fail('"__metadata__" must be an object of strings');
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`"__metadata__"."${k}" must be a string, got ${JSON.stringify(v)}`);
    metadata[k] = v as string;
  }
  return metadata;
}

/** One tensor's header entry, checked on its own and against the size of the data section. */
function parseTensorEntry(name: string, raw: unknown, dataLen: number, fail: Fail): HeaderEntry {
  const what = `tensor "${name}"`;
  if (!isPlainObject(raw)) fail(`${what}: header entry is not an object`);
  const { dtype, shape, data_offsets } = raw as Record<string, unknown>;
  if (!isDType(dtype)) fail(`${what} has unknown dtype ${JSON.stringify(dtype)} (supported: ${DTYPES.join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(data_offsets) ||
    data_offsets.length !== 2 ||
    !data_offsets.every((d) => Number.isSafeInteger(d) && d >= 0) ||
    data_offsets[0] > data_offsets[1]
  ) {
    fail(`${what}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(data_offsets)}`);
  }
  const dt = dtype as DType;
  const shp = shape as number[];
  const [begin, end] = data_offsets as number[];
  const need = numelOf(shp) * ITEM_SIZE[dt];
  if (end - begin !== need) {
    fail(`${what} (${dt} [${shp.join(', ')}]) needs ${need} bytes but data_offsets ${begin}..${end} span ${end - begin}`);
  }
  if (end > dataLen) {
    fail(`${what} needs bytes ${begin}..${end} but the data section has ${dataLen} bytes (file truncated?)`);
  }
  return { name, dtype: dt, shape: shp, begin, end };
}

// Tensors must not share bytes, and together must account for the whole data section.
function checkDataCoverage(entries: HeaderEntry[], dataLen: number, fail: Fail): void {
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let coveredEnd = 0;
  let prev: HeaderEntry | undefined;
  for (const e of byOffset) {
    if (prev && e.begin < prev.end && e.end > e.begin) {
      fail(`tensor "${e.name}" (bytes ${e.begin}..${e.end}) overlaps tensor "${prev.name}" (bytes ${prev.begin}..${prev.end})`);
    }
    if (e.end > coveredEnd) {
      coveredEnd = e.end;
      prev = e;
    }
  }
  if (coveredEnd !== dataLen) {
    fail(`the data section has ${dataLen} bytes but the tensors only use ${coveredEnd} (trailing bytes: corrupt file or wrong header length)`);
  }
}

/** Parse a whole safetensors file held in memory. `path` is only used in error messages. */
export function parseSafetensors(buf: Uint8Array, path: string): TensorFile {
  const fail = (msg: string): never => {
    throw new Error(`${path}: ${msg}`);
  };
  const { header, dataStart } = readHeader(buf, fail);
  const dataLen = buf.byteLength - dataStart;
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') metadata = parseMetadata(raw, fail);
    else entries.push(parseTensorEntry(name, raw, dataLen, fail));
  }
  checkDataCoverage(entries, dataLen, fail);

  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    const bytes = buf.subarray(dataStart + e.begin, dataStart + e.end);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: typedArrayFromBytes(e.dtype, bytes) });
  }
  return { path, tensors, metadata };
}

/** A whole file in memory. Unlike fs.readFile (2 GiB cap) this reads in chunks, for multi-GB checkpoints. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const out = new Uint8Array(size);
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await fh.read(out, pos, Math.min(size - pos, 1 << 30), pos);
      if (bytesRead === 0) throw new Error(`${path}: file shrank while being read (${pos} of ${size} bytes)`);
      pos += bytesRead;
    }
    return out;
  } finally {
    await fh.close();
  }
}

export async function readSafetensors(path: string): Promise<TensorFile> {
  return parseSafetensors(await readFileBytes(path), path);
}

// ---------------------------------------------------------------- conversion to float32

let halfTable: Float32Array | undefined;

/** IEEE 754 binary16 bit pattern → number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero / subnormal
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function getHalfTable(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfToFloat(i);
  }
  return halfTable;
}

/**
 * Values of any dtype as float32. F32 data is returned as is (not copied); every other dtype
 * gives a fresh array. F16 is IEEE half (subnormals, ±inf, NaN), BF16 the top 16 bits of a float32.
 */
export function toFloat32(t: RawTensor, name = 'tensor'): Float32Array {
  const n = numelOf(t.shape);
  if (!isDType(t.dtype)) throw new Error(`${name}: unknown dtype ${JSON.stringify(t.dtype)}`);
  if (t.data.length !== n) {
    throw new Error(`${name}: shape [${t.shape.join(', ')}] has ${n} elements but the data has ${t.data.length}`);
  }
  const expected = CTOR[t.dtype];
  if (!(t.data instanceof (expected as unknown as Function))) {
    throw new Error(`${name}: dtype ${t.dtype} needs a ${expectedArrayName(t.dtype)}, got ${t.data.constructor.name}`);
  }
  switch (t.dtype) {
    case 'F32':
      return t.data as Float32Array;
    case 'F16': {
      const table = getHalfTable();
      const src = t.data as Uint16Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[src[i]];
      return out;
    }
    case 'BF16': {
      const src = t.data as Uint16Array;
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = src[i] << 16;
      return out;
    }
    case 'I64': {
      const src = t.data as BigInt64Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]);
      return out;
    }
    default: {
      const src = t.data as Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = src[i];
      return out;
    }
  }
}

// ---------------------------------------------------------------- writing

export type TensorInput = RawTensor;

/**
 * The bytes of a safetensors file, laid out as the reference library does: tensors sorted by
 * item size (largest first) then name, so every offset is a multiple of its item size; the JSON
 * header padded with spaces to a multiple of 8 so the data section starts 8-aligned.
 */
export function serializeSafetensors(
  tensors: Record<string, TensorInput> | Map<string, TensorInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  assertLittleEndianHost();
  const list = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new Error('"__metadata__" is reserved and cannot be a tensor name');
    if (!isDType(t.dtype)) throw new Error(`tensor "${name}": unknown dtype ${JSON.stringify(t.dtype)} (supported: ${DTYPES.join(', ')})`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`tensor "${name}": shape must be non-negative integers, got ${JSON.stringify(t.shape)}`);
    }
    if (!(t.data instanceof (CTOR[t.dtype] as unknown as Function))) {
      throw new Error(`tensor "${name}": dtype ${t.dtype} needs a ${expectedArrayName(t.dtype)}, got ${t.data?.constructor?.name}`);
    }
    if (t.data.length !== numelOf(t.shape)) {
      throw new Error(`tensor "${name}": shape [${t.shape.join(', ')}] has ${numelOf(t.shape)} elements but the data has ${t.data.length}`);
    }
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`metadata "${k}" must be a string, got ${JSON.stringify(v)}`);
    }
  }
  list.sort(([na, a], [nb, b]) => ITEM_SIZE[b.dtype] - ITEM_SIZE[a.dtype] || (na < nb ? -1 : na > nb ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of list) {
    const nbytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + padded);
  let pos = 8 + padded;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorInput> | Map<string, TensorInput>,
  metadata?: Record<string, string>,
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = serializeSafetensors(tensors, metadata);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  await writeFile(path, bytes);
}
