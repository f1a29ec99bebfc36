// The text readout of the NIB repository's methods (NIB, FastIG, MFABA, SaliencyMap): min-max
// over EVERY token, BOS and EOS included, and BOS/EOS dropped afterwards (its evaluation cuts
// `[1:-1]`, LMBTough/NIB@d4d1138 scripts/eval.py:102-103). This differs from the harness's usual
// text readout (drop BOS/EOS, then min-max over the caption tokens) whenever BOS or EOS holds
// the minimum or the maximum.
import { dropSpecialTokens, minMax } from '@ceb/core';
import type { MapResult } from './common';

/** Scores of every token (BOS … EOS) → min-max over all of them → the caption tokens. */
export function textMapOverAllTokens(tokenScores: ArrayLike<number>): MapResult {
  const { map, flat } = minMax(tokenScores, 'text map');
  const scores = dropSpecialTokens(map);
  return { scores, shape: [scores.length], flat };
}

/** Σ over the last axis of an [L·D] array, NaN entries skipped (torch.nansum, as NIB's readouts). */
export function nansumRows(values: ArrayLike<number>, L: number, D: number): Float64Array {
  return Float64Array.from({ length: L }, (_, t) => {
    let s = 0;
    for (let i = t * D; i < (t + 1) * D; i++) if (!Number.isNaN(values[i])) s += values[i];
    return s;
  });
}
