// A CLIP with ONE block per tower (width 4, 2 heads, an 8-pixel image of 2×2 patches, a 10-word
// vocabulary), seeded random weights, and a zero MLP, so that a method's formula can be written out
// by hand in float64 (handBlock and the LayerNorm / cosine derivatives below) and compared.
import { buildClip, parseClipConfig, type ClipModel, type F32Dict } from '@ceb/core';
import { Rng } from '@ceb/random';

export const ONE = { D: 4, heads: 2, imageSize: 8, patchSize: 4, proj: 3, vocab: 10, bos: 8, eos: 9, eps: 1e-5 } as const;

// Seed 2: a draw where some caption tokens score above 0 (with others the whole text map is ReLU-ed away).
export function buildOneBlockClip(seed = 2): ClipModel {
  const { D, imageSize: S, patchSize: P, proj, vocab } = ONE;
  const rng = new Rng(seed);
  const d: F32Dict = new Map();
  const put = (key: string, shape: number[], fill: () => number) => d.set(key, { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, fill) });
  const normal = (std: number, mean = 0) => () => mean + std * rng.normals(1)[0];
  const ln = (p: string) => {
    put(`${p}.weight`, [D], normal(0.2, 1));
    put(`${p}.bias`, [D], normal(0.1));
  };
  for (const tower of ['vision_model', 'text_model']) {
    const p = `${tower}.encoder.layers.0.`;
    ln(`${p}layer_norm1`);
    ln(`${p}layer_norm2`);
    for (const m of ['q', 'k', 'v', 'out']) {
      put(`${p}self_attn.${m}_proj.weight`, [D, D], normal(0.8));
      put(`${p}self_attn.${m}_proj.bias`, [D], normal(0.2));
    }
    for (const m of ['fc1', 'fc2']) {
      put(`${p}mlp.${m}.weight`, [D, D], () => 0);
      put(`${p}mlp.${m}.bias`, [D], () => 0);
    }
  }
  const nTok = (S / P) ** 2 + 1;
  put('vision_model.embeddings.patch_embedding.weight', [D, 3, P, P], normal(0.3));
  put('vision_model.embeddings.class_embedding', [D], normal(1));
  put('vision_model.embeddings.position_embedding.weight', [nTok, D], normal(0.5));
  ln('vision_model.pre_layrnorm');
  ln('vision_model.post_layernorm');
  put('visual_projection.weight', [proj, D], normal(0.8));
  put('text_model.embeddings.token_embedding.weight', [vocab, D], normal(1));
  put('text_model.embeddings.position_embedding.weight', [8, D], normal(0.5));
  ln('text_model.final_layer_norm');
  put('text_projection.weight', [proj, D], normal(0.8));
  const common = { hidden_size: D, intermediate_size: D, num_hidden_layers: 1, num_attention_heads: ONE.heads, layer_norm_eps: ONE.eps, hidden_act: 'quick_gelu' };
  const config = parseClipConfig(
    {
      projection_dim: proj,
      text_config: { ...common, vocab_size: vocab, max_position_embeddings: 8, bos_token_id: ONE.bos, eos_token_id: ONE.eos, pad_token_id: ONE.eos },
      vision_config: { ...common, image_size: S, patch_size: P, num_channels: 3 },
    },
    'one-block config',
  );
  return buildClip(d, config, { path: 'one-block', layout: 'hf', configFrom: 'given' });
}

// ---------------------------------------------------------------- float64 by hand
export type Mat = number[][];

/** The model's weight `key` as rows (PyTorch's [out, in] for a linear layer). */
export function weight(model: ClipModel, key: string): Mat {
  const t = model.params.get(key);
  if (!t) throw new Error(`one-block model has no "${key}"`);
  const v = Array.from(t.dataSync());
  const cols = t.shape.length > 1 ? t.shape[t.shape.length - 1] : v.length;
  return Array.from({ length: v.length / cols }, (_, r) => v.slice(r * cols, (r + 1) * cols));
}

export const linear = (x: number[], w: Mat, b?: number[]) => w.map((row, o) => row.reduce((s, wi, i) => s + wi * x[i], b ? b[o] : 0));
export const dotv = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
export const norm = (a: number[]) => Math.sqrt(dotv(a, a));

