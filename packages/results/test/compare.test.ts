import { describe, expect, it } from 'vitest';
import { nemenyiCD, pairedBootstrapCI } from '@ceb/stats';
import { compareFamily, poissonBinomialPmf, poissonBinomialTest, rankMethods, SampleValues, selectPoints, summarize, type Contender, type MetricInfo, type ResultRecord } from '../src/index';

const IDS = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'];
const METRICS: MetricInfo[] = [{ name: 'm', outputs: { score: true, hit: true, err: false, plain: true }, binary: { hit: 1 } }];

/** One record per sample of a method, values by key (null = no value for that sample). */
function recs(method: string, values: Record<string, (number | null)[]>, chance?: Record<string, number[]>, point = 'default'): ResultRecord[] {
  return IDS.map((sampleId, i) => ({
    sampleId,
    method,
    side: 'image',
    point,
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v[i]])),
    ...(chance ? { chance: Object.fromEntries(Object.entries(chance).map(([k, v]) => [k, v[i]])) } : {}),
  }));
}

/** R+ of every one of the 2^n sign patterns of ranks 1..n, counted by brute force. */
function exactTwoSided(n: number, rPlus: number): number {
  let le = 0;
  let ge = 0;
  for (let mask = 0; mask < 1 << n; mask++) {
    let s = 0;
    for (let r = 1; r <= n; r++) if (mask & (1 << (r - 1))) s += r;
    if (s <= rPlus) le++;
    if (s >= rPlus) ge++;
  }
  return Math.min(1, (2 * Math.min(le, ge)) / (1 << n));
}

const A = [5, 6, 7, 8, 9, 10, 11, 12];
const B = A.map((v, i) => v - (i + 1)); // every difference to A negative: −1 … −8
const DC = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8];
const C = A.map((v, i) => v + DC[i]);
const records = [
  ...recs('a', { 'm.score': A, 'm.hit': [1, 1, 1, 1, 1, 1, 1, 1], 'm.err': A }, { 'm.hit': Array(8).fill(0.5) }),
  ...recs('b', { 'm.score': B, 'm.hit': [0, 0, 0, 0, 0, 0, 1, 1], 'm.err': B }, { 'm.hit': Array(8).fill(0.5) }),
  ...recs('c', { 'm.score': C, 'm.hit': [1, 1, 1, 1, 1, 1, 1, 0], 'm.err': [null, ...C.slice(1)] }, { 'm.hit': Array(8).fill(0.5) }),
];
const summary = summarize(records, METRICS, { seed: 3, compare: false });
const rowOf = (key: string) => (c: Contender) => summary.rows.find((r) => r.method === c.method && r.point === c.point && r.key === key);
const contenders = ['a', 'b', 'c'].map((method) => ({ method, point: 'default' }));
const family = (key: string) => compareFamily(new SampleValues(records), METRICS, rowOf(key), { family: 'methods', side: 'image', key, contenders }, { seed: 3 })!;

describe('the Poisson-binomial test against chance', () => {
  it('hand-worked distribution: p = (0.5, 0.25) → P(0, 1, 2) = (0.375, 0.5, 0.125)', () => {
    // P(0) = 0.5·0.75, P(2) = 0.5·0.25, P(1) = the rest.
    expect(Array.from(poissonBinomialPmf([0.5, 0.25]))).toEqual([0.375, 0.5, 0.125]);
    // Two hits: upper tail 0.125, doubled.
    expect(poissonBinomialTest([1, 1], [0.5, 0.25]).pValue).toBe(0.25);
  });
  it('equal p is the binomial: 8 hits of 8 at ½ → 2/256; 2 of 8 → 2·(1 + 8 + 28)/256', () => {
    expect(poissonBinomialTest(Array(8).fill(1), Array(8).fill(0.5)).pValue).toBeCloseTo(2 / 256, 15);
    expect(poissonBinomialTest([0, 0, 0, 0, 0, 0, 1, 1], Array(8).fill(0.5)).pValue).toBeCloseTo(74 / 256, 15);
  });
  it('rejects what is not a hit or a probability', () => {
    expect(() => poissonBinomialTest([2], [0.5])).toThrow(/hits\[0\] is 2; expected 0 or 1/);
    expect(() => poissonBinomialPmf([1.5])).toThrow(/p\[0\] is 1.5; expected a probability/);
  });
});

