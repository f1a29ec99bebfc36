// The test of a 0/1 outcome against a per-sample chance level: the number of hits of n
// independent trials with success probabilities p_i follows the Poisson-binomial distribution.

/** P(X = k), k = 0..n, for X the number of successes of independent trials with probabilities p. */
export function poissonBinomialPmf(p: readonly number[]): Float64Array {
  p.forEach((x, i) => {
    if (typeof x !== 'number' || !(x >= 0 && x <= 1)) throw new Error(`poissonBinomialPmf: p[${i}] is ${String(x)}; expected a probability in [0, 1]`);
  });
  const pmf = new Float64Array(p.length + 1);
  pmf[0] = 1;
  // One trial more: P_new(k) = (1 − p)·P(k) + p·P(k − 1); right to left so that P(k − 1) is still the old one.
  p.forEach((q, i) => {
    for (let k = i + 1; k >= 0; k--) pmf[k] = (1 - q) * pmf[k] + (k > 0 ? q * pmf[k - 1] : 0);
  });
  return pmf;
}

/**
 * Two-sided exact test of "the hits are what chance gives": hits[i] ∈ {0, 1} against
 * probability p[i]; p-value = min(1, 2·min(P(X ≤ h), P(X ≥ h))) with h the observed hits
 * (the doubled smaller tail, as `mcnemarExact` here). With every p equal it is the exact
 * binomial test with that convention.
 */
export function poissonBinomialTest(hits: readonly number[], p: readonly number[]): { hits: number; expected: number; pValue: number } {
  if (hits.length !== p.length) throw new Error(`poissonBinomialTest: hits and p must have the same length, got ${hits.length} and ${p.length}`);
  let h = 0;
  hits.forEach((x, i) => {
    if (x !== 0 && x !== 1) throw new Error(`poissonBinomialTest: hits[${i}] is ${String(x)}; expected 0 or 1`);
    h += x;
  });
  const pmf = poissonBinomialPmf(p);
  let lower = 0;
  let upper = 0;
  pmf.forEach((v, k) => {
    if (k <= h) lower += v;
    if (k >= h) upper += v;
  });
  return { hits: h, expected: p.reduce((s, x) => s + x, 0), pValue: Math.min(1, 2 * Math.min(lower, upper)) };
}
