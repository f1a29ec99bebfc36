/**
 * CLIP image preprocessing exactly as Hugging Face's CLIPImageProcessor does it with PIL:
 * RGB -> resize the shortest side to `size` with PIL BICUBIC (long side int(size * long / short))
 * -> centre crop size x size at ((h - size) // 2, (w - size) // 2) -> u8 * (1/255) in float64,
 * then float32 -> (x - mean) / std in float32 -> CHW.
 */
import { decodeImage } from './decode';
import { resizeBicubicPIL } from './resample-pil';
import { assertRgbImage, type RgbImage } from '@ceb/types';

export const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
export const CLIP_SIZE = 224;

export interface ClipPreprocessOptions {
  /** Output side (shortest side after resize, and crop size). Default 224. */
  size?: number;
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
}

export interface ClipPreprocessResult {
  /** [3, size, size] float32, channel-major. */
  pixelValues: Float32Array;
  /** The size x size 8-bit crop that pixelValues was computed from. */
  cropped: RgbImage;
  /** (height, width) after the shortest-side resize. */
  resizedHW: [number, number];
  /** (top, left) of the crop inside the resized image. */
  cropTopLeft: [number, number];
}

export interface ClipGeometry {
  resizedW: number;
  resizedH: number;
  top: number;
  left: number;
}

/** Resize and crop geometry for an image of width x height (HF get_resize_output_image_size + center_crop). */
export function clipGeometry(width: number, height: number, size = CLIP_SIZE): ClipGeometry {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`clipGeometry: image size must be positive integers, got ${width}x${height}`);
  }
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`clipGeometry: size must be a positive integer, got ${size}`);
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  // Python's int() truncates the float64 quotient; same arithmetic order as HF.
  const newLong = Math.trunc((size * long) / short);
  const resizedW = width <= height ? size : newLong;
  const resizedH = width <= height ? newLong : size;
  return {
    resizedW,
    resizedH,
    top: Math.floor((resizedH - size) / 2),
    left: Math.floor((resizedW - size) / 2),
  };
}

function checkTriple(v: readonly number[], what: string): void {
  if (v.length !== 3 || !v.every(Number.isFinite)) throw new RangeError(`clipPreprocess: ${what} must be 3 finite numbers, got [${v.join(', ')}]`);
}

export function clipPreprocess(img: RgbImage, opts: ClipPreprocessOptions = {}): ClipPreprocessResult {
  assertRgbImage(img, 'clipPreprocess input');
  const size = opts.size ?? CLIP_SIZE;
  const mean = opts.mean ?? CLIP_MEAN;
  const std = opts.std ?? CLIP_STD;
  checkTriple(mean, 'mean');
  checkTriple(std, 'std');
  if (std.some((s) => s === 0)) throw new RangeError('clipPreprocess: std must not contain 0');

  const g = clipGeometry(img.width, img.height, size);
  const resized = g.resizedW === img.width && g.resizedH === img.height ? img : resizeBicubicPIL(img, g.resizedW, g.resizedH);

  const cropped = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const srcStart = ((y + g.top) * resized.width + g.left) * 3;
    cropped.set(resized.data.subarray(srcStart, srcStart + size * 3), y * size * 3);
  }

  const pixelValues = new Float32Array(3 * size * size);
  const plane = size * size;
  const scale = 1 / 255;
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]);
    const s = Math.fround(std[c]);
    // 256 possible inputs per channel: precompute with float32 rounding after each operation
    // (float64 rescale then float32, then float32 subtract and divide, as numpy does).
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(Math.fround(v * scale) - m) / s);
    for (let i = 0; i < plane; i++) pixelValues[c * plane + i] = lut[cropped[i * 3 + c]];
  }

  return {
    pixelValues,
    cropped: { width: size, height: size, data: cropped },
    resizedHW: [g.resizedH, g.resizedW],
    cropTopLeft: [g.top, g.left],
  };
}

/** Decode an image file (see decodeImage) and preprocess it for CLIP. */
export async function loadAndPreprocess(
  path: string,
  opts: ClipPreprocessOptions = {},
): Promise<ClipPreprocessResult & { original: RgbImage }> {
  const original = await decodeImage(path);
  return { ...clipPreprocess(original, opts), original };
}
