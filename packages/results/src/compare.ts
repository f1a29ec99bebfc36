/**
 * Paired comparisons: is a method's difference to the best method real? Per side and metric
 * output, within a family of contenders (each method at its selected point, or the points of
 * one swept method): the best by mean, and for every other contender the mean paired
 * difference to it (bootstrap CI over the samples both have) and a two-sided p-value —
 * McNemar's exact test for declared 0/1 (0/100) outputs, Wilcoxon signed-rank (Pratt) for the
 * others — Holm-corrected across the family. Where records carry a chance level for the
 * output, each contender is also tested against it. Conventions: docs/report.md.
 */
import { holm, mcnemarFromPaired, pairedBootstrapCI, wilcoxonSignedRank } from '@ceb/stats';
import type { Side } from '@ceb/types';
import { poissonBinomialTest } from './chance';
import { splitKey } from './identity';
import type { MetricInfo, ResultRecord, SummaryRow } from './types';

/** The level every mark in the report uses. */
export const ALPHA = 0.05;

export interface Contender {
  method: string;
  point: string;
}

export type PairedTestName = 'wilcoxon' | 'mcnemar' | 'poisson-binomial';

export interface PairedTest {
  test: PairedTestName;
  /** Samples both sides of the comparison have a value for. */
  n: number;
  /** Mean of (this − reference) over those samples, and its paired bootstrap 95% CI. */
  diff: number;
  lo: number;
  hi: number;
  pValue: number;
  /** Holm-adjusted across the family. */
  pHolm: number;
  /** pHolm < alpha. */
  significant: boolean;
  /** McNemar: pairs where this one hit and the reference missed (b), and the reverse (c). */
  b?: number;
  c?: number;
}

export interface FamilyRow extends Contender {
  mean: number;
  n: number;
  /** The best mean (every contender at it when several tie; the first of them is the reference). */
  best: boolean;
  /** Absent for the best, and for a contender that shares no sample with it. */
  vsBest?: PairedTest;
  /** The best itself, or not significantly different from it. */
  tiedWithBest: boolean;
  /** Against the per-sample chance level (mean chance over the samples tested). */
  vsChance?: PairedTest & { chance: number };
}

export interface ComparisonFamily {
  /** 'methods': each method at its selected point; 'sweep': the points of `method`. */
  family: 'methods' | 'sweep';
  method?: string;
  side: Side;
  key: string;
  higherIsBetter: boolean;
  /** The value of a "yes" when the output is declared binary. */
  binary?: number;
  alpha: number;
  rows: FamilyRow[];
}

export interface CompareOptions {
  seed: number;
  resamples?: number;
  alpha?: number;
}

const groupId = (method: string, side: string, point: string): string => JSON.stringify([method, side, point]);

/** Per-sample values of the records, by (method, side, point) and output key. */
export class SampleValues {
  private readonly groups = new Map<string, ResultRecord[]>();

  constructor(records: readonly ResultRecord[]) {
    for (const r of records) {
      const k = groupId(r.method, r.side, r.point);
      const g = this.groups.get(k);
      if (g) g.push(r);
      else this.groups.set(k, [r]);
    }
  }

  /** sampleId → value, finite values only. */
  values(c: Contender, side: Side, key: string, from: 'values' | 'chance' = 'values'): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.groups.get(groupId(c.method, side, c.point)) ?? []) {
      const v = r[from]?.[key];
      if (typeof v === 'number' && Number.isFinite(v) && !out.has(r.sampleId)) out.set(r.sampleId, v);
    }
    return out;
  }
}

/** The samples both maps have, in sampleId order, as two aligned arrays. */
function aligned(a: Map<string, number>, b: Map<string, number>): { x: number[]; y: number[] } {
  const ids = [...a.keys()].filter((id) => b.has(id)).sort();
  return { x: ids.map((id) => a.get(id)!), y: ids.map((id) => b.get(id)!) };
}

type RawTest = Omit<PairedTest, 'pHolm' | 'significant'>;

/** x against the reference y, pair by pair: McNemar when both are 0/yes outcomes, else Wilcoxon–Pratt. */
function pairedTest(x: number[], y: number[], yes: number | undefined, opts: Required<CompareOptions>): RawTest {
  const ci = pairedBootstrapCI(x, y, { seed: opts.seed, resamples: opts.resamples });
  const base = { n: x.length, diff: ci.mean, lo: ci.lo, hi: ci.hi };
  const isOutcome = (v: number) => v === 0 || v === yes;
  if (yes !== undefined && x.every(isOutcome) && y.every(isOutcome)) {
    const m = mcnemarFromPaired(x, y);
    return { test: 'mcnemar', ...base, pValue: m.pValue, b: m.b, c: m.c };
  }
  const w = wilcoxonSignedRank(x.map((v, i) => v - y[i]), { zeroMethod: 'pratt' });
  return { test: 'wilcoxon', ...base, pValue: w.pValue };
}

