// Friedman's test over blocks (data sets / metrics) × contenders, with Iman–Davenport's F.
import { averageRanks, tieGroupSizes } from './ranks';
import { chiSquareSf, fSf } from './distributions';

export interface FriedmanResult {
  /** Friedman's χ²_F (tie-corrected unless tieCorrection: false). */
  chi2: number;
  /** k − 1. */
  df: number;
  /** P(χ²_{k−1} ≥ chi2). */
  pValue: number;
  /** Average rank of each contender over the blocks, rank 1 = best (largest value); ties share the average. */
  averageRanks: number[];
  /** Iman & Davenport's F_F = (n−1)χ²_F / (n(k−1) − χ²_F) on (k−1, (k−1)(n−1)) degrees of freedom. */
  imanDavenport: { F: number; df1: number; df2: number; pValue: number };
  /** Number of blocks (rows). */
  n: number;
  /** Number of contenders (columns). */
  k: number;
}

/**
 * Friedman's test (Demšar 2006, section 3.2.2). matrix[i][j] is contender j's score on block i,
 * larger = better. χ²_F = 12/(n k (k+1)) Σ_j R_j² − 3n(k+1) with R_j the rank sums, divided by
 * the tie correction 1 − Σ(t³ − t)/(n k (k² − 1)) as scipy.stats.friedmanchisquare does (it is 1
 * without ties, and then this is Demšar's formula; tieCorrection: false gives Demšar's formula always).
 * When every block is one big tie, there is nothing to test: χ²_F = 0, p = 1.
 */
export function friedman(matrix: ArrayLike<ArrayLike<number>>, { tieCorrection = true }: { tieCorrection?: boolean } = {}): FriedmanResult {
  if (matrix == null || typeof matrix.length !== 'number') throw new Error(`friedman: matrix must be an array of rows (blocks), got ${String(matrix)}`);
  if (typeof tieCorrection !== 'boolean') throw new Error(`friedman: tieCorrection must be a boolean, got ${String(tieCorrection)}`);
  const n = matrix.length;
  if (n < 2) throw new Error(`friedman: matrix must have at least 2 rows (blocks), got ${n}`);
  const k = matrix[0]?.length;
  if (!Number.isInteger(k) || k < 2) throw new Error(`friedman: matrix rows must have at least 2 columns (contenders), got ${String(k)}`);
  const rankSums = new Float64Array(k);
  let ties = 0; // Σ (t³ − t) over the tie groups of every block
  for (let i = 0; i < n; i++) {
    const row = matrix[i];
    if (row == null || row.length !== k) throw new Error(`friedman: matrix[${i}] must have ${k} columns like matrix[0], got ${row == null ? String(row) : row.length}`);
    const neg = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      if (typeof row[j] !== 'number' || !Number.isFinite(row[j])) throw new Error(`friedman: matrix[${i}][${j}] is ${String(row[j])}; expected a finite number`);
      neg[j] = -row[j]; // rank the negated scores so that rank 1 is the largest score
    }
    const r = averageRanks(neg);
    for (let j = 0; j < k; j++) rankSums[j] += r[j];
    for (const t of tieGroupSizes(neg)) ties += t * t * t - t;
  }
  let ss = 0;
  for (let j = 0; j < k; j++) ss += rankSums[j] * rankSums[j];
  const raw = (12 / (n * k * (k + 1))) * ss - 3 * n * (k + 1);
  const c = tieCorrection ? 1 - ties / (n * k * (k * k - 1)) : 1;
  // c = 0 only when every block is fully tied; rounding can leave raw a hair below 0.
  const chi2 = c <= 0 ? 0 : Math.max(0, raw / c);
  const df = k - 1;
  const pValue = chiSquareSf(chi2, df);
  const df1 = k - 1;
  const df2 = (k - 1) * (n - 1);
  const denom = n * (k - 1) - chi2;
  // χ²_F reaches n(k−1) when all blocks rank the contenders alike: F is then infinite, p = 0.
  const F = denom <= 1e-12 * n * (k - 1) ? Infinity : ((n - 1) * chi2) / denom;
  return {
    chi2,
    df,
    pValue,
    averageRanks: Array.from(rankSums, (s) => s / n),
    imanDavenport: { F, df1, df2, pValue: fSf(F, df1, df2) },
    n,
    k,
  };
}
