// KernelSHAP (Lundberg & Lee, NeurIPS 2017) over a coarse feature set: image = a g×g grid
// (the patch grid by default), text = caption tokens; a removed feature takes the fill value
// (0 in normalised space / a zero token embedding). Shapley-kernel weighted least squares
// with the efficiency constraint Σφ = f(all) − f(none) imposed exactly (one unknown
// eliminated), ridge 1e-6, solved by Cholesky. When every coalition fits in the sample
// budget they are all enumerated with their kernel weights (exact Shapley values);
// otherwise sizes are drawn ∝ the kernel, subsets uniformly, in complement pairs, weight 1.
import type { OptionSpec, OptionsOf } from '@ceb/core';
import { defineExplainer, gridMap, textMapFromCaption } from './common';
import { solveSpd } from './linalg';
import { Rng, subSeed } from '@ceb/random';
import { BATCH_SIZE_OPTION, modelScorer, textMaskFromCaption, type MaskScorer } from './scorer';

export const KERNELSHAP_OPTIONS = {
  samples: { type: 'integer', default: 2000, min: 1, description: 'coalitions evaluated besides the empty and the full one' },
  grid: { type: 'integer', default: 0, min: 0, description: 'image features: a grid×grid partition; 0 = the model patch grid (7×7 for ViT-B/32)' },
  seed: { type: 'integer', default: 0, description: 'seed of the sampled coalitions' },
  batchSize: BATCH_SIZE_OPTION,
} satisfies Record<string, OptionSpec>;

export type KernelShapOptions = OptionsOf<typeof KERNELSHAP_OPTIONS>;

/** The value of n coalitions, given as n·M bytes (1 = feature present). */
export type CoalitionValue = (z: Uint8Array, n: number) => ArrayLike<number> | Promise<ArrayLike<number>>;

export interface KernelShapResult {
  phi: Float64Array;
  /** f(no feature) and f(all features). */
  base: number;
  full: number;
  /** true when every coalition was enumerated (the result is then the exact Shapley value up to the ridge). */
  exact: boolean;
  evaluated: number;
}

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** Every coalition of m features (1 … 2^m − 2) with its Shapley-kernel weight. */
function allCoalitions(m: number): { z: Uint8Array; w: Float64Array } {
  const n = 2 ** m - 2;
  const z = new Uint8Array(n * m);
  const w = new Float64Array(n);
  for (let c = 1; c <= n; c++) {
    let s = 0;
    for (let j = 0; j < m; j++) if ((c >> j) & 1) (z[(c - 1) * m + j] = 1), s++;
    w[c - 1] = (m - 1) / (binom(m, s) * s * (m - s));
  }
  return { z, w };
}

/** n coalitions: sizes drawn ∝ the kernel, subsets uniformly, every second one the complement of the one before; weight 1. */
function sampledCoalitions(m: number, n: number, seed: number): { z: Uint8Array; w: Float64Array } {
  const rng = new Rng(subSeed(seed, 2));
  const sizeCdf: number[] = [];
  let acc = 0;
  for (let s = 1; s < m; s++) sizeCdf.push((acc += (m - 1) / (s * (m - s))));
  const z = new Uint8Array(n * m);
  const perm = Array.from({ length: m }, (_, j) => j);
  for (let i = 0; i < n; i++) {
    if (i % 2 === 1) {
      // The complement of the previous coalition: its size has the same kernel weight.
      for (let j = 0; j < m; j++) z[i * m + j] = 1 - z[(i - 1) * m + j];
      continue;
    }
    const u = rng.next() * acc;
    let s = 1;
    while (s < m - 1 && sizeCdf[s - 1] <= u) s++;
    for (let j = 0; j < s; j++) {
      const k = j + rng.int(m - j);
      [perm[j], perm[k]] = [perm[k], perm[j]];
      z[i * m + perm[j]] = 1;
    }
  }
  return { z, w: new Float64Array(n).fill(1) };
}

/**
 * Weighted least squares with Σφ = full − base imposed exactly: φ_M = (full − base) − Σ_{j<M} φ_j,
 * so y − base − z_M·(full − base) = Σ_{j<M} (z_j − z_M) φ_j; ridge on the diagonal, Cholesky.
 */
