// Statistics for reports: a seeded percentile bootstrap of the mean, and Spearman's rho.
import { Rng } from '@ceb/datasets';

export interface MeanCI {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** Linear-interpolated quantile of sorted values (numpy's default, "linear"). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < n ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

/**
 * Mean with a percentile-bootstrap confidence interval: `resamples` means of n values
 * drawn with replacement (seeded), and their (1−level)/2 and (1+level)/2 quantiles.
 * NaN values are an error (the caller decides what a missing value means).
 */
export function meanCI(values: ArrayLike<number>, opts: { seed: number; resamples?: number; level?: number }): MeanCI {
  const { seed, resamples = 2000, level = 0.95 } = opts;
  const n = values.length;
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i])) throw new Error(`meanCI: value ${i} is ${values[i]}; expected finite numbers`);
  if (!(level > 0 && level < 1)) throw new Error(`meanCI: level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`meanCI: resamples must be a positive integer, got ${resamples}`);
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  const rng = new Rng(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[rng.int(n)];
    means[r] = s / n;
  }
  means.sort();
  return { mean, lo: quantileSorted(means, (1 - level) / 2), hi: quantileSorted(means, (1 + level) / 2), n };
}

/** 1-based ranks, ties sharing the average of the ranks they span. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

/** Pearson correlation; NaN when either side is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new Error(`pearson: lengths differ (${a.length} vs ${b.length})`);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** Spearman's rho: Pearson correlation of average ranks (ties handled as scipy does). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`spearman: lengths differ (${a.length} vs ${b.length})`);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) throw new Error(`spearman: NaN at index ${i}`);
  }
  return pearson(averageRanks(a), averageRanks(b));
}

/** numpy.median: the middle value, or the mean of the two middle values for an even count. */
export function median(values: ArrayLike<number>): number {
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  const n = s.length;
  if (n === 0) throw new Error('median of an empty list');
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
