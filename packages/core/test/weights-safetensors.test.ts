/**
 * safetensors reader / writer: the golden fixtures (geometry from config.json), hand-worked
 * half / bfloat16 bit patterns, hand-built corrupt files, and byte layouts checked by hand.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  halfToFloat,
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  toFloat32,
  writeSafetensors,
  type DType,
  type RawTensor,
} from '../src/weights/safetensors';
import { CLIP_DIR } from './helpers/weights-fixtures';

const tmp = mkdtempSync(join(tmpdir(), 'weights-st-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const config = JSON.parse(readFileSync(join(CLIP_DIR, 'config.json'), 'utf8'));
const V = config.vision_config;
const T = config.text_config;

/** Build a safetensors file by hand: header JSON text (unpadded) + data bytes. */
function handMade(headerText: string, data: Uint8Array | number[] = []): Uint8Array {
  const h = new TextEncoder().encode(headerText);
  const d = Uint8Array.from(data);
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

describe('reading the golden model.safetensors', async () => {
  const file = await readSafetensors(join(CLIP_DIR, 'model.safetensors'));
  const t = (name: string): RawTensor => {
    const x = file.tensors.get(name);
    if (!x) throw new Error(`missing ${name}`);
    return x;
  };

  it('has every tensor of the HF CLIP layout for this geometry', () => {
    // Per layer: q/k/v/out proj (w+b) = 8, layer_norm1/2 (w+b) = 4, fc1/fc2 (w+b) = 4 → 16.
    const vision = 16 * V.num_hidden_layers + 3 /* patch, class, position emb. */ + 1 /* position_ids */ + 4 /* pre/post LN */;
    const text = 16 * T.num_hidden_layers + 2 /* token, position emb. */ + 1 /* position_ids */ + 2 /* final LN */;
    expect(file.tensors.size).toBe(vision + text + 2 /* projections */ + 1 /* logit_scale */);
  });

  it('has the documented shapes and dtypes', () => {
    const D = V.hidden_size;
    expect(t('vision_model.encoder.layers.0.self_attn.q_proj.weight')).toMatchObject({ dtype: 'F32', shape: [D, D] });
    expect(t('vision_model.embeddings.patch_embedding.weight').shape).toEqual([D, 3, V.patch_size, V.patch_size]);
    expect(t('visual_projection.weight').shape).toEqual([config.projection_dim, D]);
    expect(t('text_model.embeddings.token_embedding.weight').shape).toEqual([T.vocab_size, T.hidden_size]);
    expect(t('logit_scale')).toMatchObject({ dtype: 'F32', shape: [] });
    expect(t('logit_scale').data.length).toBe(1);
  });

  it('reads values: position_ids are 0..L-1 as I64 and logit_scale is the config value', () => {
    const pid = t('text_model.embeddings.position_ids');
    expect(pid.dtype).toBe('I64');
    expect(pid.shape).toEqual([1, T.max_position_embeddings]);
    expect(Array.from(pid.data as BigInt64Array, Number)).toEqual([...Array(T.max_position_embeddings).keys()]);
    const lv = (V.image_size / V.patch_size) ** 2 + 1;
    expect(Array.from(t('vision_model.embeddings.position_ids').data as BigInt64Array, Number)).toEqual([...Array(lv).keys()]);
    expect(toFloat32(t('logit_scale'))[0]).toBeCloseTo(config.logit_scale_init_value, 5);
  });

  it('agrees with the bytes located by hand from the raw header', () => {
    const buf = readFileSync(join(CLIP_DIR, 'model.safetensors'));
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
    const name = 'vision_model.encoder.layers.0.self_attn.q_proj.weight';
    const [begin] = header[name].data_offsets;
    const got = t(name).data as Float32Array;
    for (const i of [0, 1, 777, got.length - 1]) expect(got[i]).toBe(buf.readFloatLE(8 + n + begin + 4 * i));
  });

  it('reads cases.safetensors (ids and attention probabilities behave as documented)', async () => {
    const cases = await readSafetensors(join(CLIP_DIR, 'cases.safetensors'));
    const ids = cases.tensors.get('input_ids')!;
    expect(ids.dtype).toBe('I64');
    const [B, L] = ids.shape;
    const row0 = Array.from((ids.data as BigInt64Array).subarray(0, L), Number);
    expect(row0[0]).toBe(T.bos_token_id);
    const pool = Array.from(cases.tensors.get('text_pool_index')!.data as BigInt64Array, Number);
    expect(pool).toHaveLength(B);
    expect(row0[pool[0]]).toBe(T.eos_token_id);
    // Softmax rows sum to 1.
    const att = cases.tensors.get('vision_attention_last')!;
    const Lv = att.shape[att.shape.length - 1];
    const a = toFloat32(att);
    let s = 0;
    for (let j = 0; j < Lv; j++) s += a[j];
    expect(s).toBeCloseTo(1, 5);
  });
});

describe('float16 / bfloat16 → float32', () => {
  const half = (bits: number[]) => toFloat32({ dtype: 'F16', shape: [bits.length], data: Uint16Array.from(bits) });
  it('decodes hand-worked half patterns', () => {
    // 0x3C00: exp 15 → 1.0; 0xC000: sign, exp 16 → -2; 0x7BFF: exp 30, frac 1023 → (2 - 2^-10)·2^15 = 65504;
    // 0x0001: subnormal 2^-24; 0x03FF: largest subnormal 1023·2^-24; 0x3555: ≈ 1/3; 0x8000: -0.
    const v = half([0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x3555, 0x8000, 0x7c00, 0xfc00, 0x7e00]);
    expect(Array.from(v.subarray(0, 6))).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, Math.fround((1 + 341 / 1024) / 4)]);
    expect(Object.is(v[6], -0)).toBe(true);
    expect(v[7]).toBe(Infinity);
    expect(v[8]).toBe(-Infinity);
    expect(Number.isNaN(v[9])).toBe(true);
    expect(halfToFloat(0x3c01)).toBe(1 + 2 ** -10);
  });
  it('decodes bfloat16 as the top half of a float32', () => {
    // 0x3F80 → 0x3F800000 = 1.0; 0xC040 → -3.0; 0x4049 → 0x40490000 = 3.140625; 0x7F80 → inf.
    const v = toFloat32({ dtype: 'BF16', shape: [5], data: Uint16Array.from([0x3f80, 0xc040, 0x4049, 0x7f80, 0x0001]) });
    expect(Array.from(v.subarray(0, 4))).toEqual([1, -3, 3.140625, Infinity]);
    expect(v[4]).toBe(Math.fround(2 ** -133)); // smallest bf16 subnormal = 2^-126 · 2^-7
  });
  it('converts integer and double tensors, and rejects mismatched data', () => {
    expect(Array.from(toFloat32({ dtype: 'I64', shape: [2], data: BigInt64Array.from([-5n, 7n]) }))).toEqual([-5, 7]);
    expect(Array.from(toFloat32({ dtype: 'F64', shape: [1], data: Float64Array.from([0.5]) }))).toEqual([0.5]);
    expect(() => toFloat32({ dtype: 'F32', shape: [3], data: new Float32Array(2) }, 'w')).toThrow(/w: shape \[3\] has 3 elements but the data has 2/);
    expect(() => toFloat32({ dtype: 'F16', shape: [1], data: new Float32Array(1) }, 'w')).toThrow(/w: dtype F16 needs a Uint16Array/);
  });
});

