// Closed-form curves: the scorer is the sum of the image's values, so each point is the
// sum of what is kept (deletion) or restored (insertion from an all-zero start).
import { describe, expect, it } from 'vitest';
import { imageCurves, insertionDeletion, tokenCurves } from '../src/insertion-deletion';
import { curveAuc } from '../src/perturb';

const sumScorer = async (images: Float32Array[]) => images.map((im) => im.reduce((a, b) => a + b, 0));

describe('image curves with a sum-of-kept-pixels scorer', () => {
  // 2 channels of a 2×2 image; the map ranks pixel 1, 2, 3, 0.
  const image = Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40]);
  const map = Float32Array.from([0.1, 0.9, 0.5, 0.3]);
  const start = new Float32Array(8);

  it('step 1: deletion 110, 88, 55, 11, 0 (AUC 52.25); insertion 0, 22, 55, 99, 110 (AUC 57.75)', async () => {
    const c = await imageCurves({ image, channels: 2, map, start, step: 1, score: sumScorer, chunk: 2 });
    expect(c.counts).toEqual([0, 1, 2, 3, 4]);
    expect(c.deletion).toEqual([110, 88, 55, 11, 0]);
    expect(c.insertion).toEqual([0, 22, 55, 99, 110]);
    expect(curveAuc(c.deletion)).toBeCloseTo(52.25, 10);
    expect(curveAuc(c.insertion)).toBeCloseTo(57.75, 10);
  });

  it('step 3 on 4 pixels: points after 0, 3 and 4 pixels', async () => {
    const c = await imageCurves({ image, channels: 2, map, start, step: 3, score: sumScorer });
    expect(c.counts).toEqual([0, 3, 4]);
    expect(c.deletion).toEqual([110, 11, 0]);
    expect(c.insertion).toEqual([0, 99, 110]);
  });

  it('a non-zero substrate and start image are used as given', async () => {
    const c = await imageCurves({ image, channels: 2, map, start: new Float32Array(8).fill(1), step: 4, score: sumScorer, substrate: -1 });
    expect(c.deletion).toEqual([110, -8]);
    expect(c.insertion).toEqual([8, 110]);
  });

  it('higherIsBetter: the map that ranks the large pixels first has lower deletion and higher insertion', async () => {
    const img = Float32Array.from([1, 2, 3, 4]);
    const good = await imageCurves({ image: img, channels: 1, map: Float32Array.from([0, 1, 2, 3]), start: new Float32Array(4), step: 1, score: sumScorer });
    const bad = await imageCurves({ image: img, channels: 1, map: Float32Array.from([3, 2, 1, 0]), start: new Float32Array(4), step: 1, score: sumScorer });
    // good deletion 10, 6, 3, 1, 0 → 3.75; bad 10, 9, 7, 4, 0 → 6.25.
    expect(curveAuc(good.deletion)).toBeCloseTo(3.75, 12);
    expect(curveAuc(bad.deletion)).toBeCloseTo(6.25, 12);
    expect(insertionDeletion.higherIsBetter.deletion).toBe(false);
    expect(insertionDeletion.higherIsBetter.insertion).toBe(true);
    expect(curveAuc(good.insertion)).toBeGreaterThan(curveAuc(bad.insertion));
  });

  it('rejects a step that is not a positive integer', async () => {
    await expect(imageCurves({ image, channels: 2, map, start, step: 0, score: sumScorer })).rejects.toThrow(/step must be a positive integer/);
  });
});

describe('token curves', () => {
  it('deletion removes, insertion restores tokens by decreasing score (weights 1, 2, 4)', async () => {
    const weights = [1, 2, 4];
    const score = async (keeps: Float32Array[]) => keeps.map((k) => k.reduce((a, v, i) => a + v * weights[i], 0));
    const c = await tokenCurves({ scores: Float32Array.from([0.2, 0.7, 0.9]), step: 1, score });
    expect(c.deletion).toEqual([7, 3, 1, 0]);
    expect(c.insertion).toEqual([0, 4, 6, 7]);
  });
});
