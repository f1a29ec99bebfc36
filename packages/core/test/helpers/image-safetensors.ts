// The preprocessing fixture (expected.safetensors), read with the package's own reader
// (itself tested against hand-built files in weights-safetensors.test.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_FIXTURES } from '../../src/testing';
import { parseSafetensors, type RawTensor, type TensorFile } from '../../src/weights/safetensors';

export type Tensor = RawTensor;

export function readSafetensors(file: string): Pick<TensorFile, 'tensors' | 'metadata'> {
  return parseSafetensors(readFileSync(file), file);
}

export { REPO_ROOT } from '../../src/testing';
export const PREPROCESS_DIR = path.resolve(SHARED_FIXTURES, 'preprocess');

export function tensor(t: Map<string, Tensor>, name: string): Tensor {
  const v = t.get(name);
  if (!v) throw new Error(`fixture tensor ${name} missing`);
  return v;
}