describe('corrupt files give errors naming the file and tensor', () => {
  it('truncated copy of the fixture names the tensor that runs off the end', async () => {
    const src = readFileSync(join(CLIP_DIR, 'model.safetensors'));
    const n = Number(src.readBigUInt64LE(0));
    const header = JSON.parse(src.subarray(8, 8 + n).toString('utf8'));
    // The tensor whose bytes end last is the one a cut at the end damages.
    const [lastName, last] = Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .sort((a: any, b: any) => b[1].data_offsets[1] - a[1].data_offsets[1])[0] as [string, { data_offsets: number[] }];
    const cut = join(tmp, 'model.safetensors');
    writeFileSync(cut, src.subarray(0, src.length - 100));
    const dataLen = src.length - 100 - 8 - n;
    await expect(readSafetensors(cut)).rejects.toThrow(
      `${cut}: tensor "${lastName}" needs bytes ${last.data_offsets[0]}..${last.data_offsets[1]} but the data section has ${dataLen} bytes (file truncated?)`,
    );
  });

  it('header length beyond the file', () => {
    const b = handMade('{}');
    new DataView(b.buffer).setBigUint64(0, 1000n, true);
    expect(() => parseSafetensors(b, 'x.safetensors')).toThrow(/x\.safetensors: header length field says 1000 bytes but only 2 bytes follow/);
    expect(() => parseSafetensors(new Uint8Array(5), 'y.safetensors')).toThrow(/y\.safetensors: .*too short/);
  });

  it('bad JSON', () => {
    expect(() => parseSafetensors(handMade('{"a": {'), 'bad.safetensors')).toThrow(/bad\.safetensors: the 7-byte header is not valid UTF-8 JSON/);
    expect(() => parseSafetensors(handMade('[1]'), 'arr.safetensors')).toThrow(/arr\.safetensors: the header is not a JSON object/);
  });

  it('unknown dtype', () => {
    const b = handMade('{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', [0]);
    expect(() => parseSafetensors(b, 'u.safetensors')).toThrow(/u\.safetensors: tensor "w" has unknown dtype "F8_E4M3"/);
  });

  it('offsets that disagree with shape × item size', () => {
    const b = handMade('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}', new Array(12).fill(0));
    expect(() => parseSafetensors(b, 'o.safetensors')).toThrow(/o\.safetensors: tensor "w" \(F32 \[2, 2\]\) needs 16 bytes but data_offsets 0\.\.12 span 12/);
  });

  it('overlapping tensors', () => {
    const b = handMade(
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
      new Array(12).fill(0),
    );
    expect(() => parseSafetensors(b, 'ov.safetensors')).toThrow(/ov\.safetensors: tensor "b" \(bytes 4\.\.12\) overlaps tensor "a" \(bytes 0\.\.8\)/);
  });

  it('data section larger than the tensors', () => {
    const b = handMade('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}', [1, 2, 3]);
    expect(() => parseSafetensors(b, 't.safetensors')).toThrow(/t\.safetensors: the data section has 3 bytes but the tensors only use 2/);
  });

  it('non-string metadata', () => {
    const b = handMade('{"__metadata__":{"n":3}}');
    expect(() => parseSafetensors(b, 'm.safetensors')).toThrow(/m\.safetensors: "__metadata__"\."n" must be a string/);
  });
});

