/**
 * PyTorch checkpoint reader: the golden torch.save file (PyTorch 1.13) checked value by value
 * against model.safetensors, plus checkpoints built by hand with the test pickle writer
 * (opcodes from the pickle spec) and zipped with fflate, as torch.save lays them out.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors, toFloat32, type RawTensor } from '../src/weights/safetensors';
import { parseTorchCheckpoint, readTorchCheckpoint } from '../src/weights/pytorch';
import { CLIP_DIR } from './helpers/weights-fixtures';
import { PickleWriter, torchLegacy, torchZip, type Py, type StorageSpec } from './helpers/weights-pickle-writer';

const tmp = mkdtempSync(join(tmpdir(), 'weights-pt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function save(name: string, bytes: Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
function storage(key: string, type: string, data: ArrayBufferView & { length: number }): StorageSpec {
  return { key, type, numel: data.length, bytes: bytesOf(data) };
}
function contiguousStride(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}
function tensor(s: StorageSpec, shape: number[], offset = 0, stride = contiguousStride(shape), param = false): Py {
  return { tensor: { storage: s, offset, size: shape, stride }, param };
}
const values = (t: RawTensor | undefined): unknown[] => Array.from((t!.data as ArrayLike<unknown>) as unknown[]);

describe('the golden openai_state_dict.pt', async () => {
  const config = JSON.parse(readFileSync(join(CLIP_DIR, 'config.json'), 'utf8'));
  const V = config.vision_config;
  const T = config.text_config;
  const pt = await readTorchCheckpoint(join(CLIP_DIR, 'openai_state_dict.pt'));
  const hf = (await readSafetensors(join(CLIP_DIR, 'model.safetensors'))).tensors;
  const P = (k: string) => {
    const t = pt.get(k);
    if (!t) throw new Error(`openai_state_dict.pt lacks ${k}`);
    return t;
  };
  const H = (k: string) => toFloat32(hf.get(k)!, k);

  /** Equal element for element (same float32 values written twice by the fixture generator). */
  function same(ptKey: string, want: Float32Array, rows?: [number, number]): void {
    let got = toFloat32(P(ptKey), ptKey);
    if (rows) {
      const w = got.length / P(ptKey).shape[0];
      got = got.subarray(rows[0] * w, rows[1] * w);
    }
    expect(got.length, ptKey).toBe(want.length);
    let bad = -1;
    for (let i = 0; i < want.length && bad < 0; i++) if (got[i] !== want[i]) bad = i;
    expect(bad, `${ptKey} first mismatch`).toBe(-1);
  }
  function transposed(ptKey: string, hfKey: string): void {
    const [r, c] = hf.get(hfKey)!.shape;
    expect(P(ptKey).shape).toEqual([c, r]);
    const a = toFloat32(P(ptKey));
    const b = H(hfKey);
    let bad = 0;
    for (let i = 0; i < c; i++) for (let j = 0; j < r; j++) if (a[i * r + j] !== b[j * c + i]) bad++;
    expect(bad, `${ptKey} vs ${hfKey}ᵀ`).toBe(0);
  }

  it('has every OpenAI-layout key, with the documented shapes', () => {
    // Per block: in_proj w/b, out_proj w/b, ln_1 w/b, c_fc w/b, c_proj w/b, ln_2 w/b = 12.
    const visual = 3 /* conv1, class_emb, pos_emb */ + 2 /* ln_pre */ + 12 * V.num_hidden_layers + 2 /* ln_post */ + 1 /* proj */;
    const text = 2 /* token, positional */ + 12 * T.num_hidden_layers + 2 /* ln_final */ + 1 /* text_projection */;
    expect(pt.size).toBe(visual + text + 1 /* logit_scale */);
    const D = V.hidden_size;
    expect(P('visual.conv1.weight')).toMatchObject({ dtype: 'F32', shape: [D, 3, V.patch_size, V.patch_size] });
    expect(P('visual.transformer.resblocks.0.attn.in_proj_weight').shape).toEqual([3 * D, D]);
    expect(P('visual.proj').shape).toEqual([D, config.projection_dim]);
    expect(P('logit_scale').shape).toEqual([]);
    expect(toFloat32(P('logit_scale'))[0]).toBeCloseTo(config.logit_scale_init_value, 5);
  });

  it('equals model.safetensors tensor for tensor (projections transposed, q;k;v stacked)', () => {
    transposed('visual.proj', 'visual_projection.weight');
    transposed('text_projection', 'text_projection.weight');
    same('visual.conv1.weight', H('vision_model.embeddings.patch_embedding.weight'));
    same('visual.class_embedding', H('vision_model.embeddings.class_embedding'));
    same('visual.positional_embedding', H('vision_model.embeddings.position_embedding.weight'));
    same('token_embedding.weight', H('text_model.embeddings.token_embedding.weight'));
    same('positional_embedding', H('text_model.embeddings.position_embedding.weight'));
    same('logit_scale', H('logit_scale'));
    for (const [a, b] of [['weight', 'weight'], ['bias', 'bias']]) {
      same(`visual.ln_pre.${a}`, H(`vision_model.pre_layrnorm.${b}`));
      same(`visual.ln_post.${a}`, H(`vision_model.post_layernorm.${b}`));
      same(`ln_final.${a}`, H(`text_model.final_layer_norm.${b}`));
    }
    const towers: [string, string, number][] = [
      ['visual.transformer', 'vision_model', V.num_hidden_layers],
      ['transformer', 'text_model', T.num_hidden_layers],
    ];
    for (const [o, h, n] of towers) {
      const D = hf.get(`${h}.encoder.layers.0.self_attn.q_proj.weight`)!.shape[0];
      for (let l = 0; l < n; l++) {
        const ob = `${o}.resblocks.${l}`;
        const hb = `${h}.encoder.layers.${l}`;
        ['q', 'k', 'v'].forEach((x, i) => {
          same(`${ob}.attn.in_proj_weight`, H(`${hb}.self_attn.${x}_proj.weight`), [i * D, (i + 1) * D]);
          same(`${ob}.attn.in_proj_bias`, H(`${hb}.self_attn.${x}_proj.bias`), [i * D, (i + 1) * D]);
        });
        for (const p of ['weight', 'bias']) {
          same(`${ob}.attn.out_proj.${p}`, H(`${hb}.self_attn.out_proj.${p}`));
          same(`${ob}.ln_1.${p}`, H(`${hb}.layer_norm1.${p}`));
          same(`${ob}.ln_2.${p}`, H(`${hb}.layer_norm2.${p}`));
          same(`${ob}.mlp.c_fc.${p}`, H(`${hb}.mlp.fc1.${p}`));
          same(`${ob}.mlp.c_proj.${p}`, H(`${hb}.mlp.fc2.${p}`));
        }
      }
    }
  });
});

