// Every metric by name: the bench validates configs against these (params, sides,
// higherIsBetter per output, substrate).
import { confidenceCorrected } from './confidence-corrected';
import { confidenceM2ib } from './confidence-m2ib';
import { confidenceNib } from './confidence-nib';
import { insertionDeletion } from './insertion-deletion';
import { localisation } from './localisation';
import { roarMetric } from './roar';
import { sanityMetric } from './sanity';
import type { Metric, MetricResult, PairMetric, PairMetricContext } from './types';

export const METRICS: Record<string, Metric> = {
  'confidence-corrected': confidenceCorrected,
  'confidence-m2ib': confidenceM2ib,
  'confidence-nib': confidenceNib,
  'insertion-deletion': insertionDeletion as unknown as PairMetric,
  localisation: localisation as unknown as PairMetric,
  roar: roarMetric,
  sanity: sanityMetric,
};

export function getMetric(name: string): Metric {
  const m = METRICS[name];
  if (!m) throw new Error(`unknown metric "${name}" (known: ${Object.keys(METRICS).join(', ')})`);
  return m;
}

/** Runs one pair metric over a batch of pairs (each context carries its own pair cache). */
export async function evaluatePairs(metric: PairMetric, ctxs: readonly PairMetricContext[], params?: Record<string, number | string | boolean>): Promise<MetricResult[]> {
  const out: MetricResult[] = [];
  for (const ctx of ctxs) out.push(await metric.evaluate(ctx, params));
  return out;
}
