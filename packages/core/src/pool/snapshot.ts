// What a worker needs to hold its own replica of the model, and of the current pair: the
// weights (HF names, float32) and the pair's clean hidden states, as plain arrays that cross
// a thread boundary. The states are the main thread's own, so a worker's cache is the same
// numbers, and the prefix is computed once per pair, not once per worker.
import * as tf from '@tensorflow/tfjs-core';
import type { ClipConfig } from '../model/config';
import { buildClip, type ClipModel, type ModelQuirks } from '../model/clip';
import type { F32Dict } from '../model/layout';
import { PairCache, type PairInput } from '../explain/pair-cache';

export interface ModelSnapshot {
  config: ClipConfig;
  source: ClipModel['source'];
  quirks: ModelQuirks;
  /** HF name → shape and values; one SharedArrayBuffer behind them all, shared by the workers. */
  weights: { name: string; shape: number[]; offset: number; length: number }[];
  buffer: SharedArrayBuffer;
}

/** The model's weights in one shared buffer (read once, however many workers start from it). */
export function snapshotModel(model: ClipModel): ModelSnapshot {
  const entries = [...model.params.entries()];
  const total = entries.reduce((s, [, t]) => s + t.size, 0);
  const buffer = new SharedArrayBuffer(total * 4);
  const all = new Float32Array(buffer);
  const weights: ModelSnapshot['weights'] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    all.set(t.dataSync() as Float32Array, offset);
    weights.push({ name, shape: t.shape, offset, length: t.size });
    offset += t.size;
  }
  return { config: model.config, source: model.source, quirks: model.quirks, weights, buffer };
}

/** The replica a worker builds from a snapshot (the tensors copy the values into its own backend). */
export function modelFromSnapshot(s: ModelSnapshot): ClipModel {
  const all = new Float32Array(s.buffer);
  const dict: F32Dict = new Map(s.weights.map((w) => [w.name, { shape: w.shape, data: all.subarray(w.offset, w.offset + w.length) }]));
  return buildClip(dict, s.config, s.source, { quirks: s.quirks });
}

/** A pair with its clean states and embeddings, as they cross to a worker. */
export interface PairSnapshot {
  pixels: { shape: number[]; data: Float32Array };
  ids: number[];
  vision: { shape: number[]; data: Float32Array }[];
  text: { shape: number[]; data: Float32Array }[];
  imageEmbedding: { shape: number[]; data: Float32Array };
  textEmbedding: { shape: number[]; data: Float32Array };
}

const plain = (t: tf.Tensor) => ({ shape: t.shape, data: (t.dataSync() as Float32Array).slice() });

/** Everything a worker's cache holds, computed here once (the main thread needs it too). */
export function snapshotPair(cache: PairCache): PairSnapshot {
  return {
    pixels: plain(cache.pair.pixels),
    ids: cache.pair.ids,
    vision: cache.visionStates().map(plain),
    text: cache.textStates().map(plain),
    imageEmbedding: plain(cache.imageEmbedding()),
    textEmbedding: plain(cache.textEmbedding()),
  };
}

/** A worker's copy of the main thread's pair cache: its states given, not computed. The pixels are the caller's to dispose. */
export function pairCacheFromSnapshot(model: ClipModel, s: PairSnapshot): PairCache {
  const state3 = (v: { data: Float32Array; shape: number[] }) => tf.tensor3d(v.data, v.shape as [number, number, number]);
  const state2 = (v: { data: Float32Array; shape: number[] }) => tf.tensor2d(v.data, v.shape as [number, number]);
  const pair: PairInput = { pixels: tf.tensor4d(s.pixels.data, s.pixels.shape as [number, number, number, number]), ids: s.ids };
  return new PairCache(model, pair, { vision: s.vision.map(state3), text: s.text.map(state3), imageEmbedding: state2(s.imageEmbedding), textEmbedding: state2(s.textEmbedding) });
}
