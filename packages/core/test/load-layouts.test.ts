// loadClip across the layouts checkpoints come in: HF folder, OpenAI state dict (.pt and a
// re-stacked copy written here), wrapped / prefixed keys, no config.json; and `convert`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend';
import { loadClip } from '../src/model/load';
import { convertCheckpoint } from '../src/model/convert';
import { parseClipConfig, readClipConfig } from '../src/model/config';
import { readSafetensors, toFloat32, writeSafetensors, type TensorFile } from '../src/weights/safetensors';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from './helpers/fixtures';

let cases: TensorFile;
let hf: TensorFile;
let pixels: tf.Tensor4D;
let ids: number[][];
const tmp = () => mkdtempSync(join(tmpdir(), 'clip-layout-'));

async function embeddings(path: string, opts = {}) {
  const model = await loadClip(path, opts);
  const img = model.encodeImage(pixels);
  const txt = model.encodeText(ids);
  const out = { image: Float32Array.from(img.dataSync()), text: Float32Array.from(txt.dataSync()), model };
  tf.dispose([img, txt]);
  model.dispose();
  return out;
}

function expectReferenceEmbeddings(e: { image: Float32Array; text: Float32Array }) {
  expect(maxAbsDiff(e.image, toFloat32(cases.tensors.get('image_embeds')!))).toBeLessThan(1e-4);
  expect(maxAbsDiff(e.text, toFloat32(cases.tensors.get('text_embeds')!))).toBeLessThan(1e-4);
}

/** HF → OpenAI key layout, written independently of the loader's mapping. */
function toOpenAI(prefix = ''): Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> {
  const get = (k: string) => {
    const t = hf.tensors.get(k)!;
    return { shape: t.shape, data: toFloat32(t, k) };
  };
  const out = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
  const put = (k: string, t: { shape: number[]; data: Float32Array }) => out.set(prefix + k, { dtype: 'F32', ...t });
  const transposed = (k: string) => {
    const { shape: [r, c], data } = get(k);
    const d = new Float32Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) d[j * r + i] = data[i * c + j];
    return { shape: [c, r], data: d };
  };
  const cfg = readClipConfig(CLIP_FIXTURE_DIR);
  for (const [src, dst, n] of [
    ['vision_model.encoder.layers.', 'visual.transformer.resblocks.', cfg.vision.numLayers],
    ['text_model.encoder.layers.', 'transformer.resblocks.', cfg.text.numLayers],
  ] as const) {
    for (let i = 0; i < n; i++) {
      const s = `${src}${i}.`;
      const d = `${dst}${i}.`;
      const stack = (kind: 'weight' | 'bias') => {
        const parts = ['q', 'k', 'v'].map((p) => get(`${s}self_attn.${p}_proj.${kind}`));
        const data = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0));
        let o = 0;
        for (const p of parts) {
          data.set(p.data, o);
          o += p.data.length;
        }
        return { shape: [parts[0].shape[0] * 3, ...parts[0].shape.slice(1)], data };
      };
      put(`${d}attn.in_proj_weight`, stack('weight'));
      put(`${d}attn.in_proj_bias`, stack('bias'));
      for (const p of ['weight', 'bias']) {
        put(`${d}attn.out_proj.${p}`, get(`${s}self_attn.out_proj.${p}`));
        put(`${d}ln_1.${p}`, get(`${s}layer_norm1.${p}`));
        put(`${d}ln_2.${p}`, get(`${s}layer_norm2.${p}`));
        put(`${d}mlp.c_fc.${p}`, get(`${s}mlp.fc1.${p}`));
        put(`${d}mlp.c_proj.${p}`, get(`${s}mlp.fc2.${p}`));
      }
    }
  }
  put('visual.conv1.weight', get('vision_model.embeddings.patch_embedding.weight'));
  put('visual.class_embedding', get('vision_model.embeddings.class_embedding'));
  put('visual.positional_embedding', get('vision_model.embeddings.position_embedding.weight'));
  for (const p of ['weight', 'bias']) {
    put(`visual.ln_pre.${p}`, get(`vision_model.pre_layrnorm.${p}`));
    put(`visual.ln_post.${p}`, get(`vision_model.post_layernorm.${p}`));
    put(`ln_final.${p}`, get(`text_model.final_layer_norm.${p}`));
  }
  put('visual.proj', transposed('visual_projection.weight'));
  put('text_projection', transposed('text_projection.weight'));
  put('token_embedding.weight', get('text_model.embeddings.token_embedding.weight'));
  put('positional_embedding', get('text_model.embeddings.position_embedding.weight'));
  put('logit_scale', get('logit_scale'));
  return out;
}

