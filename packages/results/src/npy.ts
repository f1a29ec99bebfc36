/** float32 NumPy .npy files: written as format 1.0; read as 1.0/2.0/3.0 (little-endian '<f4', C order). */

export function decodeNpy(buf: Buffer, name = '<buffer>'): { data: Float32Array; shape: number[] } {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${name}: not a .npy file (magic \\x93NUMPY missing)`);
  const major = buf[6];
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    headerLen = buf.readUInt32LE(8);
    start = 12;
  } else throw new Error(`${name}: unsupported .npy version ${major}.${buf[7]}`);
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  if (descr !== '<f4') throw new Error(`${name}: dtype must be '<f4' (little-endian float32), got '${descr}'`);
  if (/'fortran_order'\s*:\s*True/.test(header)) throw new Error(`${name}: fortran_order arrays are not supported`);
  const shapeStr = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeStr === undefined) throw new Error(`${name}: header has no shape`);
  const shape = shapeStr
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const off = start + headerLen;
  if (buf.length - off !== count * 4) throw new Error(`${name}: shape (${shape.join(', ')}) needs ${count * 4} data bytes, file has ${buf.length - off}`);
  // Copy: the data offset need not be 4-byte aligned inside the Buffer's pool.
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(off + i * 4);
  return { data, shape };
}

/** Writes format 1.0, so maps open with np.load in Python. */
export function encodeNpy(data: Float32Array, shape: number[]): Buffer {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces and a newline to 64 bytes.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}
