// Seeded percentile bootstraps of a mean and of a paired mean difference.
import { Rng } from '@ceb/random';
import { quantileSorted } from './descriptive';
import { checkFinite, checkFiniteArray } from './validate';

export interface MeanCI {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

export interface BootstrapOptions {
  seed: number;
  /** Number of bootstrap resamples (default 2000). */
  resamples?: number;
  /** Confidence level in (0, 1) (default 0.95). */
  level?: number;
}

function checkOptions(fn: string, opts: BootstrapOptions): Required<BootstrapOptions> {
  if (opts == null || typeof opts !== 'object') throw new Error(`${fn}: opts must be an object with a seed, got ${String(opts)}`);
  const { seed, resamples = 2000, level = 0.95 } = opts;
  checkFinite(fn, 'opts.seed', seed);
  if (!(level > 0 && level < 1)) throw new Error(`${fn}: level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`${fn}: resamples must be a positive integer, got ${resamples}`);
  return { seed, resamples, level };
}

// Shared by meanCI and pairedBootstrapCI: one Rng draw per resampled value, in index order,
// so the numbers stay identical to @ceb/eval's original meanCI.
function bootstrapMean(values: ArrayLike<number>, { seed, resamples, level }: Required<BootstrapOptions>): MeanCI {
  const n = values.length;
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

/**
 * Mean with a percentile-bootstrap confidence interval: `resamples` means of n values
 * drawn with replacement (seeded), and their (1−level)/2 and (1+level)/2 quantiles.
 * NaN values are an error (the caller decides what a missing value means); no values give NaNs.
 */
export function meanCI(values: ArrayLike<number>, opts: BootstrapOptions): MeanCI {
  const n = values.length;
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i])) throw new Error(`meanCI: value ${i} is ${values[i]}; expected finite numbers`);
  return bootstrapMean(values, checkOptions('meanCI', opts));
}

/**
 * Mean of a − b over pairs, with a percentile-bootstrap CI that resamples pairs: one index
 * drawn serves both a and b, so the pairing (and the correlation it brings) is kept. Resampling
 * pairs is the same as resampling the differences, so this is meanCI of a − b, same Rng order.
 * Positive = a larger. Two empty arrays give NaNs, as meanCI does.
 */
export function pairedBootstrapCI(a: ArrayLike<number>, b: ArrayLike<number>, opts: BootstrapOptions): MeanCI {
  checkFiniteArray('pairedBootstrapCI', 'a', a);
  checkFiniteArray('pairedBootstrapCI', 'b', b);
  if (a.length !== b.length) throw new Error(`pairedBootstrapCI: a and b must have the same length (pairs), got ${a.length} and ${b.length}`);
  const d = new Float64Array(a.length);
  for (let i = 0; i < d.length; i++) d[i] = a[i] - b[i];
  return bootstrapMean(d, checkOptions('pairedBootstrapCI', opts));
}