beforeAll(async () => {
  await initBackend('wasm');
  cases = await readSafetensors(join(CLIP_FIXTURE_DIR, 'cases.safetensors'));
  hf = await readSafetensors(join(CLIP_FIXTURE_DIR, 'model.safetensors'));
  const px = cases.tensors.get('pixel_values')!;
  pixels = tf.tensor4d(toFloat32(px), px.shape as [number, number, number, number]);
  const [b, l] = cases.tensors.get('input_ids')!.shape;
  const flat = Array.from(toFloat32(cases.tensors.get('input_ids')!));
  ids = Array.from({ length: b }, (_, i) => flat.slice(i * l, (i + 1) * l));
});
afterAll(() => pixels?.dispose());

describe('key layouts', () => {
  it('an OpenAI-layout copy (re-stacked q;k;v, transposed projections) gives the HF embeddings', async () => {
    const dir = tmp();
    copyFileSync(join(CLIP_FIXTURE_DIR, 'config.json'), join(dir, 'config.json'));
    await writeSafetensors(join(dir, 'openai.safetensors'), toOpenAI());
    const e = await embeddings(join(dir, 'openai.safetensors'));
    expect(e.model.source.layout).toBe('openai');
    expectReferenceEmbeddings(e);
  });

  it('the torch.save OpenAI state dict (openai_state_dict.pt) loads to the reference embeddings', async () => {
    const pt = join(CLIP_FIXTURE_DIR, 'openai_state_dict.pt');
    if (!existsSync(pt)) return; // other fixture folders may not carry one
    const e = await embeddings(pt);
    expect(e.model.source.layout).toBe('openai');
    expectReferenceEmbeddings(e);
  });

  it('a `module.` prefix (DataParallel) is stripped', async () => {
    const dir = tmp();
    copyFileSync(join(CLIP_FIXTURE_DIR, 'config.json'), join(dir, 'config.json'));
    await writeSafetensors(join(dir, 'wrapped.safetensors'), toOpenAI('module.'));
    expectReferenceEmbeddings(await embeddings(join(dir, 'wrapped.safetensors')));
  });

  it('without config.json the geometry is inferred from the shapes; heads follow width/64 unless given', async () => {
    const dir = tmp();
    await writeSafetensors(join(dir, 'bare.safetensors'), toOpenAI());
    const cfg = readClipConfig(CLIP_FIXTURE_DIR);
    const heads = { vision: cfg.vision.numHeads, text: cfg.text.numHeads };
    const e = await embeddings(join(dir, 'bare.safetensors'), { heads });
    expect(e.model.source.configFrom).toBe('inferred');
    const inferred = e.model.config;
    for (const k of ['imageSize', 'patchSize', 'hiddenSize', 'intermediateSize', 'numLayers'] as const) expect(inferred.vision[k]).toBe(cfg.vision[k]);
    for (const k of ['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'maxPositions', 'eosTokenId'] as const) expect(inferred.text[k]).toBe(cfg.text[k]);
    expect(inferred.projectionDim).toBe(cfg.projectionDim);
    expectReferenceEmbeddings(e);
    const m = await loadClip(join(dir, 'bare.safetensors'));
    expect(m.config.vision.numHeads).toBe(Math.max(1, cfg.vision.hiddenSize / 64));
    m.dispose();
  });
});

describe('bad checkpoints', () => {
  it('a missing tensor is named', async () => {
    const dir = tmp();
    copyFileSync(join(CLIP_FIXTURE_DIR, 'config.json'), join(dir, 'config.json'));
    const t = toOpenAI();
    t.delete('ln_final.bias');
    await writeSafetensors(join(dir, 'model.safetensors'), t);
    await expect(loadClip(dir)).rejects.toThrow(/missing tensor "ln_final\.bias"/);
  });

  it('a wrongly shaped tensor is named with both shapes', async () => {
    const dir = tmp();
    copyFileSync(join(CLIP_FIXTURE_DIR, 'config.json'), join(dir, 'config.json'));
    const t = new Map([...hf.tensors].map(([k, v]) => [k, { ...v }]));
    const w = t.get('text_projection.weight')!;
    t.set('text_projection.weight', { dtype: 'F32', shape: [w.shape[1], w.shape[0]], data: toFloat32(w) });
    await writeSafetensors(join(dir, 'model.safetensors'), t);
    const [p, d] = w.shape;
    await expect(loadClip(dir)).rejects.toThrow(`tensor "text_projection.weight" has shape [${d},${p}], expected [${p},${d}]`);
  });

  it('a folder without weights, and a path that does not exist, are clear errors', async () => {
    await expect(loadClip(tmp())).rejects.toThrow(/no weights file/);
    await expect(loadClip('/nope/model')).rejects.toThrow(/does not exist/);
  });
});

describe('config.json', () => {
  it('absent keys take the Hugging Face defaults (ViT-B/32 geometry)', () => {
    const c = parseClipConfig({});
    expect(c.vision).toMatchObject({ imageSize: 224, patchSize: 32, hiddenSize: 768, intermediateSize: 3072, numLayers: 12, numHeads: 12, act: 'quick_gelu', layerNormEps: 1e-5 });
    expect(c.text).toMatchObject({ vocabSize: 49408, hiddenSize: 512, intermediateSize: 2048, numLayers: 12, numHeads: 8, maxPositions: 77, bosTokenId: 49406, eosTokenId: 49407 });
    expect(c.projectionDim).toBe(512);
    expect(c.logitScaleInit).toBeCloseTo(2.6592);
  });

  it('reads the legacy *_config_dict keys and names bad values', () => {
    expect(parseClipConfig({ vision_config_dict: { patch_size: 16 } }).vision.patchSize).toBe(16);
    expect(() => parseClipConfig({ text_config: { hidden_act: 'swish' } }, 'x/config.json')).toThrow(/x\/config\.json: text_config\.hidden_act: expected one of/);
    expect(() => parseClipConfig({ vision_config: { hidden_size: 100, num_attention_heads: 12 } })).toThrow(/not divisible/);
    expect(() => parseClipConfig({ projection_dim: '512' })).toThrow(/projection_dim: expected a number/);
  });
});

describe('convert', () => {
  it('turns the OpenAI .pt into a Hugging Face folder whose tensors equal model.safetensors', async () => {
    const pt = join(CLIP_FIXTURE_DIR, 'openai_state_dict.pt');
    if (!existsSync(pt)) return;
    const out = tmp();
    const res = await convertCheckpoint(pt, out);
    expect(res.layout).toBe('openai');
    const written = await readSafetensors(join(out, 'model.safetensors'));
    for (const [k, t] of hf.tensors) {
      if (k.endsWith('position_ids')) continue; // buffers HF ignores; not model weights
      const w = written.tensors.get(k);
      expect(w, k).toBeDefined();
      expect(w!.shape).toEqual(k === 'logit_scale' ? [] : t.shape);
      expect(Array.from(toFloat32(w!))).toEqual(Array.from(toFloat32(t)));
    }
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ projection_dim: readClipConfig(CLIP_FIXTURE_DIR).projectionDim });
    expect(readFileSync(join(out, 'vocab.json'), 'utf8')).toBe(readFileSync(join(CLIP_FIXTURE_DIR, 'vocab.json'), 'utf8'));
    expectReferenceEmbeddings(await embeddings(out));
  });
});
