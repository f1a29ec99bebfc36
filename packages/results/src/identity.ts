// Record identities: what makes two records "the same" for resume and for merging shards.

/** A result record: one sample × method × side × sweep point. */
export const recordIdentity = (r: { sampleId: string; method: string; side: string; point: string }): string =>
  JSON.stringify([r.sampleId, r.method, r.side, r.point]);

/** A dataset-metric record: one metric × method × side × sweep point. */
export const datasetIdentity = (r: { metric: string; method: string; side: string; point: string }): string =>
  JSON.stringify([r.metric, r.method, r.side, r.point]);

/** A metric's outputs under their record keys `<metric>.<output>`; a non-finite number becomes null (JSON has none). */
export function prefixKeys<T>(metric: string, values: Record<string, T>): Record<string, T | null> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${metric}.${k}`, typeof v === 'number' && !Number.isFinite(v) ? null : v]));
}

/** An output key `<metric>.<output>` (records prefix every value with its metric's name) split in two. */
export function splitKey(key: string): { metric: string; output: string } {
  const i = key.indexOf('.');
  return i < 0 ? { metric: key, output: '' } : { metric: key.slice(0, i), output: key.slice(i + 1) };
}