function constrainedFit(z: Uint8Array, w: Float64Array, y: Float64Array, m: number, base: number, full: number, ridge: number): Float64Array {
  const n = w.length;
  const k = m - 1;
  const ata = new Float64Array(k * k);
  const atb = new Float64Array(k);
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += w[i];
  const row = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const wi = w[i] / wsum;
    const zm = z[i * m + k];
    const t = y[i] - base - zm * (full - base);
    for (let j = 0; j < k; j++) row[j] = z[i * m + j] - zm;
    for (let a = 0; a < k; a++) {
      if (row[a] === 0) continue;
      const ra = wi * row[a];
      atb[a] += ra * t;
      for (let c = 0; c <= a; c++) ata[a * k + c] += ra * row[c];
    }
  }
  for (let a = 0; a < k; a++) {
    for (let c = 0; c < a; c++) ata[c * k + a] = ata[a * k + c];
    ata[a * k + a] += ridge;
  }
  const sol = solveSpd(ata, atb, k);
  const phi = new Float64Array(m);
  let s = 0;
  for (let j = 0; j < k; j++) (phi[j] = sol[j]), (s += sol[j]);
  phi[k] = full - base - s;
  return phi;
}

export async function kernelShap(value: CoalitionValue, m: number, p: { samples: number; seed: number; chunk?: number; ridge?: number }): Promise<KernelShapResult> {
  if (!Number.isInteger(m) || m < 1) throw new Error(`kernelshap: need at least one feature, got ${m}`);
  const ends = await value(Uint8Array.from({ length: 2 * m }, (_, i) => (i < m ? 0 : 1)), 2);
  const base = ends[0];
  const full = ends[1];
  if (m === 1) return { phi: Float64Array.of(full - base), base, full, exact: true, evaluated: 2 };
  const exact = m <= 20 && 2 ** m - 2 <= p.samples;
  const { z, w } = exact ? allCoalitions(m) : sampledCoalitions(m, p.samples, p.seed);
  const n = w.length;
  const y = new Float64Array(n);
  const chunk = Math.max(1, p.chunk ?? 64);
  for (let i = 0; i < n; i += chunk) {
    const b = Math.min(chunk, n - i);
    const v = await value(z.subarray(i * m, (i + b) * m), b);
    for (let k = 0; k < b; k++) y[i + k] = v[k];
  }
  return { phi: constrainedFit(z, w, y, m, base, full, p.ridge ?? 1e-6), base, full, exact, evaluated: n + 2 };
}

/** Pixel masks from grid coalitions: cell (r, c) covers rows ⌊r·S/g⌋ … ⌊(r+1)·S/g⌋ − 1. */
export function gridCoalitionValue(scorer: MaskScorer, size: number, g: number): CoalitionValue {
  if (scorer.maskSize !== size * size) throw new Error(`kernelshap: scorer takes masks of ${scorer.maskSize} values, expected ${size}×${size}`);
  if (g < 1 || g > size) throw new Error(`kernelshap: grid ${g} must be within 1…${size}`);
  const cellOf = Array.from({ length: size }, (_, i) => Math.min(g - 1, Math.floor((i * g) / size)));
  return (z, n) => {
    const masks = new Float32Array(n * size * size);
    for (let k = 0; k < n; k++) {
      for (let y = 0; y < size; y++) {
        const r = cellOf[y] * g;
        for (let x = 0; x < size; x++) masks[k * size * size + y * size + x] = z[k * g * g + r + cellOf[x]];
      }
    }
    return scorer.score(masks, n);
  };
}

export function captionCoalitionValue(scorer: MaskScorer): CoalitionValue {
  const l = scorer.maskSize;
  const m = l - 2;
  return (z, n) => {
    const masks = new Float32Array(n * l);
    for (let k = 0; k < n; k++) textMaskFromCaption(z.subarray(k * m, (k + 1) * m), masks, k * l);
    return scorer.score(masks, n);
  };
}

export const kernelshap = defineExplainer<KernelShapOptions>({
  name: 'kernelshap',
  description:
    'KernelSHAP (Lundberg & Lee 2017) over the patch grid (image) or caption tokens (text), fill = 0 / zero embedding; ' +
    'Shapley-kernel weighted least squares with the efficiency constraint imposed exactly, ridge 1e-6; all coalitions when they fit in `samples`',
  options: KERNELSHAP_OPTIONS,
  async image(ctx, o) {
    const s = ctx.model.config.vision.imageSize;
    const g = o.grid || ctx.model.vision.gridSize;
    const r = await kernelShap(gridCoalitionValue(modelScorer(ctx, 'image', o.batchSize), s, g), g * g, { samples: o.samples, seed: o.seed, chunk: o.batchSize });
    return { map: gridMap(r.phi, g, s), extra: { grid: g, exact: r.exact, phi: Array.from(r.phi) } };
  },
  async text(ctx, o) {
    const r = await kernelShap(captionCoalitionValue(modelScorer(ctx, 'text', o.batchSize)), ctx.pair.ids.length - 2, { samples: o.samples, seed: o.seed, chunk: o.batchSize });
    return { map: textMapFromCaption(r.phi), extra: { exact: r.exact, phi: Array.from(r.phi) } };
  },
});