describe('paired comparisons with the best method', () => {
  it('continuous output: Wilcoxon–Pratt p-values (exact, worked out by enumeration), Holm across the family', () => {
    const f = family('m.score');
    const [a, b, c] = f.rows;
    expect(a).toMatchObject({ method: 'a', best: true, tiedWithBest: true });
    expect(a.vsBest).toBeUndefined();
    // b − a = −1 … −8: R+ = 0, the smallest of 2^8 sign patterns at each end: p = 2/256.
    expect(b.vsBest!.test).toBe('wilcoxon');
    expect(b.vsBest!.pValue).toBeCloseTo(2 / 256, 15);
    // c − a = DC: ranks 1..8 by |d|, positives 0.1, 0.3, 0.5, 0.7 → R+ = 1 + 3 + 5 + 7 = 16.
    const pc = exactTwoSided(8, 16);
    expect(c.vsBest!.pValue).toBeCloseTo(pc, 15);
    // Holm over two tests: the smaller p × 2, the larger × 1 but never below the first.
    expect(b.vsBest!.pHolm).toBeCloseTo(4 / 256, 15);
    expect(c.vsBest!.pHolm).toBeCloseTo(Math.max(pc, 4 / 256), 15);
    expect(b).toMatchObject({ tiedWithBest: false, vsBest: { significant: true } });
    expect(c).toMatchObject({ tiedWithBest: true, vsBest: { significant: false } });
    // The difference is the paired bootstrap of b − a, same seed.
    const ci = pairedBootstrapCI(B, A, { seed: 3 });
    expect(b.vsBest).toMatchObject({ diff: ci.mean, lo: ci.lo, hi: ci.hi, n: 8 });
    expect(b.vsBest!.diff).toBeCloseTo(-4.5, 12);
  });

  it('binary output: exact McNemar on the discordant pairs; Holm turns p = 1/32 into 1/16 (not significant)', () => {
    const f = family('m.hit');
    const [a, b, c] = f.rows;
    expect(f.binary).toBe(1);
    expect(a.best).toBe(true);
    // b hit where a missed: 0; a hit where b missed: 6 → 2·P(Bin(6, ½) ≤ 0) = 2/64.
    expect(b.vsBest).toMatchObject({ test: 'mcnemar', b: 0, c: 6 });
    expect(b.vsBest!.pValue).toBeCloseTo(1 / 32, 15);
    // c: one discordant pair → p = 1; Holm: 1/32 × 2 = 1/16 > 0.05.
    expect(c.vsBest).toMatchObject({ test: 'mcnemar', b: 0, c: 1, pValue: 1 });
    expect(b.vsBest!.pHolm).toBeCloseTo(1 / 16, 15);
    expect(b.tiedWithBest).toBe(true);
  });

  it('tests each method against its chance level, Holm across the methods', () => {
    const [a, b, c] = family('m.hit').rows;
    // a: 8 of 8 at ½ → 2/256; b: 2 of 8 → 74/256; c: 7 of 8 → 2·(1 + 8)/256 = 18/256.
    expect(a.vsChance).toMatchObject({ test: 'poisson-binomial', chance: 0.5, n: 8 });
    expect(a.vsChance!.pValue).toBeCloseTo(2 / 256, 15);
    expect(b.vsChance!.pValue).toBeCloseTo(74 / 256, 15);
    expect(c.vsChance!.pValue).toBeCloseTo(18 / 256, 15);
    // Holm: 2/256·3, 18/256·2, 74/256·1.
    expect(a.vsChance!.pHolm).toBeCloseTo(6 / 256, 15);
    expect(c.vsChance!.pHolm).toBeCloseTo(36 / 256, 15);
    expect(b.vsChance!.pHolm).toBeCloseTo(74 / 256, 15);
    expect(a.vsChance!.significant).toBe(true);
    // Without chance values, no such test.
    expect(family('m.score').rows[0].vsChance).toBeUndefined();
  });

  it('lower is better picks the smallest mean; pairs only over the samples both have', () => {
    const f = family('m.err');
    const best = f.rows.find((r) => r.best)!;
    expect(best.method).toBe('b'); // B = 4 … 4: mean 4
    const c = f.rows.find((r) => r.method === 'c')!;
    expect(c.n).toBe(7);
    expect(c.vsBest!.n).toBe(7); // s1 has no value for c
    // c − b over s2..s8: every difference positive (c ≈ a > b) → exact p = 2/2^7.
    expect(c.vsBest!.pValue).toBeCloseTo(2 / 128, 15);
  });

  it('needs a declared direction and two contenders with values', () => {
    expect(compareFamily(new SampleValues(records), METRICS, rowOf('m.nope'), { family: 'methods', side: 'image', key: 'm.nope', contenders }, { seed: 1 })).toBeUndefined();
    expect(compareFamily(new SampleValues(records), METRICS, rowOf('m.score'), { family: 'methods', side: 'image', key: 'm.score', contenders: contenders.slice(0, 1) }, { seed: 1 })).toBeUndefined();
  });
});

