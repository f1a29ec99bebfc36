/** mapBoxToModel: values worked out by hand, plus agreement with the pixels clipPreprocess produces. */
import { describe, expect, it } from 'vitest';
import type { Box } from '@ceb/types';
import { clipPreprocess, mapBoxToModel } from '../src/image';

function expectBox(got: Box | null, want: Box): void {
  expect(got).not.toBeNull();
  for (const k of ['x', 'y', 'w', 'h'] as const) expect(got![k]).toBeCloseTo(want[k], 9);
}

describe('mapBoxToModel', () => {
  it('landscape 300x200', () => {
    // Shortest side 200 -> 224: resized 336x224 (int(224*300/200) = 336), factors 336/300 = 224/200 = 1.12.
    // Crop left = (336-224)//2 = 56, top = 0.
    // Box x 100, y 50, w 50, h 100: x = 100*1.12 - 56 = 56, y = 50*1.12 = 56, w = 56, h = 112.
    expectBox(mapBoxToModel({ x: 100, y: 50, w: 50, h: 100 }, { width: 300, height: 200 }), { x: 56, y: 56, w: 56, h: 112 });
  });

  it('portrait 200x300', () => {
    // Resized 224x336, factors 1.12, crop top 56, left 0.
    // Box x 20, y 100, w 100, h 50: x = 22.4, y = 112 - 56 = 56, w = 112, h = 56.
    expectBox(mapBoxToModel({ x: 20, y: 100, w: 100, h: 50 }, { width: 200, height: 300 }), { x: 22.4, y: 56, w: 112, h: 56 });
  });

  it('uses the exact per-axis factors when the long side is truncated (641x480)', () => {
    // Resized 299x224 (int(224*641/480) = int(299.13) = 299): sx = 299/641, sy = 224/480; left 37, top 0.
    // Box x 100, y 60, w 200, h 120: x = 100*299/641 - 37 = 9.6459..., y = 60*224/480 = 28,
    // w = 200*299/641 = 93.2917..., h = 120*224/480 = 56.
    expectBox(mapBoxToModel({ x: 100, y: 60, w: 200, h: 120 }, { width: 641, height: 480 }), {
      x: (100 * 299) / 641 - 37,
      y: 28,
      w: (200 * 299) / 641,
      h: 56,
    });
    // The whole image covers the whole crop.
    expectBox(mapBoxToModel({ x: 0, y: 0, w: 641, h: 480 }, { width: 641, height: 480 }), { x: 0, y: 0, w: 224, h: 224 });
  });

  it('clips a box that is partly outside the crop', () => {
    // Landscape 300x200: x from 0*1.12 - 56 = -56 -> 0 to 100*1.12 - 56 = 56; y from 0 to 112.
    expectBox(mapBoxToModel({ x: 0, y: 0, w: 100, h: 100 }, { width: 300, height: 200 }), { x: 0, y: 0, w: 56, h: 112 });
    // Bottom right: x from 200*1.12 - 56 = 168 to 300*1.12 - 56 = 280 -> 224; y from 168 to 224.
    expectBox(mapBoxToModel({ x: 200, y: 150, w: 100, h: 50 }, { width: 300, height: 200 }), { x: 168, y: 168, w: 56, h: 56 });
  });

  it('returns null for a box completely outside the crop', () => {
    // x from -56 to 40*1.12 - 56 = -11.2: left of the crop.
    expect(mapBoxToModel({ x: 0, y: 0, w: 40, h: 40 }, { width: 300, height: 200 })).toBeNull();
    // x from 260*1.12 - 56 = 235.2: right of the crop.
    expect(mapBoxToModel({ x: 260, y: 10, w: 40, h: 40 }, { width: 300, height: 200 })).toBeNull();
    // Portrait: y from 0 to 40*1.12 - 56 = -11.2: above the crop.
    expect(mapBoxToModel({ x: 10, y: 0, w: 50, h: 40 }, { width: 200, height: 300 })).toBeNull();
    // Touching the crop edge only (x1 = 50*1.12 = 56 - 56 = 0) has no area inside.
    expect(mapBoxToModel({ x: 0, y: 0, w: 50, h: 50 }, { width: 300, height: 200 })).toBeNull();
  });

  it('takes the model size into account', () => {
    // size 112: landscape 300x200 -> 168x112 (factor 0.56), left 28. Box 100,50,50,100 -> 28, 28, 28, 56.
    expectBox(mapBoxToModel({ x: 100, y: 50, w: 50, h: 100 }, { width: 300, height: 200 }, 112), { x: 28, y: 28, w: 28, h: 56 });
  });

  it('rejects non-finite or negative boxes', () => {
    expect(() => mapBoxToModel({ x: NaN, y: 0, w: 1, h: 1 }, { width: 10, height: 10 })).toThrow(/box\.x/);
    expect(() => mapBoxToModel({ x: 0, y: 0, w: -1, h: 1 }, { width: 10, height: 10 })).toThrow(/non-negative/);
  });

  it('agrees with where clipPreprocess puts the pixels', () => {
    // Paint a red box on a white 300x200 image, preprocess, and check the mapped box (shrunk by
    // 3 px for the bicubic ringing) is red and the area outside it (grown by 3 px) is white.
    const W = 300;
    const H = 200;
    const box = { x: 120, y: 40, w: 90, h: 110 };
    const data = new Uint8Array(W * H * 3).fill(255);
    for (let y = box.y; y < box.y + box.h; y++) {
      for (let x = box.x; x < box.x + box.w; x++) data.set([255, 0, 0], (y * W + x) * 3);
    }
    const { cropped } = clipPreprocess({ width: W, height: H, data });
    const m = mapBoxToModel(box, { width: W, height: H })!;
    let checked = 0;
    let wrong = 0;
    for (let y = 0; y < 224; y++) {
      for (let x = 0; x < 224; x++) {
        const g = cropped.data[(y * 224 + x) * 3 + 1];
        const inside = x >= m.x + 3 && x < m.x + m.w - 3 && y >= m.y + 3 && y < m.y + m.h - 3;
        const outside = x < m.x - 3 || x >= m.x + m.w + 3 || y < m.y - 3 || y >= m.y + m.h + 3;
        if ((inside && g !== 0) || (outside && g !== 255)) wrong++;
        if (inside || outside) checked++;
      }
    }
    expect(wrong).toBe(0);
    expect(checked).toBeGreaterThan(40000);
  });
});
