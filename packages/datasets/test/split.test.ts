import { describe, expect, it } from 'vitest';
import { Rng } from '@ceb/random';
import { split } from '../src/split';
import type { Sample } from '../src/types';

/** n patients with 1–5 samples each (sizes from a seeded generator), one image per sample. */
function patients(n: number, seed = 99): Sample[] {
  const r = new Rng(seed);
  const out: Sample[] = [];
  for (let p = 0; p < n; p++) {
    const k = r.range(1, 5);
    for (let i = 0; i < k; i++) {
      out.push({
        id: `p${p}-${i}`,
        imagePath: `/img/p${p}/${i}.jpg`,
        caption: 'x',
        patientId: `p${String(10_000_000 + p)}`,
        source: { file: 'f.csv', row: out.length + 2 },
      });
    }
  }
  return out;
}

const ids = (s: Sample[]) => s.map((x) => x.id);

describe('split', () => {
  it('by patient: deterministic, independent of input order, no patient on both sides', () => {
    const data = patients(60);
    const a = split(data, { seed: 1, by: 'patient' });
    const b = split(data, { seed: 1, by: 'patient' });
    const reordered = split(new Rng(5).shuffle(data), { seed: 1, by: 'patient' });
    expect(ids(a.train)).toEqual(ids(b.train));
    expect(new Set(ids(reordered.train))).toEqual(new Set(ids(a.train)));
    expect(a.train.length + a.test.length).toBe(data.length);
    const trainPatients = new Set(a.train.map((s) => s.patientId));
    for (const s of a.test) expect(trainPatients.has(s.patientId)).toBe(false);
    const c = split(data, { seed: 2, by: 'patient' });
    expect(new Set(ids(c.train))).not.toEqual(new Set(ids(a.train)));
  });

  it('by patient: train is 80% of samples to within one patient group, for many seeds', () => {
    const data = patients(60);
    const sizes = new Map<string, number>();
    for (const s of data) sizes.set(s.patientId!, (sizes.get(s.patientId!) ?? 0) + 1);
    const maxGroup = Math.max(...sizes.values());
    for (let seed = 0; seed < 50; seed++) {
      const { train } = split(data, { seed, by: 'patient' });
      expect(Math.abs(train.length - 0.8 * data.length)).toBeLessThanOrEqual(maxGroup);
    }
  });

  it('by image: one-sample groups give exactly 80/20, and phrases of one image stay together', () => {
    const single: Sample[] = Array.from({ length: 100 }, (_, i) => ({
      id: `s${i}`,
      imagePath: `/img/${i}.png`,
      caption: 'c',
      source: { file: 't.tsv', row: i + 1 },
    }));
    const s = split(single, { seed: 3, by: 'image' });
    expect([s.train.length, s.test.length]).toEqual([80, 20]);

    const shared = [...single.slice(0, 30), ...single.slice(0, 30).map((x) => ({ ...x, id: `${x.id}-b` }))];
    const t = split(shared, { seed: 3, by: 'image', trainFraction: 0.5 });
    const trainImages = new Set(t.train.map((x) => x.imagePath));
    for (const x of t.test) expect(trainImages.has(x.imagePath)).toBe(false);
    expect(t.train.length).toBe(30);
  });

  it('every group lands in test about 20% of the time over seeds (no bias by position)', () => {
    const data = patients(40);
    const inTest = new Map<string, number>();
    const seeds = 400;
    for (let seed = 0; seed < seeds; seed++) {
      for (const s of split(data, { seed, by: 'patient' }).test) {
        if (s.id.endsWith('-0')) inTest.set(s.patientId!, (inTest.get(s.patientId!) ?? 0) + 1);
      }
    }
    // Expected ≈ 0.2 per patient (sd ≈ 0.02 over 400 seeds); bigger groups are a bit likelier
    // to be cut off, so allow a wide band that still catches a fixed order.
    for (let p = 0; p < 40; p++) {
      const f = (inTest.get(`p${10_000_000 + p}`) ?? 0) / seeds;
      expect(f).toBeGreaterThan(0.08);
      expect(f).toBeLessThan(0.35);
    }
  });

  it('by column: uses the file split, val goes to train; a sample without one is an error', () => {
    const mk = (id: string, split?: Sample['split']): Sample => ({
      id,
      imagePath: `/i/${id}`,
      caption: 'c',
      split,
      source: { file: 'm.csv', row: 2 },
    });
    const s = split([mk('a', 'train'), mk('b', 'test'), mk('c', 'val'), mk('d', 'test')], { seed: 0, by: 'column' });
    expect(ids(s.train)).toEqual(['a', 'c']);
    expect(ids(s.test)).toEqual(['b', 'd']);
    expect(() => split([mk('a', 'train'), mk('z')], { seed: 0, by: 'column' })).toThrow(/sample z .*"split" column/);
  });

  it('by patient without a patient id throws naming the sample', () => {
    expect(() =>
      split([{ id: 'q', imagePath: '/q', caption: 'c', source: { file: 'f', row: 9 } }], { seed: 0, by: 'patient' }),
    ).toThrow(/sample q \(f:9\) has no patient id/);
  });
});
