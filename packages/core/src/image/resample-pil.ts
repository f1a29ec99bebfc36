/**
 * Pillow's BICUBIC resize for 8-bit RGB, reimplemented so that CLIP preprocessing matches the
 * Hugging Face / PIL reference pixel for pixel (sharp/libvips aligns pixels differently and is
 * off by up to 164 levels when upsampling; see docs/preprocessing.md).
 *
 * The algorithm as Pillow documents and implements it (written from the description, not copied):
 * - separable: a horizontal pass (only if the width changes), then a vertical pass (only if the
 *   height changes); each pass's output is rounded and clamped to 8 bits;
 * - Keys cubic kernel with a = -0.5 and support 2; when shrinking, the kernel is stretched by the
 *   scale factor (filterscale = max(in/out, 1)) so it also low-pass filters;
 * - output pixel i has its centre at (i + 0.5) * in/out in input coordinates (half-pixel centres),
 *   taps outside the image are dropped and the remaining weights renormalised to sum to 1;
 * - weights are converted to fixed point with 22 fractional bits (32 - 8 - 2) and accumulated in
 *   integers starting from 0.5 (rounding), then shifted right and clamped to [0, 255].
 */
import { assertRgbImage, type RgbImage } from '@ceb/types';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);
const CUBIC_A = -0.5;
const CUBIC_SUPPORT = 2;

function cubic(x: number): number {
  const t = Math.abs(x);
  if (t < 1) return ((CUBIC_A + 2) * t - (CUBIC_A + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * CUBIC_A;
  return 0;
}

/** Per output pixel: first input index, number of taps, and fixed-point weights (ksize per pixel). */
interface Coeffs {
  ksize: number;
  start: Int32Array;
  count: Int32Array;
  weights: Int32Array;
}

function computeCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = CUBIC_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    // Math.trunc matches C's (int) cast; the clamp to 0 makes trunc vs floor irrelevant below 0.
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const n = hi - lo;
    let sum = 0;
    for (let k = 0; k < n; k++) {
      w[k] = cubic((k + lo - center + 0.5) / filterscale);
      sum += w[k];
    }
    for (let k = 0; k < n; k++) {
      const v = sum !== 0 ? w[k] / sum : w[k];
      // Round half away from zero, as Pillow's conversion of the float weights does.
      weights[i * ksize + k] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    start[i] = lo;
    count[i] = n;
  }
  return { ksize, start, count, weights };
}

function clip8(acc: number): number {
  if (acc <= 0) return 0;
  const v = Math.floor(acc / ONE);
  return v > 255 ? 255 : v;
}

/** One output pixel: the fixed-point weighted sum of n source pixels `step` bytes apart, each channel rounded and clipped as Pillow does. */
function weightedRgb(data: Uint8Array, p: number, step: number, n: number, weights: Int32Array, kOff: number, out: Uint8Array, o: number): void {
  let r = HALF;
  let g = HALF;
  let b = HALF;
  for (let k = 0; k < n; k++, p += step) {
    const wk = weights[kOff + k];
    r += data[p] * wk;
    g += data[p + 1] * wk;
    b += data[p + 2] * wk;
  }
  out[o] = clip8(r);
  out[o + 1] = clip8(g);
  out[o + 2] = clip8(b);
}

function resizeHorizontal(src: RgbImage, outW: number): RgbImage {
  const { width: inW, height: h, data } = src;
  const { ksize, start, count, weights } = computeCoeffs(inW, outW);
  const out = new Uint8Array(outW * h * 3);
  for (let y = 0; y < h; y++) {
    const row = y * inW * 3;
    for (let x = 0; x < outW; x++) {
      weightedRgb(data, row + start[x] * 3, 3, count[x], weights, x * ksize, out, (y * outW + x) * 3);
    }
  }
  return { width: outW, height: h, data: out };
}

function resizeVertical(src: RgbImage, outH: number): RgbImage {
  const { width: w, height: inH, data } = src;
  const { ksize, start, count, weights } = computeCoeffs(inH, outH);
  const out = new Uint8Array(w * outH * 3);
  const stride = w * 3;
  for (let y = 0; y < outH; y++) {
    const kOff = y * ksize;
    const base = start[y] * stride;
    for (let x = 0; x < w; x++) {
      weightedRgb(data, base + x * 3, stride, count[y], weights, kOff, out, (y * w + x) * 3);
    }
  }
  return { width: w, height: outH, data: out };
}

/**
 * Resize like Pillow's `Image.resize((outW, outH), Image.BICUBIC)` (no box, no reducing_gap).
 * An axis whose size does not change is not resampled (Pillow skips that pass); a same-size call
 * returns a copy.
 */
export function resizeBicubicPIL(img: RgbImage, outW: number, outH: number): RgbImage {
  assertRgbImage(img, 'resizeBicubicPIL input');
  if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW <= 0 || outH <= 0) {
    throw new RangeError(`resizeBicubicPIL: output size must be positive integers, got ${outW}x${outH}`);
  }
  let cur = img;
  if (outW !== img.width) cur = resizeHorizontal(cur, outW);
  if (outH !== img.height) cur = resizeVertical(cur, outH);
  if (cur === img) return { width: img.width, height: img.height, data: img.data.slice() };
  return cur;
}