describe('hand-built torch.save checkpoints', () => {
  const w = storage('0', 'FloatStorage', Float32Array.from([1, 2, 3, 4, 5, 6]));
  const b = storage('1', 'FloatStorage', Float32Array.from([-0.5, 0.25]));
  const sd = (prefix = ''): Py => ({
    odict: [
      [`${prefix}fc.weight`, tensor(w, [2, 3])],
      [`${prefix}fc.bias`, tensor(b, [2])],
    ],
  });
  function expectFc(m: Map<string, RawTensor>, prefix = ''): void {
    expect([...m.keys()]).toEqual([`${prefix}fc.weight`, `${prefix}fc.bias`]);
    expect(m.get(`${prefix}fc.weight`)).toMatchObject({ dtype: 'F32', shape: [2, 3] });
    expect(values(m.get(`${prefix}fc.weight`))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(values(m.get(`${prefix}fc.bias`))).toEqual([-0.5, 0.25]);
  }

  it('a plain OrderedDict (protocol 2)', async () => {
    expectFc(await readTorchCheckpoint(save('plain.pt', torchZip(sd()))));
  });

  it('protocol 4 (FRAME, STACK_GLOBAL, MEMOIZE), nn.Parameter and a state dict carrying _metadata via BUILD', async () => {
    const v: Py = {
      odict: [
        ['fc.weight', tensor(w, [2, 3], 0, [3, 1], true)],
        ['fc.bias', tensor(b, [2])],
      ],
      state: { dict: [['_metadata', { odict: [['', { dict: [['version', 1]] }]] }]] },
    };
    expectFc(await readTorchCheckpoint(save('p4.pt', torchZip(v, { protocol: 4, archive: 'p4' }))));
  });

  it('{"state_dict": …} with other entries ignored', async () => {
    const v: Py = { dict: [['epoch', 3], ['best_acc', { float: 0.5 }], ['state_dict', sd()], ['arch', 'vit']] };
    expectFc(await readTorchCheckpoint(save('wrapped-sd.pt', torchZip(v))));
  });

  it('{"model": …} next to an optimizer, and `module.` prefixes kept', async () => {
    const opt: Py = { dict: [['state', { dict: [] }], ['param_groups', { list: [{ dict: [['lr', { float: 0.1 }], ['params', { list: [0, 1] }]] }] }]] };
    const v: Py = { dict: [['model', sd('module.')], ['optimizer', opt], ['step', 2 ** 40]] };
    expectFc(await readTorchCheckpoint(save('wrapped-model.pt', torchZip(v))), 'module.');
  });

  it('nested wrappers ({"module": {"state_dict": …}})', async () => {
    const v: Py = { dict: [['module', { dict: [['state_dict', sd()]] }]] };
    expectFc(await readTorchCheckpoint(save('nested.pt', torchZip(v))));
  });

  it('float16 and bfloat16 storages', async () => {
    const h = storage('h', 'HalfStorage', Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001]));
    const bf = storage('bf', 'BFloat16Storage', Uint16Array.from([0x3f80, 0xc040]));
    const m = await readTorchCheckpoint(save('half.pt', torchZip({ odict: [['h', tensor(h, [2, 2])], ['bf', tensor(bf, [2])]] })));
    expect(m.get('h')).toMatchObject({ dtype: 'F16', shape: [2, 2] });
    expect(Array.from(toFloat32(m.get('h')!))).toEqual([1, -2, 65504, 2 ** -24]);
    expect(m.get('bf')!.dtype).toBe('BF16');
    expect(Array.from(toFloat32(m.get('bf')!))).toEqual([1, -3]);
  });

  it('integer, double and bool storages', async () => {
    const v: Py = {
      odict: [
        ['ids', tensor(storage('a', 'LongStorage', BigInt64Array.from([0n, -1n, 2n ** 40n])), [1, 3])],
        ['i32', tensor(storage('b', 'IntStorage', Int32Array.from([-7, 9])), [2])],
        ['f64', tensor(storage('c', 'DoubleStorage', Float64Array.from([Math.PI])), [])],
        ['u8', tensor(storage('d', 'ByteStorage', Uint8Array.from([255, 0])), [2])],
        ['mask', tensor(storage('e', 'BoolStorage', Uint8Array.from([1, 0, 1])), [3])],
      ],
    };
    const m = await readTorchCheckpoint(save('ints.pt', torchZip(v)));
    expect(m.get('ids')).toMatchObject({ dtype: 'I64', shape: [1, 3] });
    expect(values(m.get('ids'))).toEqual([0n, -1n, 2n ** 40n]);
    expect(values(m.get('i32'))).toEqual([-7, 9]);
    expect(m.get('f64')).toMatchObject({ dtype: 'F64', shape: [] });
    expect(values(m.get('f64'))).toEqual([Math.PI]);
    expect(values(m.get('u8'))).toEqual([255, 0]);
    expect(m.get('mask')!.dtype).toBe('BOOL');
    expect(values(m.get('mask'))).toEqual([1, 0, 1]);
  });

  it('views with an offset and a transposed stride into one shared storage', async () => {
    // Storage s = 0..11. A = s viewed as 3×4. B: offset 2, size [3,2], stride [1,4] → B[i][j] = s[2 + i + 4j]:
    // rows [2,6], [3,7], [4,8].  C = Aᵀ restricted to columns 1..2: offset 1, size [2,3], stride [1,4]
    // → C[i][j] = s[1 + i + 4j]: [1,5,9], [2,6,10].
    const s = storage('shared', 'FloatStorage', Float32Array.from({ length: 12 }, (_, i) => i));
    const v: Py = { odict: [['A', tensor(s, [3, 4])], ['B', tensor(s, [3, 2], 2, [1, 4])], ['C', tensor(s, [2, 3], 1, [1, 4])]] };
    const m = await readTorchCheckpoint(save('views.pt', torchZip(v)));
    expect(values(m.get('A'))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(m.get('B')!.shape).toEqual([3, 2]);
    expect(values(m.get('B'))).toEqual([2, 6, 3, 7, 4, 8]);
    expect(values(m.get('C'))).toEqual([1, 5, 9, 2, 6, 10]);
    // Each tensor owns its data: writing into A leaves B alone.
    (m.get('A')!.data as Float32Array)[2] = 100;
    expect(values(m.get('B'))[0]).toBe(2);
  });

  it('storages written big-endian (byteorder record)', async () => {
    const be = new Uint8Array(8);
    const dv = new DataView(be.buffer);
    dv.setFloat32(0, 1.5, false);
    dv.setFloat32(4, -2, false);
    const s: StorageSpec = { key: '0', type: 'FloatStorage', numel: 2, bytes: be };
    const m = await readTorchCheckpoint(save('be.pt', torchZip({ odict: [['x', tensor(s, [2])]] }, { byteorder: 'big' })));
    expect(values(m.get('x'))).toEqual([1.5, -2]);
  });

  it('the legacy (pre-1.6) layout', async () => {
    const m = await readTorchCheckpoint(save('legacy.pt', torchLegacy({ dict: [['state_dict', sd()]] })));
    expectFc(m);
  });
});

