// ROAR on a synthetic task with a planted signal: 8 pixels of a 3×8×8 image carry the class
// (+2 or −2 in every channel), everything else is N(0, 1) noise. Features are the raw
// pixels, so the probe can only use what the masking leaves.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@ceb/core';
import { Rng } from '@ceb/random';
import { channelMeans, removeTop, runRoar, type RoarItem } from '../src/roar';

const C = 3;
const S = 8;
const HW = S * S;
const SIGNAL = [0, 1, 2, 3, 8, 9, 10, 11]; // rows 0–1, columns 0–3

function gauss(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function makeItems(n: number, seed: number): RoarItem[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const cls = i % 2;
    const pixels = new Float32Array(C * HW);
    for (let k = 0; k < pixels.length; k++) pixels[k] = gauss(rng);
    for (const p of SIGNAL) for (let c = 0; c < C; c++) pixels[c * HW + p] = cls ? 2 : -2;
    return { pixels, category: cls ? 'b' : 'a' };
  });
}

const identity = async (images: Float32Array[]) => images;
const perfect = () => {
  const m = new Float32Array(HW);
  for (const p of SIGNAL) m[p] = 1;
  return m;
};

beforeAll(async () => {
  await initBackend('wasm');
});

describe('removal', () => {
  it('per-channel means of the training images (hand values)', () => {
    expect(Array.from(channelMeans([Float32Array.from([1, 3, 10, 20]), Float32Array.from([5, 7, 30, 40])], 2))).toEqual([4, 25]);
  });
  it('replaces round(t·HW) top pixels in every channel', () => {
    const out = removeTop(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Int32Array.from([2, 0, 1, 3]), 0.5, Float64Array.from([-1, -2]));
    expect(Array.from(out)).toEqual([-1, 2, -1, 4, -2, 6, -2, 8]);
  });
});

describe('ROAR on a planted signal', () => {
  const train = makeItems(80, 1);
  const test = makeItems(40, 2);
  let result: Awaited<ReturnType<typeof runRoar>>;
  beforeAll(async () => {
    const rng = new Rng(77);
    result = await runRoar({
      featurize: identity,
      channels: C,
      train,
      test,
      task: 'category',
      seed: 3,
      epochs: 60,
      lr: 0.05,
      methods: { perfect, shuffled: () => Float32Array.from({ length: HW }, () => rng.next()) },
    });
  });

  it('reports accuracy at t = 0 and every fraction, and the trapezoid area', () => {
    const r = result.methods.perfect;
    expect(r.fractions).toEqual([0, 0.1, 0.3, 0.5, 0.7, 0.9]);
    expect(r.accuracy).toHaveLength(6);
    expect(r.accuracy[0]).toBeGreaterThanOrEqual(0.95); // the signal is unmistakable unmasked
    let area = 0;
    for (let i = 1; i < 6; i++) area += ((r.fractions[i] - r.fractions[i - 1]) * (r.accuracy[i] + r.accuracy[i - 1])) / 2;
    expect(r.auc).toBeCloseTo(area, 12);
    expect(result.classes).toBe(2);
  });
  it('the perfect map drops to chance once its 8 pixels are gone (t ≥ 0.3 removes 19 of 64); random does not', () => {
    const p = result.methods.perfect.accuracy;
    for (const a of p.slice(2)) expect(a).toBeLessThanOrEqual(0.75);
    expect(result.random.accuracy[2]).toBeGreaterThanOrEqual(0.95);
    expect(result.methods.perfect.auc).toBeLessThan(result.random.auc - 0.15);
    expect(result.methods.perfect.aucGainOverRandom).toBeCloseTo(result.random.auc - result.methods.perfect.auc, 12);
    expect(result.random.aucGainOverRandom).toBe(0);
  });
  it('a random map drops no faster than the random baseline', () => {
    expect(Math.abs(result.methods.shuffled.auc - result.random.auc)).toBeLessThan(0.1);
  });
});

describe('retrieval labels and errors', () => {
  it('captions never seen in training count as wrong', async () => {
    const items = makeItems(12, 5).map((it) => ({ pixels: it.pixels, caption: it.category }));
    const test = makeItems(4, 6).map((it, i) => ({ pixels: it.pixels, caption: i === 0 ? 'never seen' : it.category }));
    const r = await runRoar({ featurize: identity, channels: C, train: items, test, methods: {}, fractions: [0.5], epochs: 30 });
    expect(r.task).toBe('retrieval');
    expect(r.unseenTestLabels).toBe(1);
    expect(r.random.accuracy[0]).toBeLessThanOrEqual(0.75);
  });
  it('fine-tuning refuses a featurize function (it retrains the model itself); bad items are named', async () => {
    const items = makeItems(4, 5);
    await expect(runRoar({ featurize: identity, channels: C, train: items, test: items, methods: {}, probe: 'finetune' })).rejects.toThrow(/finetune.*featurize/);
    await expect(runRoar({ featurize: identity, channels: C, train: items, test: [{ pixels: new Float32Array(3) }], methods: {} })).rejects.toThrow(/test item 0 has 3 pixel values/);
    await expect(runRoar({ featurize: identity, channels: C, train: items, test: [{ pixels: items[0].pixels }], methods: {}, task: 'category' })).rejects.toThrow(/test item 0 has no category/);
  });
});
