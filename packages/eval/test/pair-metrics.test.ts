// The pair metrics on the clip-tiny fixture, checked against scores computed here
// independently with the model's encoders (not through the metric code paths).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadClip, PairCache, type Attribution, type ClipModel, type PairInput } from '@ceb/core';
import { confidenceValues } from '../src/confidence';
import { confidenceCorrected } from '../src/confidence-corrected';
import { confidenceM2ib } from '../src/confidence-m2ib';
import { confidenceNib } from '../src/confidence-nib';
import { insertionDeletion } from '../src/insertion-deletion';
import { localisation } from '../src/localisation';
import { blurCHW, curveAuc } from '../src/perturb';
import { CLIP_FIXTURE_DIR, cosine, randomPair } from './helpers/fixtures';

let model: ClipModel;
let pair: PairInput;
let cache: PairCache;
let S: number;
let pixels: Float32Array;
let imgEmb: Float32Array;
let txtEmb: Float32Array;
let Y: number;

const encImage = (px: Float32Array) => tf.tidy(() => model.encodeImage(tf.tensor4d(px, [1, 3, S, S]))).dataSync() as Float32Array;
const encText = (ids: number[]) => tf.tidy(() => model.encodeText([ids])).dataSync() as Float32Array;
const imageAttr = (scores: Float32Array): Attribution => ({ method: 't', side: 'image', scores, shape: [S, S], ms: 0 });
const textAttr = (scores: number[]): Attribution => ({ method: 't', side: 'text', scores: Float32Array.from(scores), shape: [scores.length], ms: 0 });

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadClip(CLIP_FIXTURE_DIR);
  S = model.config.vision.imageSize;
  pair = randomPair(model, 1, 4);
  cache = new PairCache(model, pair);
  pixels = pair.pixels.dataSync() as Float32Array;
  imgEmb = encImage(pixels);
  txtEmb = encText(pair.ids);
  Y = cosine(imgEmb, txtEmb);
});
afterAll(() => {
  cache?.dispose();
  pair?.pixels.dispose();
  model?.dispose();
});

const ramp = () => Float32Array.from({ length: S * S }, (_, i) => (i % S) / (S - 1));

