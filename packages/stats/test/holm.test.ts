import { describe, expect, it } from 'vitest';
import { holm } from '../src';

describe('holm', () => {
  it('known case: [0.01, 0.04, 0.03, 0.005] → [0.03, 0.06, 0.06, 0.02]', () => {
    // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max(0.06, 0.04) = 0.06 (monotone).
    const adj = holm([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((v, i) => expect(adj[i]).toBeCloseTo(v, 15));
  });

  it('caps at 1, keeps the input order, and handles ties and a single p', () => {
    // Sorted 0.2·3 = 0.6, 0.4·2 = 0.8, 0.9·1 = 0.9.
    expect(holm([0.9, 0.2, 0.4]).map((x) => +x.toFixed(12))).toEqual([0.9, 0.6, 0.8]);
    expect(holm([0.5, 0.5, 0.6])).toEqual([1, 1, 1]);
    expect(holm([0.02, 0.02])).toEqual([0.04, 0.04]);
    expect(holm([0.3])).toEqual([0.3]);
    expect(holm([])).toEqual([]);
  });

  it('is monotone in the sorted order, never below the raw p, and within [0, 1]', () => {
    const p = Array.from({ length: 40 }, (_, i) => ((i * 7919) % 101) / 100);
    const adj = holm(p);
    const order = p.map((_, i) => i).sort((a, b) => p[a] - p[b]);
    for (let j = 1; j < order.length; j++) expect(adj[order[j]]).toBeGreaterThanOrEqual(adj[order[j - 1]]);
    adj.forEach((a, i) => {
      expect(a).toBeGreaterThanOrEqual(p[i]);
      expect(a).toBeLessThanOrEqual(1);
    });
  });

  it('rejects values outside [0, 1]', () => {
    expect(() => holm([0.1, 1.2])).toThrow(/pValues\[1\] is 1.2; expected a number in \[0, 1\]/);
    expect(() => holm([NaN])).toThrow(/pValues\[0\] is NaN/);
  });
});
