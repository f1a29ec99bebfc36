/**
 * Average ranks across metrics (Demšar 2006): per side, the blocks are the headline metric
 * outputs with a declared direction, the contenders the methods, each at its selected sweep
 * point; the Friedman test (and Iman–Davenport's F) says whether the ranks differ at all,
 * Nemenyi's critical difference which pairs do. A method's selected point is the one with the
 * best average rank among its own points over the same blocks.
 */
import { averageRanks, friedman, nemenyiCD } from '@ceb/stats';
import type { Side } from '@ceb/types';
import { ALPHA, declared, type Contender } from './compare';
import type { MetricInfo, SummaryRow } from './types';

/** The point of a method that stands for it on one side (in tables, comparisons and ranks). */
export interface SelectedPoint extends Contender {
  side: Side;
  /** How many points the method has on this side. */
  points: number;
  /** Its average rank among the method's points (1 = best), over `blocks` outputs; absent with one point. */
  averageRank?: number;
  blocks?: number;
}

export interface RankedContender extends Contender {
  averageRank: number;
}

export interface SideRanking {
  side: Side;
  /** The blocks ranked over, each oriented by its direction. */
  blocks: { key: string; higherIsBetter: boolean }[];
  /** Headline outputs left out, and why. */
  dropped: { key: string; reason: string }[];
  contenders: RankedContender[];
  alpha: number;
  friedman?: { chi2: number; df: number; pValue: number; imanDavenport: { F: number; df1: number; df2: number; pValue: number } };
  /** Nemenyi's critical difference of average ranks. */
  cd?: number;
  /** Why there is no test (fewer than 2 contenders or blocks). */
  note?: string;
}

/** The outputs compact tables show: each metric's headline outputs (all when it declares none), in run.json order. */
export function headlineKeys(metrics: readonly MetricInfo[] | undefined, present: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const m of metrics ?? []) {
    for (const o of m.headline ?? Object.keys(m.outputs ?? {})) if (present.has(`${m.name}.${o}`)) out.push(`${m.name}.${o}`);
  }
  return out;
}

/** Average rank per column of a blocks × contenders matrix of values where larger is better (rank 1 = best). */
function meanRanks(matrix: number[][]): number[] {
  const sums = new Array<number>(matrix[0]?.length ?? 0).fill(0);
  for (const row of matrix) averageRanks(row.map((v) => -v)).forEach((r, j) => (sums[j] += r));
  return sums.map((s) => s / matrix.length);
}

/** Blocks (oriented rows) over the contenders: outputs every contender has a mean for. */
function blocksOver(
  contenders: Contender[],
  keys: string[],
  metrics: readonly MetricInfo[] | undefined,
  mean: (c: Contender, key: string) => number | undefined,
): { blocks: SideRanking['blocks']; dropped: SideRanking['dropped']; matrix: number[][] } {
  const blocks: SideRanking['blocks'] = [];
  const dropped: SideRanking['dropped'] = [];
  const matrix: number[][] = [];
  for (const key of keys) {
    const { higherIsBetter } = declared(metrics, key);
    if (higherIsBetter === null) {
      dropped.push({ key, reason: 'no declared direction' });
      continue;
    }
    const row = contenders.map((c) => mean(c, key));
    const missing = contenders.filter((_, j) => row[j] === undefined).map((c) => c.method);
    if (missing.length) {
      dropped.push({ key, reason: `no value for ${[...new Set(missing)].join(', ')}` });
      continue;
    }
    blocks.push({ key, higherIsBetter });
    matrix.push(row.map((v) => (higherIsBetter ? v! : -v!)));
  }
  return { blocks, dropped, matrix };
}

/** The lookup of a summary row's mean by (method, side, point, key); undefined when it has no value. */
export function meanLookup(rows: readonly SummaryRow[], side: Side): (c: Contender, key: string) => number | undefined {
  const m = new Map<string, number>();
  for (const r of rows) if (r.side === side && r.n > 0 && Number.isFinite(r.mean)) m.set(JSON.stringify([r.method, r.point, r.key]), r.mean);
  return (c, key) => m.get(JSON.stringify([c.method, c.point, key]));
}

/**
 * Each method's point on one side: its only point, or the one with the best average rank
 * among its points over the headline outputs (ties: the first in `points` order).
 */
export function selectPoints(rows: readonly SummaryRow[], metrics: readonly MetricInfo[] | undefined, side: Side, points: Map<string, string[]>): SelectedPoint[] {
  const keys = headlineKeys(metrics, new Set(rows.filter((r) => r.side === side).map((r) => r.key)));
  const mean = meanLookup(rows, side);
  const out: SelectedPoint[] = [];
  for (const [method, pts] of points) {
    if (pts.length === 0) continue;
    if (pts.length === 1) {
      out.push({ method, point: pts[0], side, points: 1 });
      continue;
    }
    const cs = pts.map((point) => ({ method, point }));
    const { matrix } = blocksOver(cs, keys, metrics, mean);
    if (matrix.length === 0) {
      out.push({ method, point: pts[0], side, points: pts.length });
      continue;
    }
    const ranks = meanRanks(matrix);
    const best = ranks.reduce((b, r, j) => (r < ranks[b] ? j : b), 0);
    out.push({ method, point: pts[best], side, points: pts.length, averageRank: ranks[best], blocks: matrix.length });
  }
  return out;
}

/** Friedman / Iman–Davenport and Nemenyi's CD over the selected points of one side. */
export function rankMethods(rows: readonly SummaryRow[], metrics: readonly MetricInfo[] | undefined, side: Side, selected: Contender[], alpha = ALPHA): SideRanking {
  const keys = headlineKeys(metrics, new Set(rows.filter((r) => r.side === side).map((r) => r.key)));
  const { blocks, dropped, matrix } = blocksOver(selected, keys, metrics, meanLookup(rows, side));
  const base = { side, blocks, dropped, alpha };
  if (selected.length < 2 || blocks.length < 2) {
    const contenders = blocks.length ? meanRanks(matrix).map((averageRank, j) => ({ ...selected[j], averageRank })) : [];
    return { ...base, contenders, note: `needs at least 2 methods and 2 metric outputs with a value for every method; here ${selected.length} and ${blocks.length}` };
  }
  const f = friedman(matrix);
  return {
    ...base,
    contenders: f.averageRanks.map((averageRank, j) => ({ ...selected[j], averageRank })),
    friedman: { chi2: f.chi2, df: f.df, pValue: f.pValue, imanDavenport: f.imanDavenport },
    cd: nemenyiCD(selected.length, blocks.length, alpha),
  };
}
