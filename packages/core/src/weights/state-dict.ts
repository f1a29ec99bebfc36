// One entry point for weight files: picks the reader from the bytes, not the file extension.
import { isLegacyTorchFile, isZipFile, parseTorchCheckpoint } from './pytorch';
import { parseSafetensors, readFileBytes, type RawTensor } from './safetensors';

export type WeightFormat = 'safetensors' | 'pytorch';

export interface StateDict {
  tensors: Map<string, RawTensor>;
  format: WeightFormat;
  /** The safetensors `__metadata__` (absent for PyTorch checkpoints). */
  metadata?: Record<string, string>;
}

/** Which reader fits these bytes, or undefined. */
export function detectWeightFormat(buf: Uint8Array): WeightFormat | undefined {
  if (isZipFile(buf) || isLegacyTorchFile(buf)) return 'pytorch';
  // safetensors (checked after the exact PyTorch prefixes: a header length like 0x280 also starts with 0x80): u64 header length that fits in the file, then a JSON object.
  if (buf.byteLength >= 10) {
    const n = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(0, true);
    if (n >= 2n && n <= BigInt(buf.byteLength - 8) && buf[8] === 0x7b /* { */) return 'safetensors';
  }
  return undefined;
}

export function parseStateDict(buf: Uint8Array, path: string): StateDict {
  const format = detectWeightFormat(buf);
  if (format === 'safetensors') {
    const f = parseSafetensors(buf, path);
    return { tensors: f.tensors, format, metadata: f.metadata };
  }
  if (format === 'pytorch') return { tensors: parseTorchCheckpoint(buf, path), format };
  const head = Array.from(buf.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new Error(
    `${path}: unknown weight file format (first bytes ${head || '(empty file)'}); expected safetensors ` +
      `(8-byte header length + JSON header) or a PyTorch torch.save checkpoint (zip "PK\\x03\\x04" or a legacy pickle)`,
  );
}

/** Read a safetensors file or a PyTorch checkpoint, whatever its extension. */
export async function readStateDict(path: string): Promise<StateDict> {
  return parseStateDict(await readFileBytes(path), path);
}
