// Grad-CAM on the clip-tiny fixture against a second route: activations recomputed from the
// pixels / ids with runBlocks (not the pair cache), the gradient by tf.grad of the WHOLE model
// w.r.t. an additive zero perturbation of that state, against the other side encoded with
// encodeImage / encodeText and a cosine written here; the maps are then built in float64.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadClip, PairCache, resizeBilinear, type ClipModel } from '@ceb/core';
import { gradcam, gradcamElementwise } from '../src/index';
import { CLIP_FIXTURE_DIR, maxAbsDiff } from './helpers/fixtures';

let model: ClipModel;
let cache: PairCache;
beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
  const s = model.config.vision.imageSize;
  const pixels = tf.randomNormal([1, 3, s, s], 0, 1, 'float32', 5) as tf.Tensor4D;
  cache = new PairCache(model, { pixels, ids: [998, 320, 41, 777, 505, 12, 999] });
});
afterAll(() => {
  cache?.pair.pixels.dispose();
  cache?.dispose();
  model?.dispose();
});

function secondRoute(side: 'image' | 'text', layer: number) {
  const { pixels, ids } = cache.pair;
  return tf.tidy(() => {
    const tower = side === 'image' ? model.vision : model.text;
    const h0 = side === 'image' ? model.vision.embed(pixels) : model.text.embed([ids]);
    const a = tower.runBlocks(h0, 0, layer + 1).h;
    const other = side === 'image' ? model.encodeText([ids]) : model.encodeImage(pixels);
    const f = (delta: tf.Tensor) => {
      const out = tower.runBlocks(tf.add(a, delta) as tf.Tensor3D, layer + 1).h;
      const e = side === 'image' ? model.vision.head(out) : model.text.head(out, [ids]);
      const dot = tf.sum(tf.mul(e, other));
      return tf.div(dot, tf.sqrt(tf.mul(tf.sum(tf.square(e)), tf.sum(tf.square(other))))) as tf.Scalar;
    };
    const g = tf.grad(f)(tf.zerosLike(a));
    return [a, g];
  });
}

function camRef(a: Float32Array, g: Float32Array, L: number, D: number, first: number, last: number, elementwise: boolean): number[] {
  const w = new Float64Array(D);
  for (let t = first; t < last; t++) for (let c = 0; c < D; c++) w[c] += g[t * D + c] / (last - first);
  const out: number[] = [];
  for (let t = first; t < last; t++) {
    let s = 0;
    for (let c = 0; c < D; c++) s += (elementwise ? g[t * D + c] : w[c]) * a[t * D + c];
    out.push(Math.max(0, s));
  }
  return out;
}

function mm(v: ArrayLike<number>): number[] {
  const lo = Math.min(...Array.from(v));
  const hi = Math.max(...Array.from(v));
  return Array.from(v, (x) => (x - lo) / (hi - lo));
}

describe.each([
  ['classic', gradcam, false],
  ['elementwise', gradcamElementwise, true],
] as const)('Grad-CAM %s', (_name, method, elementwise) => {
  // Layers 0 and 1: after block 2 only one block is left, and in this random tiny model the
  // non-pooled tokens' scores there are ~1e-7, at float32 noise, where no two routes agree.
  it.each([0, 1])('image, layer %s: equals the second-route map to 1e-4', async (layer) => {
    const [at, gt] = secondRoute('image', layer);
    const [, L, D] = at.shape;
    const ref = camRef(at.dataSync() as Float32Array, gt.dataSync() as Float32Array, L, D, 1, L, elementwise);
    tf.dispose([at, gt]);
    const s = model.config.vision.imageSize;
    const g = Math.sqrt(L - 1);
    const refMap = mm(resizeBilinear(ref, g, g, s, s));
    const got = await method.explain({ model, pair: cache.pair, cache }, 'image', { layer });
    expect(got.flat).toBe(false);
    expect(maxAbsDiff(got.scores, refMap)).toBeLessThan(1e-4);
    const raw = (got.extra!.tokenScores as number[]).slice(1);
    expect(maxAbsDiff(raw, ref)).toBeLessThan(1e-4 * Math.max(...ref));
  });

  it.each([0, 1])('text, layer %s: equals the second-route scores to 1e-4', async (layer) => {
    const [at, gt] = secondRoute('text', layer);
    const [, L, D] = at.shape;
    const ref = camRef(at.dataSync() as Float32Array, gt.dataSync() as Float32Array, L, D, 1, L - 1, elementwise);
    tf.dispose([at, gt]);
    const got = await method.explain({ model, pair: cache.pair, cache }, 'text', { layer });
    expect(Math.max(...ref)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(got.scores, mm(ref))).toBeLessThan(1e-4);
  });
});

describe('Grad-CAM textReadout all-tokens (the NIB repository’s)', () => {
  it.each([0, 1])('layer %s: scores every token by the second route, min-maxes over all of them and drops BOS/EOS afterwards', async (layer) => {
    const [at, gt] = secondRoute('text', layer);
    const [, L, D] = at.shape;
    const ref = camRef(at.dataSync() as Float32Array, gt.dataSync() as Float32Array, L, D, 0, L, true);
    tf.dispose([at, gt]);
    const want = mm(ref).slice(1, L - 1);
    const got = await gradcamElementwise.explain({ model, pair: cache.pair, cache }, 'text', { layer, textReadout: 'all-tokens' });
    expect(maxAbsDiff(got.scores, want)).toBeLessThan(1e-4);
    // BOS and EOS are scored too (the usual readout leaves them at 0 and out of the min-max).
    expect(maxAbsDiff(got.extra!.tokenScores as number[], ref)).toBeLessThan(1e-4 * Math.max(...ref));
    const usual = await gradcamElementwise.explain({ model, pair: cache.pair, cache }, 'text', { layer });
    expect((usual.extra!.tokenScores as number[])[0]).toBe(0);
  });
});

describe('Grad-CAM layer option', () => {
  it('negative layers count from the end; the default −3 is block 1 of this 4-block tower', async () => {
    const ctx = { model, pair: cache.pair, cache };
    const a = await gradcam.explain(ctx, 'image');
    const b = await gradcam.explain(ctx, 'image', { layer: 1 });
    expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
    await expect(gradcam.explain(ctx, 'image', { layer: 4 })).rejects.toThrow(/layer 4 is outside/);
    await expect(gradcam.explain(ctx, 'image', { layer: 1.5 })).rejects.toThrow(/integer/);
  });

  it('the element-wise score of a token is the directional derivative along its own activation (finite differences)', async () => {
    const layer = 1;
    const res = await gradcamElementwise.explain({ model, pair: cache.pair, cache }, 'image', { layer });
    const tokenScores = res.extra!.tokenScores as number[];
    const top = tokenScores.indexOf(Math.max(...tokenScores));
    const eps = 1e-2;
    const value = (scale: number) =>
      tf.tidy(() => {
        const h = cache.stateAfter('image', layer);
        const [, L] = h.shape;
        const m = tf.tensor3d(Array.from({ length: L }, (_, t) => (t === top ? scale : 1)), [1, L, 1]);
        const out = model.vision.runBlocks(tf.mul(h, m) as tf.Tensor3D, layer + 1).h;
        const e = model.vision.head(out);
        const o = cache.textEmbedding();
        return tf.div(tf.sum(tf.mul(e, o)), tf.mul(tf.norm(e), tf.norm(o))).dataSync()[0];
      });
    const fd = (value(1 + eps) - value(1 - eps)) / (2 * eps);
    expect(Math.abs(fd - tokenScores[top])).toBeLessThan(0.02 * Math.abs(tokenScores[top]) + 1e-5);
  });
});