describe('refusing unsafe or broken checkpoints', () => {
  it('refuses os.system (GLOBAL + REDUCE) without running it', async () => {
    const marker = join(tmp, 'pwned');
    const pkl = PickleWriter.dump({ call: ['os', 'system'], args: [`touch ${marker}`] });
    // PROTO 2 occupies bytes 0-1, so the GLOBAL opcode is at byte 2: the error must come from there,
    // before the REDUCE that would call it.
    expect(pkl[2]).toBe(0x63);
    const p = save('evil.pt', torchZip({ raw: [...pkl.subarray(2, pkl.length - 1)] }));
    const err = await readTorchCheckpoint(p).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(p);
    expect(err?.message).toMatch(/pickle at byte 2: global "os\.system" is refused and was never executed/);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a forbidden global hidden after tensors, also with STACK_GLOBAL (protocol 4)', async () => {
    const s = storage('0', 'FloatStorage', Float32Array.from([1]));
    const v: Py = { odict: [['w', tensor(s, [1])], ['x', { call: ['builtins', 'exec'], args: ['print(1)'] }]] };
    await expect(readTorchCheckpoint(save('evil4.pt', torchZip(v, { protocol: 4 })))).rejects.toThrow(/evil4\.pt.*global "builtins\.exec" is refused/);
  });

  it('a truncated zip', async () => {
    const full = torchZip({ odict: [['w', tensor(storage('0', 'FloatStorage', new Float32Array(64)), [64])]] });
    for (const cut of [full.length - 30, Math.floor(full.length / 2)]) {
      const p = save(`cut-${cut}.pt`, full.subarray(0, cut));
      await expect(readTorchCheckpoint(p)).rejects.toThrow(`${p}: not a complete zip archive: the end-of-central-directory record is missing (file truncated?)`);
    }
  });

  it('a missing storage record names the storage', async () => {
    const v: Py = { odict: [['a', tensor(storage('0', 'FloatStorage', Float32Array.from([1])), [1])], ['b', tensor(storage('1', 'FloatStorage', Float32Array.from([2])), [1])]] };
    const p = save('missing.pt', torchZip(v, { omitStorage: '1' }));
    await expect(readTorchCheckpoint(p)).rejects.toThrow(/missing\.pt.*storage "1" \(record "archive\/data\/1"\) is missing from the archive/);
  });

  it('a view reaching past its storage names tensor and storage', async () => {
    const v: Py = { odict: [['w', tensor(storage('7', 'FloatStorage', new Float32Array(4)), [2, 2], 1)]] };
    const p = save('overrun.pt', torchZip(v));
    await expect(readTorchCheckpoint(p)).rejects.toThrow(/overrun\.pt: tensor "w" .*reads element 4 of storage "7" which has 4 elements/);
  });

  it('a storage record shorter than its element count', async () => {
    const s: StorageSpec = { key: '0', type: 'FloatStorage', numel: 4, bytes: new Uint8Array(8) };
    const p = save('short.pt', torchZip({ odict: [['w', tensor(s, [4])]] }));
    await expect(readTorchCheckpoint(p)).rejects.toThrow(/short\.pt: storage "0" \(record "archive\/data\/0"\) has 8 bytes but 4 × FloatStorage need 16/);
  });

  it('a dict that contains itself under "model" (via the memo) ends with an error, not a hang', async () => {
    const model = [0x58, 5, 0, 0, 0, ...new TextEncoder().encode('model')];
    // EMPTY_DICT, BINPUT 0, MARK, 'model', BINGET 0, SETITEMS
    const p = save('cycle.pt', torchZip({ raw: [0x7d, 0x71, 0, 0x28, ...model, 0x68, 0, 0x75] }));
    await expect(readTorchCheckpoint(p)).rejects.toThrow(/cycle\.pt: no tensors found.*top-level keys: model/);
  });

  it('no tensors / not a checkpoint at all', async () => {
    await expect(readTorchCheckpoint(save('empty.pt', torchZip({ dict: [['epoch', 3]] })))).rejects.toThrow(/empty\.pt: no tensors found.*top-level keys: epoch/);
    expect(() => parseTorchCheckpoint(new TextEncoder().encode('hello'), 'h.pt')).toThrow(/h\.pt: not a PyTorch checkpoint/);
  });
});
