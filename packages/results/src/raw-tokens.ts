// What the gallery keeps of a text explanation beside the [0, 1] scores the metrics read: the
// method's raw per-token values, so that the report can scale them for display over the
// caption's tokens and show them on hover. Which extra holds them: docs/results-format.md.

/** A text map's raw values, one per caption token (BOS/EOS left out). */
export interface RawTokenValues {
  values: number[];
  /** What they are, in words (e.g. "capacity"). */
  what: string;
  unit?: string;
}

/** The attribution extras that hold raw per-token values, in order of preference. */
const RAW_EXTRAS: { key: string; what: string; unit?: string; specials: boolean }[] = [
  // M2IB: KL per token summed over the hidden dimension, BOS … EOS.
  { key: 'capacity', what: 'capacity', unit: 'nats', specials: true },
  // KernelSHAP: one Shapley value per caption token, in units of the target (cosine).
  { key: 'phi', what: 'Shapley value', unit: 'cosine', specials: false },
  // Grad-CAM (ReLU(Σ gradient × activation)) and others: the method's score per token, BOS … EOS.
  { key: 'tokenScores', what: 'token score', specials: true },
];

const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/**
 * The raw values of a text map of `captionTokens` scores, from the attribution's extras:
 * the first declared extra whose length is the caption's (or the caption's plus BOS and EOS,
 * which are then left out). Undefined when none fits: the scores are then the method's own
 * output, already scaled over the caption's tokens.
 */
export function rawTokenValues(extra: Record<string, unknown> | undefined, captionTokens: number): RawTokenValues | undefined {
  for (const r of RAW_EXTRAS) {
    const v = extra?.[r.key];
    if (!isNumbers(v)) continue;
    const values = r.specials && v.length === captionTokens + 2 ? v.slice(1, -1) : !r.specials && v.length === captionTokens ? v : undefined;
    if (values) return { values, what: r.what, ...(r.unit ? { unit: r.unit } : {}) };
  }
  return undefined;
}