/** x against per-sample chance levels c: the Poisson-binomial exact test for 0/yes outcomes, else Wilcoxon–Pratt on x − c. */
function chanceTest(x: number[], c: number[], yes: number | undefined, opts: Required<CompareOptions>): RawTest {
  const ci = pairedBootstrapCI(x, c, { seed: opts.seed, resamples: opts.resamples });
  const base = { n: x.length, diff: ci.mean, lo: ci.lo, hi: ci.hi };
  const probabilities = yes !== undefined ? c.map((v) => v / yes) : [];
  if (yes !== undefined && x.every((v) => v === 0 || v === yes) && probabilities.every((p) => p >= 0 && p <= 1)) {
    return { test: 'poisson-binomial', ...base, pValue: poissonBinomialTest(x.map((v) => (v === 0 ? 0 : 1)), probabilities).pValue };
  }
  return { test: 'wilcoxon', ...base, pValue: wilcoxonSignedRank(x.map((v, i) => v - c[i]), { zeroMethod: 'pratt' }).pValue };
}

/** Holm across the tests given (undefined = not tested), in place. */
function adjust(tests: (RawTest | undefined)[], alpha: number): (PairedTest | undefined)[] {
  const done = tests.filter((t): t is RawTest => t !== undefined);
  const adj = holm(done.map((t) => t.pValue));
  let j = 0;
  return tests.map((t) => {
    if (!t) return undefined;
    const pHolm = adj[j++];
    return { ...t, pHolm, significant: pHolm < alpha };
  });
}

/** Where the key's output is declared: direction and binary "yes" value. */
export function declared(metrics: readonly MetricInfo[] | undefined, key: string): { higherIsBetter: boolean | null; binary?: number } {
  const { metric, output } = splitKey(key);
  const m = metrics?.find((x) => x.name === metric);
  const hib = m?.outputs?.[output];
  const yes = m?.binary?.[output];
  return { higherIsBetter: typeof hib === 'boolean' ? hib : null, ...(typeof yes === 'number' ? { binary: yes } : {}) };
}

export interface FamilySpec {
  family: 'methods' | 'sweep';
  method?: string;
  side: Side;
  key: string;
  contenders: Contender[];
}

/**
 * One family's comparisons, or undefined when the output has no declared direction or fewer
 * than two contenders have a value. `rows` gives each contender's summary (mean, n).
 */
export function compareFamily(
  data: SampleValues,
  metrics: readonly MetricInfo[] | undefined,
  rows: (c: Contender) => SummaryRow | undefined,
  spec: FamilySpec,
  options: CompareOptions,
): ComparisonFamily | undefined {
  const opts = { resamples: 2000, alpha: ALPHA, ...options };
  const { higherIsBetter, binary } = declared(metrics, spec.key);
  if (higherIsBetter === null) return undefined;
  const present = spec.contenders
    .map((c) => ({ c, row: rows(c) }))
    .filter((x): x is { c: Contender; row: SummaryRow } => x.row !== undefined && x.row.n > 0 && Number.isFinite(x.row.mean));
  if (present.length < 2) return undefined;
  // The best by mean; a tie goes to the first in the family's order.
  let best = 0;
  present.forEach((x, i) => {
    if (higherIsBetter ? x.row.mean > present[best].row.mean : x.row.mean < present[best].row.mean) best = i;
  });
  const own = present.map((x) => data.values(x.c, spec.side, spec.key));
  const vsBest = adjust(
    present.map((_, i) => {
      if (i === best) return undefined;
      const { x: a, y: b } = aligned(own[i], own[best]);
      return a.length ? pairedTest(a, b, binary, opts) : undefined;
    }),
    opts.alpha,
  );
  const chanceMeans: number[] = [];
  const vsChance = adjust(
    present.map((x, i) => {
      const { x: a, y: c } = aligned(own[i], data.values(x.c, spec.side, spec.key, 'chance'));
      chanceMeans[i] = c.reduce((s, v) => s + v, 0) / c.length;
      return a.length ? chanceTest(a, c, binary, opts) : undefined;
    }),
    opts.alpha,
  );
  return {
    family: spec.family,
    ...(spec.method !== undefined ? { method: spec.method } : {}),
    side: spec.side,
    key: spec.key,
    higherIsBetter,
    ...(binary !== undefined ? { binary } : {}),
    alpha: opts.alpha,
    rows: present.map((x, i) => {
      const vb = vsBest[i];
      const vc = vsChance[i];
      return {
        ...x.c,
        mean: x.row.mean,
        n: x.row.n,
        best: x.row.mean === present[best].row.mean,
        ...(vb ? { vsBest: vb } : {}),
        tiedWithBest: x.row.mean === present[best].row.mean || (vb !== undefined && !vb.significant),
        ...(vc ? { vsChance: { ...vc, chance: chanceMeans[i] } } : {}),
      };
    }),
  };
}
