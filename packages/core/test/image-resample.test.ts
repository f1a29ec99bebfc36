/** resizeBicubicPIL on tiny inputs worked out by hand (the fixture test covers real images). */
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '@ceb/types';
import { resizeBicubicPIL } from '../src/image';

// Keys cubic, a = -0.5: k(t) = 1.5|t|^3 - 2.5|t|^2 + 1 for |t| < 1,
// -0.5(|t|^3 - 5|t|^2 + 8|t| - 4) for 1 <= |t| < 2. Values used below:
// k(0.25) = 0.8671875, k(0.75) = 0.2265625, k(1.25) = -0.0703125.

/** A 1-row (or 1-column) grey image with R = G = B = the given values. */
function line(values: number[], vertical = false): RgbImage {
  const data = new Uint8Array(values.length * 3);
  values.forEach((v, i) => data.fill(v, i * 3, i * 3 + 3));
  return vertical ? { width: 1, height: values.length, data } : { width: values.length, height: 1, data };
}
const red = (img: RgbImage): number[] => Array.from({ length: img.width * img.height }, (_, i) => img.data[i * 3]);

describe('resizeBicubicPIL', () => {
  it('upsamples 2 -> 4 with half-pixel centres, renormalised edge taps and clamping', () => {
    // scale 0.5, support 2. Output centres (i + 0.5) * 0.5 = 0.25, 0.75, 1.25, 1.75; taps at input
    // pixels 0 and 1 with argument (j + 0.5 - centre):
    //  out0: k(0.25) on 0, k(1.25) on 255 -> 255 * -0.0703125 / 0.796875 = -22.5 -> clamped to 0
    //  out1: k(-0.25), k(0.75)            -> 255 *  0.2265625 / 1.09375  =  52.82 -> 53
    //  out2: k(-0.75), k(0.25)            -> 255 *  0.8671875 / 1.09375  = 202.18 -> 202
    //  out3: k(-1.25), k(-0.25)           -> 255 *  0.8671875 / 0.796875 = 277.5 -> clamped to 255
    expect(red(resizeBicubicPIL(line([0, 255]), 4, 1))).toEqual([0, 53, 202, 255]);
    // The vertical pass is the same filter along the other axis.
    expect(red(resizeBicubicPIL(line([0, 255], true), 1, 4))).toEqual([0, 53, 202, 255]);
  });

  it('downsamples 4 -> 2 with the kernel stretched by the scale factor', () => {
    // scale 2 = filterscale, support 4. out0 centre 1.0, taps 0..3 at (j + 0.5 - 1) / 2 =
    // -0.25, 0.25, 0.75, 1.25 -> weights 0.8671875, 0.8671875, 0.2265625, -0.0703125 (sum 1.890625).
    //  [255, 0, 0, 0]: out0 = 255 * 0.8671875 / 1.890625 = 116.96 -> 117;
    //  out1 centre 3.0, args -1.25, -0.75, -0.25, 0.25: 255 * -0.0703125 / 1.890625 < 0 -> 0.
    expect(red(resizeBicubicPIL(line([255, 0, 0, 0]), 2, 1))).toEqual([117, 0]);
    // Without stretching (support 2), out0 would use taps 0..2 with k(-0.5), k(0.5), k(1.5) and give
    // 255 * 0.5625 / 1.0625 = 135; the stretched filter is what Pillow uses.
  });

  it('keeps a constant image constant (weights sum to one) for odd ratios', () => {
    const img: RgbImage = { width: 7, height: 5, data: new Uint8Array(7 * 5 * 3).fill(77) };
    for (const [w, h] of [[3, 2], [13, 11], [7, 9], [2, 5]]) {
      const out = resizeBicubicPIL(img, w, h);
      expect([out.width, out.height]).toEqual([w, h]);
      expect(out.data.every((v) => v === 77)).toBe(true);
    }
  });

  it('keeps channels separate', () => {
    const img: RgbImage = { width: 2, height: 1, data: Uint8Array.from([0, 10, 255, 255, 10, 0]) };
    const out = resizeBicubicPIL(img, 4, 1);
    expect(Array.from(out.data)).toEqual([0, 10, 255, 53, 10, 202, 202, 10, 53, 255, 10, 0]);
  });

  it('same size returns an equal copy, not the same buffer', () => {
    const img = line([1, 2, 3]);
    const out = resizeBicubicPIL(img, 3, 1);
    expect(out.data).toEqual(img.data);
    expect(out.data).not.toBe(img.data);
  });

  it('rejects bad sizes', () => {
    expect(() => resizeBicubicPIL(line([1, 2]), 0, 1)).toThrow(/positive integers/);
    expect(() => resizeBicubicPIL(line([1, 2]), 2.5, 1)).toThrow(/positive integers/);
  });
});
