// Distribution functions, thin checked wrappers over @stdlib's special functions; upper tails are
// computed directly (not as 1 − cdf) so that small p-values keep their precision.
import erfc from '@stdlib/math-base-special-erfc';
import gammainc from '@stdlib/math-base-special-gammainc';
import betainc from '@stdlib/math-base-special-betainc';
import binomCdf from '@stdlib/stats-base-dists-binomial-cdf';
import { checkInteger } from './validate';

function checkX(fn: string, x: number): void {
  if (typeof x !== 'number' || Number.isNaN(x)) throw new Error(`${fn}: x must be a number, got ${String(x)}`);
}

function checkDf(fn: string, name: string, df: number): void {
  if (typeof df !== 'number' || !(df > 0) || !Number.isFinite(df)) throw new Error(`${fn}: ${name} must be a finite number > 0, got ${String(df)}`);
}

/** Standard normal CDF Φ(x). */
export function normalCdf(x: number): number {
  checkX('normalCdf', x);
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Standard normal upper tail 1 − Φ(x), computed as erfc so it keeps precision for large x. */
export function normalSf(x: number): number {
  checkX('normalSf', x);
  return 0.5 * erfc(x / Math.SQRT2);
}

/** P(χ²_df > x): the regularized upper incomplete gamma Q(df/2, x/2). */
export function chiSquareSf(x: number, df: number): number {
  checkX('chiSquareSf', x);
  checkDf('chiSquareSf', 'df', df);
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return gammainc(x / 2, df / 2, true, true);
}

/** P(F_{df1,df2} > x) = I_{df2/(df2 + df1·x)}(df2/2, df1/2) (regularized incomplete beta). */
export function fSf(x: number, df1: number, df2: number): number {
  checkX('fSf', x);
  checkDf('fSf', 'df1', df1);
  checkDf('fSf', 'df2', df2);
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return betainc(df2 / (df2 + df1 * x), df2 / 2, df1 / 2, true, false);
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  checkInteger('binomialCdf', 'n', n, 0);
  checkX('binomialCdf', k);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`binomialCdf: p must be in [0, 1], got ${String(p)}`);
  return binomCdf(k, n, p);
}
