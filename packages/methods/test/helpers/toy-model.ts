// A hand-built CLIP whose right answers are known by construction.
//
// Every LayerNorm has eps = 1e6 and gain 1e3 = √eps, so on the small, zero-mean vectors
// used here it is the identity to ~1e-5. Token vectors are zero-mean by design: channels
// 0–2 hold "content", 3–5 its negative, 6/7 a ±M position marker on ONE token only.
// Block 0 adds nothing (zero value/out/MLP weights). Block 1 attends, from every query,
// to the marked token alone (query bias × key of the marker channel: logit 50 vs 0) and
// copies its content (identity value/out on channels 0–5). The head reads CLS (vision) or
// EOS (text): so the image embedding depends only on the pixels of patch `markedPatch`
// (through their mean colour) and the text embedding only on the token at `markedPosition`.
// Projections: image (c0, c1, c2, ch6 → 1 via the post-LN bias, 0) and text (c0, c1, c2, 0,
// ch6 → 1); the separate constant axes make each side's cosine increase with the size of
// its own content (when the contents are positively aligned), so removing the marked
// region / token lowers the target and every gradient there is non-zero.
import * as tf from '@tensorflow/tfjs-core';
import { buildClip, parseClipConfig, PairCache, type ClipModel, type F32Dict, type PairInput } from '@ceb/core';

export const TOY = {
  imageSize: 32,
  patchSize: 8,
  grid: 4,
  width: 8,
  markedPatch: 6, // grid row 1, col 2: pixels rows 8–15, cols 16–23
  markedPosition: 2, // caption [BOS, 3, 5, 4, 6, EOS]: the token id 5
  ids: [18, 3, 5, 4, 6, 19],
  contents: {
    3: [0.3, -0.4, 0.1],
    4: [-0.2, 0.1, 0.2],
    5: [0.8, 0.8, 0.8],
    6: [0.4, -0.3, -0.2],
  } as Record<number, number[]>,
} as const;

const M = 5; // marker size
const Q = 20; // query bias: logit Q·M/√(head dim 4) = 50

function t(shape: number[], fill: (i: number) => number = () => 0) {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) };
}

export function toyConfig() {
  const common = { hidden_size: 8, intermediate_size: 8, num_hidden_layers: 2, num_attention_heads: 2, layer_norm_eps: 1e6, hidden_act: 'quick_gelu' };
  return parseClipConfig(
    {
      projection_dim: 5,
      text_config: { ...common, vocab_size: 20, max_position_embeddings: 16, bos_token_id: 18, eos_token_id: 19, pad_token_id: 19 },
      vision_config: { ...common, image_size: TOY.imageSize, patch_size: TOY.patchSize, num_channels: 3 },
    },
    'toy config',
  );
}

export function buildToyClip(): ClipModel {
  const D = TOY.width;
  const d: F32Dict = new Map();
  const ln = (p: string, bias6 = 0) => {
    d.set(`${p}.weight`, t([D], () => 1e3));
    d.set(`${p}.bias`, t([D], (i) => (i === 6 ? bias6 : 0)));
  };
  const lin = (p: string, out: number, inp: number, w: (o: number, i: number) => number = () => 0, b: (o: number) => number = () => 0) => {
    d.set(`${p}.weight`, t([out, inp], (k) => w(Math.floor(k / inp), k % inp)));
    d.set(`${p}.bias`, t([out], b));
  };
  const eye6 = (o: number, i: number) => (o === i && o < 6 ? 1 : 0);
  for (const tower of ['vision_model', 'text_model']) {
    for (let l = 0; l < 2; l++) {
      const p = `${tower}.encoder.layers.${l}.`;
      const copy = l === 1;
      ln(`${p}layer_norm1`);
      ln(`${p}layer_norm2`);
      lin(`${p}self_attn.q_proj`, D, D, () => 0, (o) => (copy && (o === 0 || o === 4) ? Q : 0));
      lin(`${p}self_attn.k_proj`, D, D, (o, i) => (copy && (o === 0 || o === 4) && i === 6 ? 1 : 0));
      lin(`${p}self_attn.v_proj`, D, D, copy ? eye6 : () => 0);
      lin(`${p}self_attn.out_proj`, D, D, copy ? eye6 : () => 0);
      lin(`${p}mlp.fc1`, D, D);
      lin(`${p}mlp.fc2`, D, D);
    }
  }
  const { imageSize: S, patchSize: P, grid } = TOY;
  const nTok = grid * grid + 1;
  // Patch embedding [D, 3, P, P]: channel c (and −c on c + 3) = mean of colour c over the patch.
  d.set(
    'vision_model.embeddings.patch_embedding.weight',
    t([D, 3, P, P], (k) => {
      const o = Math.floor(k / (3 * P * P));
      const c = Math.floor(k / (P * P)) % 3;
      return o === c ? 1 / (P * P) : o === c + 3 ? -1 / (P * P) : 0;
    }),
  );
  d.set('vision_model.embeddings.class_embedding', t([D]));
  d.set('vision_model.embeddings.position_embedding.weight', t([nTok, D], (k) => marker(k, 1 + TOY.markedPatch)));
  ln('vision_model.pre_layrnorm');
  ln('vision_model.post_layernorm', 1);
  d.set('visual_projection.weight', t([5, D], (k) => projection(Math.floor(k / D), k % D, 3)));
  d.set(
    'text_model.embeddings.token_embedding.weight',
    t([20, D], (k) => {
      const c = TOY.contents[Math.floor(k / D)];
      const ch = k % D;
      return c && ch < 3 ? c[ch] : c && ch < 6 ? -c[ch - 3] : 0;
    }),
  );
  d.set('text_model.embeddings.position_embedding.weight', t([16, D], (k) => marker(k, TOY.markedPosition)));
  ln('text_model.final_layer_norm', 1);
  d.set('text_projection.weight', t([5, D], (k) => projection(Math.floor(k / D), k % D, 4)));
  void S;
  return buildClip(d, toyConfig(), { path: 'toy', layout: 'hf', configFrom: 'given' });

  function marker(k: number, row: number): number {
    const r = Math.floor(k / D);
    const ch = k % D;
    return r === row ? (ch === 6 ? M : ch === 7 ? -M : 0) : 0;
  }
  function projection(o: number, i: number, constRow: number): number {
    return (o < 3 && i === o) || (o === constRow && i === 6) ? 1 : 0;
  }
}

/** Pixels: the marked patch in [0.5, 1] per channel, the rest in [−0.5, 0.5] (seeded). */
export function toyPixels(seed = 1): tf.Tensor4D {
  const S = TOY.imageSize;
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const data = new Float32Array(3 * S * S);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) data[c * S * S + y * S + x] = inMarkedPatch(y, x) ? 0.5 + 0.5 * rnd() : rnd() - 0.5;
    }
  }
  return tf.tensor4d(data, [1, 3, S, S]);
}

export function inMarkedPatch(y: number, x: number): boolean {
  const r = Math.floor(TOY.markedPatch / TOY.grid);
  const c = TOY.markedPatch % TOY.grid;
  return Math.floor(y / TOY.patchSize) === r && Math.floor(x / TOY.patchSize) === c;
}

export function toyPair(model: ClipModel, seed = 1): { pair: PairInput; cache: PairCache } {
  const pair = { pixels: toyPixels(seed), ids: [...TOY.ids] };
  return { pair, cache: new PairCache(model, pair) };
}