/** LayerNorm of one vector, with what its backward needs. */
export function layerNorm(x: number[], gamma: number[], beta: number[], eps = ONE.eps): { y: number[]; xhat: number[]; sigma: number } {
  const mu = x.reduce((a, b) => a + b, 0) / x.length;
  const sigma = Math.sqrt(x.reduce((a, b) => a + (b - mu) ** 2, 0) / x.length + eps);
  const xhat = x.map((v) => (v - mu) / sigma);
  return { y: xhat.map((v, i) => v * gamma[i] + beta[i]), xhat, sigma };
}

/** ∂f/∂x from ∂f/∂y for y = LayerNorm(x): (1/σ)(gγ − mean(gγ) − x̂·mean(gγ ⊙ x̂)). */
export function layerNormBackward(gy: number[], ln: { xhat: number[]; sigma: number }, gamma: number[]): number[] {
  const gg = gy.map((v, i) => v * gamma[i]);
  const n = gg.length;
  const m1 = gg.reduce((a, b) => a + b, 0) / n;
  const m2 = gg.reduce((a, b, i) => a + b * ln.xhat[i], 0) / n;
  return gg.map((v, i) => (v - m1 - ln.xhat[i] * m2) / ln.sigma);
}

/** cos(e, t) and ∂cos/∂e = t/(|e||t|) − cos·e/|e|². */
export function cosineAndGrad(e: number[], t: number[]): { cos: number; grad: number[] } {
  const c = dotv(e, t) / (norm(e) * norm(t));
  return { cos: c, grad: e.map((v, i) => t[i] / (norm(e) * norm(t)) - (c * v) / (norm(e) * norm(e))) };
}

/** The block on h [L][D] with `heads` heads (text: causal): q, k, v, per-head attention A[h][i][j], the attention output, the output. */
export function handBlock(model: ClipModel, tower: 'vision_model' | 'text_model', h: Mat, heads: number) {
  const p = `${tower}.encoder.layers.0.`;
  const W = (k: string) => weight(model, `${p}${k}.weight`);
  const B = (k: string) => weight(model, `${p}${k}.bias`)[0];
  const x = h.map((row) => layerNorm(row, W('layer_norm1')[0], B('layer_norm1')).y);
  const [q, k, v] = ['q', 'k', 'v'].map((m) => x.map((row) => linear(row, W(`self_attn.${m}_proj`), B(`self_attn.${m}_proj`))));
  const L = h.length;
  const dh = ONE.D / heads;
  const A: number[][][] = [];
  const attnOut: Mat = h.map(() => Array(ONE.D).fill(0));
  for (let hd = 0; hd < heads; hd++) {
    const cols = Array.from({ length: dh }, (_, c) => hd * dh + c);
    A.push(
      q.map((qi, i) => {
        const logits = k.map((kj, j) => (tower === 'text_model' && j > i ? -Infinity : cols.reduce((s, c) => s + qi[c] * kj[c], 0) / Math.sqrt(dh)));
        const mx = Math.max(...logits);
        const ex = logits.map((l) => Math.exp(l - mx));
        const z = ex.reduce((a, b) => a + b, 0);
        return ex.map((e) => e / z);
      }),
    );
    for (let i = 0; i < L; i++) for (const c of cols) attnOut[i][c] = A[hd][i].reduce((s, a, j) => s + a * v[j][c], 0);
  }
  // The MLP is zero (weights and biases), so the output is the attention residual alone.
  const out = h.map((row, i) => linear(attnOut[i], W('self_attn.out_proj'), B('self_attn.out_proj')).map((y, o) => y + row[o]));
  return { q, k, v, A, attnOut, out, outProj: W('self_attn.out_proj') };
}

/** ∂f/∂x from ∂f/∂y for y = W x (W as [out, in]): Wᵀ g. With the out-projection: ∂f/∂(attention output) from ∂f/∂(block output), the MLP being zero. */
export const transposed = (g: number[], w: Mat) => w[0].map((_, i) => w.reduce((s, row, o) => s + g[o] * row[i], 0));
