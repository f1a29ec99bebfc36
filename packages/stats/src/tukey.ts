// The studentized range distribution: the range of k iid N(0,1) divided by an independent
// sqrt(χ²_df / df) (df = Infinity: divided by 1). Computed by quadrature, no tables.
import erfc from '@stdlib/math-base-special-erfc';
import { brent, integrate } from './integrate';

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
// Φ(±8.5) is 1e-17 from 0 / 1: beyond this the normal density contributes nothing at double precision.
const Z_MAX = 8.5;

function checkK(fn: string, k: number): void {
  if (!Number.isInteger(k) || k < 2) throw new Error(`${fn}: k (number of means) must be an integer ≥ 2, got ${String(k)}`);
}

function checkDf(fn: string, df: number): void {
  if (typeof df !== 'number' || !(df >= 1)) throw new Error(`${fn}: df must be a number ≥ 1 or Infinity, got ${String(df)}`);
}

/** Φ(z) − Φ(z − w), from whichever tails are small, so that neither side loses digits. */
function normalBand(z: number, w: number): number {
  return z - w / 2 >= 0
    ? 0.5 * (erfc((z - w) / Math.SQRT2) - erfc(z / Math.SQRT2))
    : 0.5 * (erfc(-z / Math.SQRT2) - erfc((w - z) / Math.SQRT2));
}

/** P(range of k iid N(0,1) ≤ w) = k ∫ φ(z) [Φ(z) − Φ(z − w)]^(k−1) dz (z the largest value). */
function rangeCdf(w: number, k: number): number {
  if (w <= 0) return 0;
  const f = (z: number) => INV_SQRT_2PI * Math.exp(-0.5 * z * z) * Math.pow(normalBand(z, w), k - 1);
  // Split at w/2, where the band is widest (the integrand's bulk for large k).
  const c = Math.min(Math.max(w / 2, -Z_MAX + 1), Z_MAX - 1);
  const v = k * (integrate(f, -Z_MAX, c, { absTol: 1e-15, pieces: 6 }) + integrate(f, c, Z_MAX, { absTol: 1e-15, pieces: 6 }));
  return Math.min(1, Math.max(0, v));
}

/**
 * P(Q ≤ q) for the studentized range with k means and df degrees of freedom (df ≥ 1, or
 * Infinity). Finite df: ∫ f(s) P(range ≤ q·s) ds over the density f of s = sqrt(χ²_df/df);
 * f is normalised numerically over the same nodes (no Γ function, no cancellation at large df).
 */
export function ptukey(q: number, k: number, df = Infinity): number {
  if (typeof q !== 'number' || Number.isNaN(q)) throw new Error(`ptukey: q must be a number, got ${String(q)}`);
  checkK('ptukey', k);
  checkDf('ptukey', df);
  if (q <= 0) return 0;
  if (q === Infinity) return 1;
  if (df === Infinity) return rangeCdf(q, k);
  // Unnormalised density of s relative to its mode m = sqrt((df−1)/df): log f = (df−1)·ln(s/m) − df·(s² − m²)/2.
  const m = Math.sqrt((df - 1) / df);
  const logDensity = (s: number) => (df > 1 ? (df - 1) * Math.log1p((s - m) / m) : 0) - (df * (s - m) * (s + m)) / 2;
  const density = (s: number) => (s <= 0 ? 0 : Math.exp(logDensity(s)));
  // s is within about 1/sqrt(2·df) of m; 14 of those widths leave under e^-50 of the mass out.
  const width = 14 / Math.sqrt(2 * df);
  const lo = Math.max(0, m - width);
  const hi = m + width;
  const opts = { absTol: 1e-15, relTol: 1e-12, pieces: 16 };
  const norm = integrate(density, lo, hi, opts);
  const mass = integrate((s) => (s <= 0 ? 0 : density(s) * rangeCdf(q * s, k)), lo, hi, opts);
  return Math.min(1, Math.max(0, mass / norm));
}

/** The p-quantile of the studentized range: q with ptukey(q, k, df) = p, by Brent's method. */
export function qtukey(p: number, k: number, df = Infinity): number {
  if (typeof p !== 'number' || !(p > 0 && p < 1)) throw new Error(`qtukey: p must be in (0, 1), got ${String(p)}`);
  checkK('qtukey', k);
  checkDf('qtukey', df);
  let hi = 4;
  while (ptukey(hi, k, df) < p) {
    hi *= 2;
    if (hi > 1e12) throw new Error(`qtukey: no quantile found below 1e12 for p = ${p}, k = ${k}, df = ${df}`);
  }
  const lo = hi === 4 ? 0 : hi / 2;
  return brent((q) => ptukey(q, k, df) - p, lo, hi, 1e-12 * hi);
}
