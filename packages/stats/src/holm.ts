// Holm–Bonferroni step-down adjustment of p-values.

/**
 * Holm (1979) adjusted p-values, in the input order: with the p-values sorted ascending,
 * adj_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j)). Reject H_i at level α iff adj_i ≤ α.
 */
export function holm(pValues: ArrayLike<number>): number[] {
  if (pValues == null || typeof pValues.length !== 'number') throw new Error(`holm: pValues must be an array of numbers in [0, 1], got ${String(pValues)}`);
  const m = pValues.length;
  for (let i = 0; i < m; i++) {
    const p = pValues[i];
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`holm: pValues[${i}] is ${String(p)}; expected a number in [0, 1]`);
  }
  // Stable sort: equal p-values keep their input order (their adjusted values come out equal anyway).
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => pValues[a] - pValues[b]);
  const out = new Array<number>(m);
  let running = 0; // the running max is what makes the adjusted values monotone
  for (let j = 0; j < m; j++) {
    running = Math.max(running, Math.min(1, (m - j) * pValues[order[j]]));
    out[order[j]] = running;
  }
  return out;
}
