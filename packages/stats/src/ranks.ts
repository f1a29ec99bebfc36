// Ranking with ties sharing their average rank (scipy.stats.rankdata's 'average').

/** 1-based ranks, ascending, ties sharing the average of the ranks they span. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  for (let i = 0; i < n; i++) {
    if (typeof values[i] !== 'number' || Number.isNaN(values[i])) throw new Error(`averageRanks: values[${i}] is ${String(values[i])}; expected a number (NaN has no rank)`);
  }
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

/** Sizes of the groups of equal values (only groups of 2 or more), for tie corrections. */
export function tieGroupSizes(values: ArrayLike<number>): number[] {
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  const sizes: number[] = [];
  let i = 0;
  while (i < s.length) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[i]) j++;
    if (j > i) sizes.push(j - i + 1);
    i = j + 1;
  }
  return sizes;
}
