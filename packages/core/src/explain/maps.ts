// Map utilities shared by every method: token grids, bilinear up-sampling, normalisation.

/** Patch grid side for L tokens including CLS: √(L−1), checked. */
export function gridSide(numTokens: number): number {
  const g = Math.round(Math.sqrt(numTokens - 1));
  if (g * g !== numTokens - 1) {
    throw new Error(`${numTokens} vision tokens are not CLS + a square patch grid`);
  }
  return g;
}

/**
 * Bilinear resize with half-pixel centres (PyTorch `align_corners=False`, TF
 * `half_pixel_centers`): source coordinate (dst + ½)·in/out − ½, clamped at the borders.
 */
export function resizeBilinear(src: ArrayLike<number>, inH: number, inW: number, outH: number, outW: number): Float32Array {
  const out = new Float32Array(outH * outW);
  const axis = (n: number, inN: number, outN: number) => {
    const s = Math.max(0, (n + 0.5) * (inN / outN) - 0.5);
    const i0 = Math.min(Math.floor(s), inN - 1);
    const i1 = Math.min(i0 + 1, inN - 1);
    return { i0, i1, f: s - i0 };
  };
  const cols = Array.from({ length: outW }, (_, x) => axis(x, inW, outW));
  for (let y = 0; y < outH; y++) {
    const r = axis(y, inH, outH);
    for (let x = 0; x < outW; x++) {
      const c = cols[x];
      const top = src[r.i0 * inW + c.i0] * (1 - c.f) + src[r.i0 * inW + c.i1] * c.f;
      const bot = src[r.i1 * inW + c.i0] * (1 - c.f) + src[r.i1 * inW + c.i1] * c.f;
      out[y * outW + x] = top * (1 - r.f) + bot * r.f;
    }
  }
  return out;
}

/**
 * Min-max to [0, 1]. A constant map (max = min) becomes all zeros and is flagged; NaN
 * entries are an error, since they mean the method broke, not that the pixel is unimportant.
 */
export function minMax(values: ArrayLike<number>, what = 'map'): { map: Float32Array; flat: boolean } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) throw new Error(`${what} contains NaN at index ${i}`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const map = new Float32Array(values.length);
  if (!(hi > lo) || !Number.isFinite(hi - lo)) return { map, flat: true };
  const span = hi - lo;
  for (let i = 0; i < values.length; i++) map[i] = (values[i] - lo) / span;
  return { map, flat: false };
}

/**
 * Per-token vision scores (CLS first, then patches row-major) → image map at `size`×`size`:
 * drop CLS, reshape to the grid, bilinear up-sample, min-max.
 */
export function tokenScoresToImageMap(tokenScores: ArrayLike<number>, size: number): { map: Float32Array; flat: boolean } {
  const g = gridSide(tokenScores.length);
  const patches = Array.prototype.slice.call(tokenScores, 1) as number[];
  return minMax(resizeBilinear(patches, g, g, size, size), 'image map');
}

/** A patch-grid map (no CLS) → image map at size×size, min-max normalised. */
export function gridToImageMap(grid: ArrayLike<number>, g: number, size: number): { map: Float32Array; flat: boolean } {
  return minMax(resizeBilinear(grid, g, g, size, size), 'image map');
}

/** Drops BOS (first) and EOS (last) from per-token scores of an unpadded caption. */
export function dropSpecialTokens(scores: ArrayLike<number>): Float32Array {
  return Float32Array.from(Array.prototype.slice.call(scores, 1, scores.length - 1) as number[]);
}
