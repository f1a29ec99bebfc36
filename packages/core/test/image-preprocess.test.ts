/**
 * CLIP preprocessing against the PyTorch/PIL reference (../shared/fixtures/preprocess).
 *
 * Measured with sharp 0.34.5 on the 4 fixture images (see docs/preprocessing.md):
 * - decode: 0 levels difference from PIL for all 4 images (PNG and JPEG alike);
 * - resizeBicubicPIL + crop from the reference's decoded_u8: bit-exact (0 levels) vs Pillow 9.4;
 * - normalisation cropped_u8 -> pixel_values: 0 difference (asserted at 1e-6 as the README says);
 * - end to end from the file: 0 difference.
 * Assertions: PNG decode, resize and the end-to-end PNG path are exact. JPEG decode is allowed
 * 2 levels (README: decoders may differ by a level or two from libjpeg, e.g. another libvips
 * build) and the end-to-end JPEG path the equivalent in normalised units.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clipGeometry, clipPreprocess, decodeImage, loadAndPreprocess, resizeBicubicPIL } from '../src/image';
import { PREPROCESS_DIR, readSafetensors, tensor } from './helpers/image-safetensors';

const { tensors, metadata } = readSafetensors(path.join(PREPROCESS_DIR, 'expected.safetensors'));
const stems = metadata.order.split(',');
const FILES: Record<string, string> = {
  landscape_300x200: 'landscape_300x200.png',
  portrait_gray_200x300: 'portrait_gray_200x300.jpg',
  square_rgba_224x224: 'square_rgba_224x224.png',
  photo_641x480: 'photo_641x480.jpg',
};

function diffStats(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  expect(a.length).toBe(b.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    sum += d;
  }
  return { max, mean: sum / a.length };
}

const i64 = (name: string): number[] => Array.from(tensor(tensors, name).data as BigInt64Array, Number);
const u8 = (name: string): Uint8Array => tensor(tensors, name).data as Uint8Array;
const f32 = (name: string): Float32Array => tensor(tensors, name).data as Float32Array;

it('the fixture lists the four documented images', () => {
  expect(stems.sort()).toEqual(Object.keys(FILES).sort());
});

describe.each(Object.keys(FILES))('%s', (stem) => {
  const file = path.join(PREPROCESS_DIR, FILES[stem]);
  const isJpeg = file.endsWith('.jpg');
  const decodedRef = tensor(tensors, `${stem}.decoded_u8`);
  const [refH, refW] = decodedRef.shape;

  it('decodes like PIL + convert_rgb', async () => {
    const img = await decodeImage(file);
    expect([img.height, img.width]).toEqual([refH, refW]);
    const d = diffStats(img.data, u8(`${stem}.decoded_u8`));
    if (isJpeg) {
      expect(d.max).toBeLessThanOrEqual(2);
      expect(d.mean).toBeLessThanOrEqual(0.1);
    } else {
      expect(d.max).toBe(0);
    }
  });

  it('has the reference resize size and crop offset', () => {
    const g = clipGeometry(refW, refH, 224);
    expect([g.resizedH, g.resizedW]).toEqual(i64(`${stem}.resized_hw`));
    expect([g.top, g.left]).toEqual(i64(`${stem}.crop_top_left`));
  });

  it('PIL-bicubic resize + centre crop of the reference decode is bit-exact', () => {
    const r = clipPreprocess({ width: refW, height: refH, data: u8(`${stem}.decoded_u8`) });
    expect(r.resizedHW).toEqual(i64(`${stem}.resized_hw`));
    expect(r.cropTopLeft).toEqual(i64(`${stem}.crop_top_left`));
    expect(diffStats(r.cropped.data, u8(`${stem}.cropped_u8`)).max).toBe(0);
  });

  it('normalises cropped_u8 into pixel_values within 1e-6', () => {
    // The crop is already 224x224, so clipPreprocess does no resize and no crop here.
    const r = clipPreprocess({ width: 224, height: 224, data: u8(`${stem}.cropped_u8`) });
    expect(r.pixelValues.length).toBe(3 * 224 * 224);
    expect(diffStats(r.pixelValues, f32(`${stem}.pixel_values`)).max).toBeLessThanOrEqual(1e-6);
  });

  it('end to end from the file', async () => {
    const r = await loadAndPreprocess(file);
    const d = diffStats(r.pixelValues, f32(`${stem}.pixel_values`));
    if (isJpeg) {
      // 2 decode levels can become ~3 after resampling: 3 / 255 / min(std) = 0.045.
      expect(d.max).toBeLessThanOrEqual(0.05);
      expect(d.mean).toBeLessThanOrEqual(1e-3);
    } else {
      expect(d.max).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('resampler sanity against the fixture', () => {
  it('sharp-like misalignment would be caught: a half-pixel shift changes the result', () => {
    // Guards the test itself: resizing the landscape image to one pixel wider must NOT match.
    const stem = 'landscape_300x200';
    const img = { width: 300, height: 200, data: u8(`${stem}.decoded_u8`) };
    const wrong = resizeBicubicPIL(img, 337, 224);
    const crop = new Uint8Array(224 * 224 * 3);
    for (let y = 0; y < 224; y++) crop.set(wrong.data.subarray((y * 337 + 56) * 3, (y * 337 + 56 + 224) * 3), y * 224 * 3);
    expect(diffStats(crop, u8(`${stem}.cropped_u8`)).max).toBeGreaterThan(0);
  });
});

describe('clipPreprocess options and errors', () => {
  it('uses the given size, mean and std', () => {
    // Constant grey 128 image 10x20 -> size 4: resize keeps the constant, value (128/255 - 0.5) / 0.25.
    const img = { width: 10, height: 20, data: new Uint8Array(10 * 20 * 3).fill(128) };
    const r = clipPreprocess(img, { size: 4, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    expect(r.resizedHW).toEqual([8, 4]);
    expect(r.cropTopLeft).toEqual([2, 0]);
    expect(r.pixelValues.length).toBe(48);
    for (const v of r.pixelValues) expect(v).toBeCloseTo((128 / 255 - 0.5) / 0.25, 6);
  });

  it('rejects malformed images and parameters with a clear message', () => {
    expect(() => clipPreprocess({ width: 2, height: 2, data: new Uint8Array(5) })).toThrow(/width\*height\*3 = 12/);
    const ok = { width: 2, height: 2, data: new Uint8Array(12) };
    expect(() => clipPreprocess(ok, { std: [1, 0, 1] })).toThrow(/std/);
  });
});