describe('selected points and average ranks', () => {
  // Three headline outputs (score ↑, hit ↑, err ↓); method x has two points, p2 better on all three.
  const metrics: MetricInfo[] = [{ name: 'm', outputs: { score: true, hit: true, err: false, extra: true }, headline: ['score', 'hit', 'err'] }];
  const row = (method: string, point: string, key: string, mean: number) => ({ method, side: 'image' as const, point, key: `m.${key}`, metric: 'm', output: key, mean, lo: mean, hi: mean, n: 5, higherIsBetter: null });
  const rows = [
    ...[['score', 1], ['hit', 0.2], ['err', 9], ['extra', 100]].map(([k, v]) => row('x', 'p1', k as string, v as number)),
    ...[['score', 3], ['hit', 0.9], ['err', 1], ['extra', 0]].map(([k, v]) => row('x', 'p2', k as string, v as number)),
    ...[['score', 2], ['hit', 0.5], ['err', 2], ['extra', 0]].map(([k, v]) => row('y', 'default', k as string, v as number)),
    ...[['score', 0], ['hit', 0.7], ['err', 5], ['extra', 0]].map(([k, v]) => row('z', 'default', k as string, v as number)),
  ];
  const points = new Map([['x', ['p1', 'p2']], ['y', ['default']], ['z', ['default']]]);

  it('a swept method stands for its best point by average rank over the headline outputs', () => {
    const sel = selectPoints(rows, metrics, 'image', points);
    expect(sel.map((s) => [s.method, s.point, s.averageRank ?? null])).toEqual([['x', 'p2', 1], ['y', 'default', null], ['z', 'default', null]]);
    expect(sel[0]).toMatchObject({ points: 2, blocks: 3 });
  });

  it('ranks per block by direction (err: lower first), Friedman and the Nemenyi CD over the blocks', () => {
    const r = rankMethods(rows, metrics, 'image', [{ method: 'x', point: 'p2' }, { method: 'y', point: 'default' }, { method: 'z', point: 'default' }]);
    // score: x 3 > y 2 > z 0 → 1, 2, 3; hit: x .9 > z .7 > y .5 → 1, 3, 2; err (↓): x 1 < y 2 < z 5 → 1, 2, 3.
    expect(r.contenders.map((c) => c.averageRank)).toEqual([1, 7 / 3, 8 / 3]);
    expect(r.blocks).toEqual([{ key: 'm.score', higherIsBetter: true }, { key: 'm.hit', higherIsBetter: true }, { key: 'm.err', higherIsBetter: false }]);
    // Rank sums 3, 7, 8: χ² = 12/(3·3·4)·(9 + 49 + 64) − 3·3·4 = 122/3 − 36 = 14/3.
    expect(r.friedman!.chi2).toBeCloseTo(14 / 3, 12);
    expect(r.friedman!.pValue).toBeCloseTo(Math.exp(-7 / 3), 12); // χ²₂ tail = e^{−x/2}
    expect(r.cd).toBeCloseTo(nemenyiCD(3, 3), 12);
  });

  it('leaves out an output a contender lacks, and says why there is no test', () => {
    const partial = rows.filter((x) => !(x.method === 'z' && x.key === 'm.err'));
    const r = rankMethods(partial, metrics, 'image', [{ method: 'x', point: 'p2' }, { method: 'z', point: 'default' }]);
    expect(r.dropped).toEqual([{ key: 'm.err', reason: 'no value for z' }]);
    expect(r.blocks).toHaveLength(2);
    const one = rankMethods(rows, metrics, 'image', [{ method: 'y', point: 'default' }]);
    expect(one.friedman).toBeUndefined();
    expect(one.note).toMatch(/needs at least 2 methods/);
  });
});

describe('summarize carries the comparisons', () => {
  it("selected points, a methods family per output and the ranks; with run.json's methods, record order does not matter", () => {
    const methods = ['a', 'b', 'c'].map((name) => ({ name, sides: ['image' as const], points: [{ key: 'default', options: {} }] }));
    const s = summarize(records, METRICS, { seed: 3, methods });
    expect(s.selected!.map((x) => x.method)).toEqual(['a', 'b', 'c']);
    expect(s.comparisons!.filter((f) => f.family === 'methods').map((f) => f.key).sort()).toEqual(['m.err', 'm.hit', 'm.score']);
    expect(s.ranks!.map((r) => r.side)).toEqual(['image']);
    const r = summarize([...records].reverse(), METRICS, { seed: 3, methods });
    const byKey = (fs: typeof s.comparisons) => [...fs!].sort((x, y) => (x.key < y.key ? -1 : 1));
    expect(byKey(r.comparisons)).toEqual(byKey(s.comparisons));
    expect([r.selected, r.ranks]).toEqual([s.selected, s.ranks]);
  });
});