describe('alignment', () => {
  it('reads tensors at offsets that are not multiples of their item size (copying them)', () => {
    // One U8 byte, then a little-endian F32 1.5 (0x3FC00000) at data offset 1, an I64 -2 at offset 5.
    const header = '{"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"f":{"dtype":"F32","shape":[],"data_offsets":[1,5]},"i":{"dtype":"I64","shape":[1],"data_offsets":[5,13]}}';
    const data = [7, 0x00, 0x00, 0xc0, 0x3f, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const f = parseSafetensors(handMade(header, data), 'ua.safetensors');
    expect(Array.from(f.tensors.get('b')!.data as Uint8Array)).toEqual([7]);
    expect(Array.from(f.tensors.get('f')!.data as Float32Array)).toEqual([1.5]);
    expect(Array.from(f.tensors.get('i')!.data as BigInt64Array)).toEqual([-2n]);
  });
});

describe('writing', () => {
  const samples: Record<DType, RawTensor> = {
    F64: { dtype: 'F64', shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
    F32: { dtype: 'F32', shape: [2, 2], data: Float32Array.from([1, -2.5, 3e-38, 7]) },
    F16: { dtype: 'F16', shape: [3], data: Uint16Array.from([0x3c00, 0x0001, 0x7bff]) },
    BF16: { dtype: 'BF16', shape: [1], data: Uint16Array.from([0x3f80]) },
    I64: { dtype: 'I64', shape: [1, 2], data: BigInt64Array.from([-(2n ** 62n), 76n]) },
    I32: { dtype: 'I32', shape: [], data: Int32Array.from([-123456]) },
    I16: { dtype: 'I16', shape: [3], data: Int16Array.from([-32768, 0, 32767]) },
    I8: { dtype: 'I8', shape: [2], data: Int8Array.from([-128, 127]) },
    U8: { dtype: 'U8', shape: [3], data: Uint8Array.from([0, 128, 255]) },
    BOOL: { dtype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
  };

  it('round-trips every dtype and the metadata through a file', async () => {
    const p = join(tmp, 'all.safetensors');
    await writeSafetensors(p, samples, { format: 'pt', note: 'ünïcode' });
    const back = await readSafetensors(p);
    expect(back.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect(back.tensors.size).toBe(10);
    for (const [name, t] of Object.entries(samples)) {
      const got = back.tensors.get(name)!;
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(got.data.constructor).toBe(t.data.constructor);
      expect(Array.from(got.data as ArrayLike<unknown> as unknown[])).toEqual(Array.from(t.data as ArrayLike<unknown> as unknown[]));
    }
  });

  it('lays the bytes out as the spec says (checked by hand)', () => {
    const bytes = serializeSafetensors(
      new Map<string, RawTensor>([
        ['b', { dtype: 'U8', shape: [3], data: Uint8Array.from([1, 2, 3]) }],
        ['a', { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) }],
        ['c', { dtype: 'I64', shape: [], data: BigInt64Array.from([5n]) }],
      ]),
      { k: 'v' },
    );
    // Largest item size first (I64 c, F32 a, U8 b): offsets 0..8, 8..16, 16..19.
    const json =
      '{"__metadata__":{"k":"v"},"c":{"dtype":"I64","shape":[],"data_offsets":[0,8]},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"b":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}}';
    const padded = Math.ceil(json.length / 8) * 8;
    const dv = new DataView(bytes.buffer);
    expect(Number(dv.getBigUint64(0, true))).toBe(padded);
    expect(padded % 8).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + padded))).toBe(json + ' '.repeat(padded - json.length));
    expect(bytes.length).toBe(8 + padded + 19);
    const d = 8 + padded;
    expect(d % 8).toBe(0);
    expect(dv.getBigInt64(d, true)).toBe(5n);
    expect(dv.getFloat32(d + 8, true)).toBe(1);
    expect(dv.getFloat32(d + 12, true)).toBe(2);
    expect(Array.from(bytes.subarray(d + 16))).toEqual([1, 2, 3]);
  });

  it('rejects inconsistent input with the tensor name', async () => {
    await expect(writeSafetensors(join(tmp, 'bad.safetensors'), { w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).rejects.toThrow(
      /bad\.safetensors: tensor "w": shape \[3\] has 3 elements but the data has 2/,
    );
    expect(() => serializeSafetensors({ w: { dtype: 'I64', shape: [1], data: new Int32Array(1) as never } })).toThrow(/tensor "w": dtype I64 needs a BigInt64Array/);
  });
});
