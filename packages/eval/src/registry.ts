// Every metric by name: the bench validates configs against these (params, sides,
// higherIsBetter per output, substrate).
import { confidenceCorrected, confidenceM2ib } from './confidence';
import { insertionDeletion } from './insertion-deletion';
import { localisation } from './localisation';
import { roarMetric } from './roar';
import { sanityMetric } from './sanity';
import type { Metric, PairMetric } from './types';

export const METRICS: Record<string, Metric> = {
  'confidence-corrected': confidenceCorrected,
  'confidence-m2ib': confidenceM2ib,
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
