// Parity of the TypeScript CLIP with an independent PyTorch implementation of Hugging Face
// CLIPModel (fixtures/clip-tiny/cases.safetensors). Every parameter comes from the files.
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { initBackend } from '../src/backend';
import type { ClipModel } from '../src/model/clip';
import { loadClip } from '../src/model/load';
import { readSafetensors, toFloat32, type TensorFile } from '../src/weights/safetensors';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from './helpers/fixtures';

const TOL = 1e-4;
let model: ClipModel;
let cases: TensorFile;
const f32 = (name: string) => toFloat32(cases.tensors.get(name)!, name);
const shape = (name: string) => cases.tensors.get(name)!.shape;
let pixels: tf.Tensor4D;
let ids: number[][];

/** Each row divided by its Euclidean norm, as CLIPModel does before the logits. */
function l2normalize<T extends tf.Tensor>(x: T): T {
  return tf.div(x, tf.norm(x, 'euclidean', 1, true));
}

/** `e` and its normalised form match the fixture's `name` and `${name}_normalized`; disposes `e`. */
function expectEmbeds(e: tf.Tensor, name: string): void {
  expect(maxAbsDiff(e.dataSync(), f32(name))).toBeLessThan(TOL);
  const n = tf.tidy(() => l2normalize(e));
  expect(maxAbsDiff(n.dataSync(), f32(`${name}_normalized`))).toBeLessThan(TOL);
  tf.dispose([e, n]);
}

/** Slice index i of the leading axis of a fixture tensor. */
function part(name: string, i: number): Float32Array {
  const s = shape(name);
  const inner = s.slice(1).reduce((a, b) => a * b, 1);
  return f32(name).subarray(i * inner, (i + 1) * inner);
}

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
  cases = await readSafetensors(join(CLIP_FIXTURE_DIR, 'cases.safetensors'));
  pixels = tf.tensor4d(f32('pixel_values'), shape('pixel_values') as [number, number, number, number]);
  const idShape = shape('input_ids');
  const flat = Array.from(toFloat32(cases.tensors.get('input_ids')!));
  ids = Array.from({ length: idShape[0] }, (_, b) => flat.slice(b * idShape[1], (b + 1) * idShape[1]));
});
afterAll(() => {
  pixels?.dispose();
  model?.dispose();
});

describe('vision tower', () => {
  it('embeddings before the pre-LayerNorm', () => {
    const e = tf.tidy(() => model.vision.embeddings(pixels));
    expect(e.shape).toEqual(shape('vision_embeddings'));
    expect(maxAbsDiff(e.dataSync(), f32('vision_embeddings'))).toBeLessThan(TOL);
    e.dispose();
  });

  it('every hidden state and every attention map', () => {
    const n = model.vision.numLayers;
    expect(shape('vision_hidden_states')[0]).toBe(n + 1);
    const { hidden, attention } = model.vision.hiddenStates(model.vision.embed(pixels), { attention: true });
    for (let k = 0; k <= n; k++) {
      expect(maxAbsDiff(hidden[k].dataSync(), part('vision_hidden_states', k)), `hidden_states[${k}]`).toBeLessThan(TOL);
    }
    for (let k = 0; k < n; k++) {
      expect(maxAbsDiff(attention![k].dataSync(), part('vision_attentions', k)), `attentions[${k}]`).toBeLessThan(TOL);
    }
    expect(maxAbsDiff(attention![n - 1].dataSync(), f32('vision_attention_last'))).toBeLessThan(TOL);
    const pooled = model.vision.pool(hidden[n]);
    expect(maxAbsDiff(pooled.dataSync(), f32('vision_pooled'))).toBeLessThan(TOL);
    tf.dispose([...hidden, ...attention!, pooled]);
  });

  it('projected image embeddings and their normalised form', () => {
    const e = model.encodeImage(pixels);
    expect(e.shape).toEqual(shape('image_embeds'));
    expectEmbeds(e, 'image_embeds');
  });
});

describe('text tower', () => {
  it('every hidden state (padding included) and every causal attention map', () => {
    const n = model.text.numLayers;
    const { hidden, attention } = model.text.hiddenStates(model.text.embed(ids), { attention: true });
    for (let k = 0; k <= n; k++) {
      expect(maxAbsDiff(hidden[k].dataSync(), part('text_hidden_states', k)), `hidden_states[${k}]`).toBeLessThan(TOL);
    }
    for (let k = 0; k < n; k++) {
      const a = attention![k].dataSync();
      expect(maxAbsDiff(a, part('text_attentions', k)), `attentions[${k}]`).toBeLessThan(TOL);
    }
    // Above the diagonal the probabilities are exactly zero, as with HF's float32-min mask.
    const [b, h, l] = attention![0].shape;
    const a0 = attention![0].dataSync();
    for (let i = 0; i < b * h; i++) for (let r = 0; r < l; r++) for (let c = r + 1; c < l; c++) expect(a0[i * l * l + r * l + c]).toBe(0);
    const last = model.text.finalNorm(hidden[n]);
    expect(maxAbsDiff(last.dataSync(), f32('text_last_hidden_state'))).toBeLessThan(TOL);
    const pooled = model.text.pool(hidden[n], ids);
    expect(maxAbsDiff(pooled.dataSync(), f32('text_pooled'))).toBeLessThan(TOL);
    tf.dispose([...hidden, ...attention!, last, pooled]);
  });

  it('projected text embeddings', () => {
    expectEmbeds(model.encodeText(ids), 'text_embeds');
  });
});

describe('logits', () => {
  it('logits_per_image and logits_per_text', () => {
    const logits = tf.tidy(() => {
      const ni = l2normalize(model.encodeImage(pixels));
      const nt = l2normalize(model.encodeText(ids));
      return tf.mul(tf.matMul(ni, nt, false, true), model.logitScale);
    });
    expect(maxAbsDiff(logits.dataSync(), f32('logits_per_image'))).toBeLessThan(TOL);
    const lt = tf.transpose(logits);
    expect(maxAbsDiff(lt.dataSync(), f32('logits_per_text'))).toBeLessThan(TOL);
    tf.dispose([logits, lt]);
  });
});