describe('confidence drop / increase', () => {
  it('formulas: corrected divides by Y, m2ib does not; increase is 1[O > Y] × 100', () => {
    expect(confidenceValues(0.5, 0.4, 'relative').drop).toBeCloseTo(20, 10);
    expect(confidenceValues(0.5, 0.4, 'absolute').drop).toBeCloseTo(10, 10);
    expect(confidenceValues(0.5, 0.6, 'relative')).toEqual({ drop: 0, increase: 100 });
    expect(confidenceValues(0.5, 0.5, 'absolute')).toEqual({ drop: 0, increase: 0 });
  });
  it('higherIsBetter: a map whose explained input scores higher has a lower drop and a higher increase', () => {
    for (const mode of ['relative', 'absolute'] as const) {
      const better = confidenceValues(0.5, 0.55, mode);
      const worse = confidenceValues(0.5, 0.3, mode);
      expect(better.drop).toBeLessThan(worse.drop);
      expect(better.increase).toBeGreaterThan(worse.increase);
    }
    for (const m of [confidenceCorrected, confidenceM2ib, confidenceNib]) expect(m.higherIsBetter).toEqual({ drop: false, increase: true });
  });
  it('m2ib image: normalised pixels × map', async () => {
    const map = ramp();
    const r = await confidenceM2ib.evaluate({ model, pair, cache, attribution: imageAttr(map) });
    const O = cosine(encImage(pixels.map((v, k) => v * map[k % (S * S)])), txtEmb);
    expect(r.meta).toMatchObject({ mode: 'm2ib' });
    expect(r.meta!.clean as number).toBeCloseTo(Y, 5);
    expect(r.meta!.explained as number).toBeCloseTo(O, 5);
    expect(r.values.drop).toBeCloseTo(Math.max(0, Y - O) * 100, 3);
  });
  it('corrected image: a zero map gives a black image in pixel space', async () => {
    const r = await confidenceCorrected.evaluate({ model, pair, cache, attribution: imageAttr(new Float32Array(S * S)) });
    const { imageMean: mean, imageStd: std } = model.config;
    const black = Float32Array.from({ length: 3 * S * S }, (_, k) => -mean[Math.floor(k / (S * S))] / std[Math.floor(k / (S * S))]);
    const O = cosine(encImage(black), txtEmb);
    expect(r.meta!.explained as number).toBeCloseTo(O, 5);
    expect(r.values.drop).toBeCloseTo(Y > O ? ((Y - O) / Y) * 100 : 0, 2);
  });
  it('a map of ones leaves the image as it is in both modes (drop 0)', async () => {
    for (const m of [confidenceCorrected, confidenceM2ib, confidenceNib]) {
      const r = await m.evaluate({ model, pair, cache, attribution: imageAttr(new Float32Array(S * S).fill(1)) });
      expect(r.values.drop).toBeLessThan(1e-3);
    }
  });
  it('m2ib text: the worked median rule with id 0, BOS/EOS stripped, pooled at the largest kept id; Y is the stripped caption', async () => {
    const [, a, b, c, d] = pair.ids;
    const r = await confidenceM2ib.evaluate({ model, pair, cache, attribution: textAttr([0.2, 0.9, 0.5, 0.1]) });
    const O = cosine(encText([0, b, c, 0]), imgEmb);
    // The script strips BOS/EOS before both passes: Y is the stripped caption (pooled at its largest id).
    const Ys = cosine(encText([a, b, c, d]), imgEmb);
    expect(Math.abs(Ys - Y)).toBeGreaterThan(1e-4);
    expect(r.meta!.clean as number).toBeCloseTo(Ys, 5);
    expect(r.meta!.explained as number).toBeCloseTo(O, 5);
    expect(r.values.drop).toBeCloseTo(Math.max(0, Ys - O) * 100, 3);
    expect(r.values.increase).toBe(O > Ys ? 100 : 0);
  });
  it('m2ib image: by default every image row is weighted by the top row of the map (the script passes the map without its batch axis); full uses the whole map', async () => {
    // Rows differ: row r of the map is (r + 1) / S times a column ramp.
    const map = Float32Array.from({ length: S * S }, (_, i) => ((Math.floor(i / S) + 1) / S) * ((i % S) / (S - 1)));
    const topRowImage = pixels.map((v, k) => v * map[k % S]);
    const wholeMapImage = pixels.map((v, k) => v * map[k % (S * S)]);
    const top = await confidenceM2ib.evaluate({ model, pair, cache, attribution: imageAttr(map) });
    const full = await confidenceM2ib.evaluate({ model, pair, cache, attribution: imageAttr(map) }, { imageMask: 'full' });
    expect(top.meta!.explained as number).toBeCloseTo(cosine(encImage(topRowImage), txtEmb), 5);
    expect(full.meta!.explained as number).toBeCloseTo(cosine(encImage(wholeMapImage), txtEmb), 5);
    expect(Math.abs((top.meta!.explained as number) - (full.meta!.explained as number))).toBeGreaterThan(1e-4);
    expect(top.meta!.clean as number).toBeCloseTo(Y, 5);
  });
  it('nib image: the whole map × normalised pixels, Y the clean pair', async () => {
    const map = Float32Array.from({ length: S * S }, (_, i) => ((Math.floor(i / S) + 1) / S) * ((i % S) / (S - 1)));
    const r = await confidenceNib.evaluate({ model, pair, cache, attribution: imageAttr(map) });
    expect(r.meta!.explained as number).toBeCloseTo(cosine(encImage(pixels.map((v, k) => v * map[k % (S * S)])), txtEmb), 5);
    expect(r.meta!.clean as number).toBeCloseTo(Y, 5);
  });
  it('nib text: Y and O without BOS/EOS; each id’s token-embedding row scaled by its score — a repeated id by the product of its scores', async () => {
    const { bosTokenId: bos, eosTokenId: eos, hiddenSize } = model.config.text;
    const ids = [bos, 500, 600, 500, 700, eos]; // id 500 twice
    const p2 = { pixels: pair.pixels, ids };
    const c2 = new PairCache(model, p2);
    const scores = [0.5, 0.8, 0.4, 0.9];
    const r = await confidenceNib.evaluate({ model, pair: p2, cache: c2, attribution: textAttr(scores) });
    // By hand: a copy of the embedding rows, row 500 × 0.5 × 0.4, row 600 × 0.8, row 700 × 0.9, then the stripped caption.
    const stripped = ids.slice(1, -1);
    const factor: Record<number, number> = { 500: 0.5 * 0.4, 600: 0.8, 700: 0.9 };
    const t = model.text;
    const emb = tf.tidy(() => {
      const rows = t.tokenEmbeddings([stripped]).arraySync()[0].map((row, j) => row.map((v) => v * factor[stripped[j]]));
      expect(rows[0].length).toBe(hiddenSize);
      return t.head(t.runBlocks(t.embedTokens(tf.tensor3d([rows]))).h, [stripped]);
    });
    const O = cosine(emb.dataSync(), imgEmb);
    emb.dispose();
    expect(r.meta!.explained as number).toBeCloseTo(O, 5);
    expect(r.meta!.clean as number).toBeCloseTo(cosine(encText(stripped), imgEmb), 5);
    c2.dispose();
  });
  it('corrected text: scores of ones reproduce the clean caption; zeros scale every caption token embedding to 0', async () => {
    const ones = await confidenceCorrected.evaluate({ model, pair, cache, attribution: textAttr([1, 1, 1, 1]) });
    expect(ones.meta!.explained as number).toBeCloseTo(Y, 5);
    const zeros = await confidenceCorrected.evaluate({ model, pair, cache, attribution: textAttr([0, 0, 0, 0]) });
    const t = model.text;
    const ids = pair.ids;
    const emb = tf.tidy(() => {
      const scale = tf.tensor3d(ids.map((_, j) => (j === 0 || j === ids.length - 1 ? 1 : 0)), [1, ids.length, 1]);
      return t.head(t.runBlocks(t.embedTokens(tf.mul(t.tokenEmbeddings([ids]), scale) as tf.Tensor3D)).h, [ids]);
    });
    const O = cosine(emb.dataSync(), imgEmb);
    emb.dispose();
    expect(zeros.meta!.explained as number).toBeCloseTo(O, 5);
  });
  it('refuses a map of the wrong size', async () => {
    await expect(confidenceM2ib.evaluate({ model, pair, cache, attribution: imageAttr(new Float32Array(10)) })).rejects.toThrow(/10 scores, expected 224×224/);
    await expect(confidenceM2ib.evaluate({ model, pair, cache, attribution: textAttr([1, 2]) })).rejects.toThrow(/2 scores for a caption of 4 tokens/);
  });
});

