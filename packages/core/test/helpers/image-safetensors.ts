/**
 * Minimal safetensors reader for the image tests only (the package's real reader is developed
 * separately; this keeps these tests independent of it). Format: u64 LE header length, a JSON
 * header {name: {dtype, shape, data_offsets: [begin, end]}} (offsets relative to the data start),
 * then the data. Supports the dtypes the preprocess fixture uses: U8, I64, F32.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_FIXTURES } from '../../src/testing';

export interface Tensor {
  dtype: string;
  shape: number[];
  data: Uint8Array | Float32Array | BigInt64Array;
}

export function readSafetensors(file: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const buf = readFileSync(file);
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown>;
  const base = 8 + headerLen;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = v as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    // Copy so the typed array is aligned regardless of the offset.
    const bytes = buf.subarray(base + data_offsets[0], base + data_offsets[1]);
    const copy = new Uint8Array(bytes);
    let data: Tensor['data'];
    if (dtype === 'U8') data = copy;
    else if (dtype === 'F32') data = new Float32Array(copy.buffer, 0, copy.length / 4);
    else if (dtype === 'I64') data = new BigInt64Array(copy.buffer, 0, copy.length / 8);
    else throw new Error(`${file}: tensor ${name} has dtype ${dtype}, this test reader supports U8, I64, F32`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new Error(`${file}: tensor ${name} has ${data.length} values, shape ${shape} needs ${count}`);
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}

export { REPO_ROOT } from '../../src/testing';
export const PREPROCESS_DIR = path.resolve(SHARED_FIXTURES, 'preprocess');

export function tensor(t: Map<string, Tensor>, name: string): Tensor {
  const v = t.get(name);
  if (!v) throw new Error(`fixture tensor ${name} missing`);
  return v;
}
