import { describe, expect, it } from 'vitest';
import { boxMask, IOU_THRESHOLDS, localisation, localise, pointingHit } from '../src/localisation';

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