describe('insertion / deletion through the model', () => {
  it('image: ends at the clean score and the substrate; insertion starts at the blurred image', async () => {
    const step = (S * S) / 4;
    const r = await insertionDeletion.evaluate({ model, pair, cache, attribution: imageAttr(ramp()) }, { step, batch: 2 });
    const del = r.curves!.deletion;
    const ins = r.curves!.insertion;
    expect(del).toHaveLength(5);
    expect(del[0]).toBeCloseTo(Y, 5);
    expect(del[4]).toBeCloseTo(cosine(encImage(new Float32Array(3 * S * S)), txtEmb), 5);
    expect(ins[0]).toBeCloseTo(cosine(encImage(blurCHW(pixels, 3, S, S)), txtEmb), 5);
    expect(ins[4]).toBeCloseTo(Y, 5);
    // After 1/4: the ramp's top quarter is the right-most 56 columns.
    const quarter = pixels.map((v, k) => ((k % (S * S)) % S >= S - S / 4 ? 0 : v));
    expect(del[1]).toBeCloseTo(cosine(encImage(quarter), txtEmb), 5);
    expect(r.values.deletion).toBeCloseTo(curveAuc(del), 12);
    expect(r.values.insertion).toBeCloseTo(curveAuc(ins), 12);
  });
  it('image, insertionStart substrate: insertion starts where deletion ends (the mean colour) and ends at the clean score', async () => {
    const step = (S * S) / 4;
    const r = await insertionDeletion.evaluate({ model, pair, cache, attribution: imageAttr(ramp()) }, { step, batch: 2, insertionStart: 'substrate' });
    const ins = r.curves!.insertion;
    expect(ins[0]).toBeCloseTo(cosine(encImage(new Float32Array(3 * S * S)), txtEmb), 5);
    expect(ins[0]).toBeCloseTo(r.curves!.deletion[4], 6);
    // After 1/4 restored: only the ramp's top quarter (the right-most columns) holds the image.
    const quarter = pixels.map((v, k) => ((k % (S * S)) % S >= S - S / 4 ? v : 0));
    expect(ins[1]).toBeCloseTo(cosine(encImage(quarter), txtEmb), 5);
    expect(ins[4]).toBeCloseTo(Y, 5);
    await expect(insertionDeletion.evaluate({ model, pair, cache, attribution: imageAttr(ramp()) }, { insertionStart: 'black' } as never)).rejects.toThrow(/insertionStart.*blur, substrate/);
  });
  it('text: id 0 substrate, BOS/EOS kept', async () => {
    const r = await insertionDeletion.evaluate({ model, pair, cache, attribution: textAttr([0.1, 0.9, 0.3, 0.2]) });
    const [bos, a, b, c, d, eos] = pair.ids;
    const del = r.curves!.deletion;
    expect(del).toHaveLength(5);
    expect(del[0]).toBeCloseTo(Y, 5);
    expect(del[1]).toBeCloseTo(cosine(encText([bos, a, 0, c, d, eos]), imgEmb), 5);
    expect(del[4]).toBeCloseTo(cosine(encText([bos, 0, 0, 0, 0, eos]), imgEmb), 5);
    expect(r.curves!.insertion[2]).toBeCloseTo(cosine(encText([bos, 0, b, c, 0, eos]), imgEmb), 5);
  });
  it('rejects unknown params', async () => {
    await expect(insertionDeletion.evaluate({ model, pair, cache, attribution: textAttr([1, 1, 1, 1]) }, { stepp: 3 } as never)).rejects.toThrow(/insertion-deletion\.stepp: unknown option; known: step/);
  });
});

