// Order statistics with numpy's conventions: linear-interpolated quantiles and the median.
import { checkFiniteArray } from './validate';

/** Linear-interpolated quantile of sorted values (numpy's default, "linear"); NaN for no values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) throw new Error(`quantileSorted: q must be in [0, 1], got ${String(q)}`);
  const n = sorted.length;
  // `!(a <= b)` also catches NaN, which would otherwise give a silent NaN quantile.
  for (let i = 1; i < n; i++) {
    if (!(sorted[i - 1] <= sorted[i])) throw new Error(`quantileSorted: sorted must be in ascending order without NaN; index ${i - 1}..${i} is ${sorted[i - 1]}, ${sorted[i]}`);
  }
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < n ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

/** numpy.median: the middle value, or the mean of the two middle values for an even count. */
export function median(values: ArrayLike<number>): number {
  checkFiniteArray('median', 'values', values);
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  const n = s.length;
  if (n === 0) throw new Error('median of an empty list');
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
