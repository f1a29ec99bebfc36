// Wilcoxon's signed-rank test, two-sided, with scipy.stats.wilcoxon's conventions (see README).
import { normalSf } from './distributions';
import { averageRanks, tieGroupSizes } from './ranks';
import { checkFiniteArray, checkOneOf } from './validate';

export type ZeroMethod = 'pratt' | 'wilcox' | 'zsplit';
export type WilcoxonMethod = 'auto' | 'exact' | 'approx';

export interface WilcoxonOptions {
  /** How zero differences are treated (default 'pratt'). */
  zeroMethod?: ZeroMethod;
  /** How the p-value is computed (default 'auto'). */
  method?: WilcoxonMethod;
  /** Continuity correction of the normal approximation (default false). */
  correction?: boolean;
}

export interface WilcoxonResult {
  /** min(R+, R−), SciPy's two-sided statistic. */
  statistic: number;
  /** Two-sided p-value. */
  pValue: number;
  /** Number of differences given (zeros included). */
  n: number;
  /** How many of them are exactly 0. */
  zeros: number;
  /** The method used, after 'auto' has chosen. */
  method: 'exact' | 'approx';
  /** The normal approximation's z (≤ 0, as SciPy's zstatistic); only with method 'approx'. */
  z?: number;
}

const ZERO_METHODS: readonly ZeroMethod[] = ['pratt', 'wilcox', 'zsplit'];
const METHODS: readonly WilcoxonMethod[] = ['auto', 'exact', 'approx'];

/**
 * Two-sided p-value of the sign-flip (exact conditional) distribution of the sum of the ranks
 * that get a + sign: each rank is + or − with probability ½, independently. Ranks are
 * multiples of ½, so the sums are counted on the doubled ranks. Without ties this is the
 * classic exact Wilcoxon distribution (SciPy's _get_wilcoxon_distr).
 */
function exactPValue(ranks: number[], observedPlus: number): number {
  const w = ranks.map((r) => Math.round(2 * r));
  const total = w.reduce((s, x) => s + x, 0);
  const p = new Float64Array(total + 1);
  p[0] = 1;
  let top = 0;
  for (const wi of w) {
    // One more rank: P_new(s) = ½ P(s) + ½ P(s − wi); right to left so that P(s − wi) is still the old one.
    top += wi;
    for (let s = top; s >= 0; s--) p[s] = 0.5 * p[s] + (s >= wi ? 0.5 * p[s - wi] : 0);
  }
  const obs = Math.round(2 * observedPlus);
  let lower = 0;
  let upper = 0;
  for (let s = 0; s <= total; s++) {
    if (s <= obs) lower += p[s];
    if (s >= obs) upper += p[s];
  }
  return Math.min(1, 2 * Math.min(lower, upper));
}

/**
 * Wilcoxon signed-rank test of "the differences are symmetric about 0", two-sided, with
 * SciPy's (≥ 1.9) conventions:
 * - zeroMethod 'pratt': zeros are ranked with the others, then their ranks are dropped;
 *   'wilcox': zeros are discarded before ranking; 'zsplit': zero ranks are split half to R+ and half to R−.
 * - 'approx': z = (T − μ − c)/σ with T = min(R+, R−), μ = N(N+1)/4, σ² = N(N+1)(2N+1)/24 over the
 *   N ranked differences, minus Σ(t³ − t)/48 over tie groups (zeros excluded under 'pratt');
 *   Pratt also subtracts n0(n0+1)/4 from μ and n0(n0+1)(2n0+1)/24 from σ² (Cureton 1967);
 *   c = ½·sign(T − μ) with correction, else 0; p = 2·(1 − Φ(|z|)).
 * - 'exact': the sign-flip distribution of the nonzero ranks (see exactPValue); with no ties
 *   and no zeros it is SciPy's exact distribution; with ties or zeros it is the exact
 *   conditional test, which is what SciPy ≥ 1.15's permutation test computes for n ≤ 13.
 * - 'auto': 'exact' when n ≤ 50 and there are no ties and no zeros, else 'approx'.
 * All differences zero: p = 1 (SciPy raises or gives NaN for 'wilcox'/'pratt'; see README).
 */
export function wilcoxonSignedRank(differences: ArrayLike<number>, opts: WilcoxonOptions = {}): WilcoxonResult {
  const fn = 'wilcoxonSignedRank';
  checkFiniteArray(fn, 'differences', differences);
  if (opts == null || typeof opts !== 'object') throw new Error(`${fn}: opts must be an object, got ${String(opts)}`);
  const { zeroMethod = 'pratt', method = 'auto', correction = false } = opts;
  checkOneOf(fn, 'opts.zeroMethod', zeroMethod, ZERO_METHODS);
  checkOneOf(fn, 'opts.method', method, METHODS);
  if (typeof correction !== 'boolean') throw new Error(`${fn}: opts.correction must be a boolean, got ${String(correction)}`);
  const n = differences.length;
  if (n === 0) throw new Error(`${fn}: differences must hold at least one value, got an empty array`);

  const all = Array.from(differences);
  const zeros = all.filter((d) => d === 0).length;
  const d = zeroMethod === 'wilcox' ? all.filter((x) => x !== 0) : all;
  const abs = d.map(Math.abs);
  const nonzeroAbs = abs.filter((x) => x !== 0);
  const hasTies = tieGroupSizes(nonzeroAbs).length > 0;
  const resolved: 'exact' | 'approx' = method === 'auto' ? (n <= 50 && zeros === 0 && !hasTies ? 'exact' : 'approx') : method;

  const r = averageRanks(abs);
  let rPlus = 0;
  let rMinus = 0;
  let rZero = 0;
  const nonzeroRanks: number[] = [];
  for (let i = 0; i < d.length; i++) {
    if (d[i] > 0) rPlus += r[i];
    else if (d[i] < 0) rMinus += r[i];
    else rZero += r[i];
    if (d[i] !== 0) nonzeroRanks.push(r[i]);
  }
  if (zeroMethod === 'zsplit') {
    rPlus += rZero / 2;
    rMinus += rZero / 2;
  }
  const statistic = Math.min(rPlus, rMinus);

  if (zeros === n) {
    // No nonzero difference: every sign flip gives the same statistic, so nothing is evidence.
    return { statistic, pValue: 1, n, zeros, method: resolved, ...(resolved === 'approx' ? { z: 0 } : {}) };
  }
  if (resolved === 'exact') {
    const shift = zeroMethod === 'zsplit' ? rZero / 2 : 0; // zero ranks are not flipped
    return { statistic, pValue: exactPValue(nonzeroRanks, rPlus - shift), n, zeros, method: 'exact' };
  }

  const count = d.length;
  let mean = (count * (count + 1)) / 4;
  let var24 = count * (count + 1) * (2 * count + 1); // 24·σ²
  if (zeroMethod === 'pratt') {
    mean -= (zeros * (zeros + 1)) / 4;
    var24 -= zeros * (zeros + 1) * (2 * zeros + 1);
  }
  // Tie groups among the ranked values; under Pratt the zeros' own group does not count.
  for (const t of tieGroupSizes(zeroMethod === 'pratt' ? nonzeroAbs : abs)) var24 -= 0.5 * (t * t * t - t);
  const se = Math.sqrt(var24 / 24);
  const cc = correction ? 0.5 * Math.sign(statistic - mean) : 0;
  const z = (statistic - mean - cc) / se;
  const pValue = Math.min(1, 2 * normalSf(Math.abs(z)));
  return { statistic, pValue, n, zeros, method: 'approx', z };
}