describe('no tensor leaks across pairs', () => {
  it('every pair metric on both sides leaves the tensor count where it was', async () => {
    const counts: number[] = [];
    for (let p = 0; p < 2; p++) {
      const pr = randomPair(model, 10 + p, 4);
      const c = new PairCache(model, pr);
      const ctxI = { model, pair: pr, cache: c, attribution: imageAttr(ramp()), sample: { boxes: [{ x: 10, y: 20, w: 30, h: 40 }] } };
      const ctxT = { model, pair: pr, cache: c, attribution: textAttr([0.3, 0.1, 0.7, 0.2]) };
      for (const m of [confidenceCorrected, confidenceM2ib, confidenceNib]) {
        await m.evaluate(ctxI);
        await m.evaluate(ctxT);
      }
      await insertionDeletion.evaluate(ctxI, { step: (S * S) / 2 });
      await insertionDeletion.evaluate(ctxT);
      await localisation.evaluate(ctxI);
      c.dispose();
      pr.pixels.dispose();
      counts.push(tf.memory().numTensors);
    }
    expect(counts[1]).toBe(counts[0]);
  });
});

describe('insertion / deletion on a worker pool', () => {
  it('shares its image forward passes over two threads and gives exactly the curves of one thread', async () => {
    const { WorkerPool } = await import('@ceb/core');
    const pool = await WorkerPool.start(model, { threads: 2 });
    try {
      const attribution = imageAttr(ramp());
      const params = { step: Math.floor((S * S) / 6), batch: 4 };
      const alone = await insertionDeletion.evaluate({ model, pair, cache, attribution }, params);
      const shared = await insertionDeletion.evaluate({ model, pair, cache, attribution, pool }, params);
      expect(shared.curves).toEqual(alone.curves);
      expect(shared.values).toEqual(alone.values);
    } finally {
      await pool.close();
    }
  });
});
