import { describe, expect, it } from 'vitest';
import { Rng } from '@ceb/random';
import { boxMask, chanceLevels, IOU_THRESHOLDS, localisation, localise, pointingHit } from '../src/localisation';

describe('a map equal to the box indicator', () => {
  const size = 8;
  const box = { x: 2, y: 2, w: 3, h: 2 }; // columns 2…4, rows 2…3 (pixel centres inside)
  const mask = boxMask([box], size);
  const map = Float32Array.from(mask);

  it('covers exactly the pixels whose centres are in the box', () => {
    const inside: number[] = [];
    mask.forEach((v, i) => v && inside.push(i));
    expect(inside).toEqual([18, 19, 20, 26, 27, 28]);
  });
  it('scores pointing 1, energy 1, IoU 1 at every threshold and by box area; CNR undefined (no variance)', () => {
    const v = localise(map, size, [box]);
    expect(v.pointing).toBe(1);
    expect(v.energy).toBe(1);
    for (const t of IOU_THRESHOLDS) expect(v[`iou@${t}`]).toBe(1);
    expect(v.miou).toBe(1);
    expect(v['iou@box-area']).toBe(1);
    expect(v.cnr).toBeNaN();
  });
  it('pointing game tolerance: a maximum at pixel (row 0, col 7) is √(2.5² + 1.5²) ≈ 2.92 px from the box', () => {
    const m = new Float32Array(size * size);
    m[7] = 1;
    expect(pointingHit(m, size, [box], 2.9)).toBe(0);
    expect(pointingHit(m, size, [box], 2.95)).toBe(1);
    expect(localise(m, size, [box]).pointing).toBe(1); // default 15 px
  });
});

describe('a worked 4×4 example', () => {
  // Box = the top-left 2×2. Inside 1, 1, 0.5, 0.5 (μ 0.75, σ² 1/16); outside six 0.5 and six 0 (μ 0.25, σ² 1/16).
  const good = Float32Array.from([1, 1, 0.5, 0, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 0, 0, 0.5, 0.5, 0, 0]);
  const box = { x: 0, y: 0, w: 2, h: 2 };
  it('energy 0.5, IoU 0.4 at 0.5, 0.5 at 0.6, 0.6 by box area, CNR √2', () => {
    const v = localise(good, 4, [box]);
    expect(v.pointing).toBe(1);
    expect(v.energy).toBeCloseTo(0.5, 12);
    expect(v['iou@0.1']).toBeCloseTo(0.4, 12);
    expect(v['iou@0.5']).toBeCloseTo(0.4, 12);
    expect(v['iou@0.6']).toBeCloseTo(0.5, 12);
    expect(v['iou@box-area']).toBeCloseTo(0.6, 12);
    expect(v.cnr).toBeCloseTo(Math.SQRT2, 12);
  });
  it('higherIsBetter: the map beats its inverse on every output', () => {
    const bad = good.map((x) => 1 - x);
    const g = localise(good, 4, [box], 0);
    const b = localise(bad, 4, [box], 0);
    for (const [key, higher] of Object.entries(localisation.higherIsBetter)) {
      expect(higher).toBe(true);
      expect(g[key], key).toBeGreaterThan(b[key]);
    }
    expect(Object.keys(g).sort()).toEqual(Object.keys(localisation.higherIsBetter).sort());
  });
});

describe('errors', () => {
  it('needs boxes', () => {
    expect(() => localise(new Float32Array(4), 2, [])).toThrow(/no boxes/);
    expect(() => boxMask([{ x: NaN, y: 0, w: 1, h: 1 }], 2)).toThrow(/box.x/);
  });
});

describe('chance levels', () => {
  it('on a 10×10 image with a 2×2 box at (4, 4): energy = 4/100; pointing within 1 px counts the ring of centres', () => {
    const box = { x: 4, y: 4, w: 2, h: 2 };
    // Pixel centres inside [4, 6]²: columns/rows 4 and 5 → 4 pixels.
    expect(chanceLevels(10, [box], 0)).toEqual({ pointing: 0.04, energy: 0.04 });
    // Within 1 px: centres 3.5…6.5 on each axis → rows/columns 3…6 (16 pixels), minus the four
    // corners whose centres are √(0.5² + 0.5²) ≈ 0.71 px away — inside 1 px, so they count: 16.
    expect(chanceLevels(10, [box], 1).pointing).toBeCloseTo(0.16, 12);
    // Within 0.6 px: the corner centres (0.71 px away) drop out → 16 − 4 = 12.
    expect(chanceLevels(10, [box], 0.6).pointing).toBeCloseTo(0.12, 12);
  });

  it('a uniform random map scores about the chance level on average', () => {
    const size = 32;
    const boxes = [{ x: 5, y: 6, w: 8, h: 10 }];
    const chance = chanceLevels(size, boxes, 3);
    let hits = 0;
    const rng = new Rng(7);
    const trials = 3000;
    for (let t = 0; t < trials; t++) {
      const map = Float32Array.from({ length: size * size }, () => rng.next());
      hits += pointingHit(map, size, boxes, 3);
    }
    // Binomial standard error √(p(1−p)/n) ≈ 0.007 here.
    expect(Math.abs(hits / trials - chance.pointing)).toBeLessThan(0.03);
  });
});
