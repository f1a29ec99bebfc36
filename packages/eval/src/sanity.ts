// Model randomisation test (Adebayo et al., NeurIPS 2018), cascading from the top: depth k
// re-draws every weight of blocks numLayers−1 … numLayers−k of BOTH towers (each tensor
// N(its mean, its std), seeded); embeddings, final norms and projections are kept. The
// score is Spearman's rho between the map on the original and on the randomised model,
// averaged over pairs, per depth. Lower = the map depends on the model (better).
import { buildClip, PairCache, readClipWeights, type ClipModel, type Explainer, type F32Dict, type PairInput } from '@ceb/core';
import { Rng } from '@ceb/random';
import type { Side } from '@ceb/types';
import { spearman } from '@ceb/stats';
import type { DatasetMetric, DatasetMetricContext } from './types';

/** Seeded standard normal draws (Box–Muller on mulberry32). */
function normalSource(seed: number): () => number {
  const rng = new Rng(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - rng.next();
    const v = rng.next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** The HF key prefixes of the top k blocks of both towers. */
export function topBlockPrefixes(model: ClipModel, k: number): string[] {
  const out: string[] = [];
  for (const [tower, n] of [['vision_model', model.vision.numLayers], ['text_model', model.text.numLayers]] as const) {
    if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`randomise: depth ${k} is outside 0…${n} for the ${tower} (${n} blocks)`);
    for (let i = n - 1; i >= n - k; i--) out.push(`${tower}.encoder.layers.${i}.`);
  }
  return out;
}

/** Copies `dict`, re-drawing every tensor under `prefixes` from N(mean, std) of that tensor. */
export function randomizeDict(dict: F32Dict, prefixes: readonly string[], seed: number): F32Dict {
  const out: F32Dict = new Map(dict);
  const normal = normalSource(seed);
  // Sorted keys: the draws do not depend on the file's key order.
  for (const key of [...dict.keys()].sort()) {
    if (!prefixes.some((p) => key.startsWith(p))) continue;
    const t = dict.get(key)!;
    let m = 0;
    for (const v of t.data) m += v;
    m /= t.data.length;
    let s = 0;
    for (const v of t.data) s += (v - m) ** 2;
    s = Math.sqrt(s / t.data.length);
    const data = new Float32Array(t.data.length);
    for (let i = 0; i < data.length; i++) data[i] = m + s * normal();
    out.set(key, { ...t, data });
  }
  return out;
}

/**
 * A new model whose top `k` blocks of both towers are randomised. The original weights are
 * read again from `model.source.path` unless given. The caller disposes the result.
 */
export async function randomizeFromTop(model: ClipModel, k: number, seed: number, weights?: F32Dict): Promise<ClipModel> {
  const prefixes = topBlockPrefixes(model, k);
  const dict = weights ?? (await readClipWeights(model.source.path)).dict;
  return buildClip(randomizeDict(dict, prefixes, seed), model.config, model.source, { quirks: model.quirks });
}

export interface SanityOptions {
  model: ClipModel;
  side: Side;
  /** Depths (number of top blocks randomised); default every depth 1…numLayers. */
  cascade?: number[];
  seed?: number;
  /** Options passed to the explainer. */
  options?: Record<string, unknown>;
  weights?: F32Dict;
}

export interface SanityResult {
  method: string;
  side: Side;
  cascade: number[];
  /** Mean Spearman rho over the pairs where it is defined, per depth (NaN when none is). */
  correlation: number[];
  /** Pairs per depth where rho is undefined (a constant map on either model). */
  undefinedPairs: number[];
  /** [depth][pair]. */
  perPair: number[][];
}

export async function sanityScore(method: Explainer<any>, pairs: PairInput[], opts: SanityOptions): Promise<SanityResult> {
  const { model, side, seed = 0 } = opts;
  if (!method.sides.includes(side)) throw new Error(`sanity: ${method.name} does not explain the ${side} side`);
  const n = Math.min(model.vision.numLayers, model.text.numLayers);
  const cascade = opts.cascade ?? Array.from({ length: n }, (_, i) => i + 1);
  const mapsOf = async (m: ClipModel): Promise<Float32Array[]> => {
    const out: Float32Array[] = [];
    for (const pair of pairs) {
      const cache = new PairCache(m, pair);
      try {
        out.push((await method.explain({ model: m, pair, cache }, side, opts.options as never)).scores);
      } finally {
        cache.dispose();
      }
    }
    return out;
  };
  const original = await mapsOf(model);
  const weights = opts.weights ?? (await readClipWeights(model.source.path)).dict;
  const perPair: number[][] = [];
  for (const k of cascade) {
    const randomised = await randomizeFromTop(model, k, seed, weights);
    try {
      const maps = await mapsOf(randomised);
      // A constant map on either side has no ranking: rho is undefined (NaN), kept as such.
      perPair.push(maps.map((m, i) => spearman(original[i], m)));
    } finally {
      randomised.dispose();
    }
  }
  const finite = perPair.map((r) => r.filter((v) => Number.isFinite(v)));
  const correlation = finite.map((r) => (r.length ? r.reduce((a, b) => a + b, 0) / r.length : NaN));
  const undefinedPairs = perPair.map((r, i) => r.length - finite[i].length);
  return { method: method.name, side, cascade, correlation, undefinedPairs, perPair };
}

/** The cascade param: "all" = every depth 1 … the shallower tower's block count, or a comma-separated list. */
export function parseCascade(text: string, model: ClipModel): number[] {
  const depth = Math.min(model.vision.numLayers, model.text.numLayers);
  return text === 'all' ? Array.from({ length: depth }, (_, i) => i + 1) : text.split(',').map(Number);
}

/** The check over the run: the first `pairs` samples, every unit on the original and the randomised models. */
async function runSanityMetric(ctx: DatasetMetricContext): Promise<void> {
  const cascade = parseCascade(String(ctx.params.cascade), ctx.model);
  const pairs: PairInput[] = [];
  for (const s of ctx.samples.slice(0, Number(ctx.params.pairs))) {
    const p = await ctx.loadPair(s);
    if (p) pairs.push(p);
  }
  try {
    for (const u of ctx.units) {
      const t0 = performance.now();
      try {
        const r = await sanityScore(u.explainer, pairs, { model: ctx.model, side: u.side, cascade, seed: Number(ctx.params.seed), options: u.options });
        const last = r.correlation[r.correlation.length - 1];
        ctx.record(u, { values: { correlation: last }, curve: { x: r.cascade, y: r.correlation }, n: pairs.length, ms: performance.now() - t0 });
      } catch (e) {
        ctx.fail(u, (e as Error).message);
      }
    }
  } finally {
    for (const p of pairs) p.pixels.dispose();
  }
}

export const sanityMetric: DatasetMetric = {
  kind: 'dataset',
  name: 'sanity',
  description: 'Model randomisation (Adebayo et al.): Spearman rho between maps of the original and the top-k-randomised model, per depth',
  category: 'randomisation',
  higherIsBetter: { correlation: false },
  substrate: 'top-k blocks of both towers re-drawn from N(mean, std) of each weight tensor',
  curve: { x: 'blocks randomised', y: 'rank correlation', note: 'rank correlation with the original map as blocks are randomised; lower means the map depends on the weights' },
  params: {
    cascade: { type: 'string', default: 'all', description: 'comma-separated depths (blocks randomised from the top), or "all"' },
    seed: { type: 'integer', default: 0, description: "seed of the random weights (default: the run's seed)" },
    pairs: { type: 'integer', default: 8, min: 1, description: 'pairs explained on each model (the first N of the set)' },
  },
  sides: ['image', 'text'],
  run: runSanityMetric,
};
