// The run's data set: a synthetic set is generated on first use, and generated again when the
// config asks for another count or seed than the folder holds (never silently reused).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema';
import { loadDataset } from '../src/data';

const root = mkdtempSync(join(tmpdir(), 'ceb-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cfg = (count: number, seed: number) =>
  configSchema.parse({ model: 'unused', methods: {}, dataset: { kind: 'synthetic', dir: join(root, 'synth'), count, seed } });

describe('synthetic data set of a run', () => {
  it('is generated on first use, reused as is, and regenerated when count or seed change', async () => {
    const logs: string[] = [];
    const log = (s: string) => logs.push(s);
    const first = await loadDataset(cfg(3, 7), log);
    expect(first.samples.length).toBe(3);
    expect(logs.filter((l) => l.startsWith('generating')).length).toBe(1);

    const again = await loadDataset(cfg(3, 7), log);
    expect(again.samples.map((s) => s.id)).toEqual(first.samples.map((s) => s.id));
    expect(logs.filter((l) => l.startsWith('generating')).length).toBe(1); // reused

    const more = await loadDataset(cfg(5, 7), log);
    expect(more.samples.length).toBe(5);
    expect(logs.at(-1)).toMatch(/generating the synthetic set \(5 images, seed 7\).*\(it held 3 images, seed 7\)/);

    const other = await loadDataset(cfg(5, 8), log);
    expect(other.samples.length).toBe(5);
    expect(other.samples[0].id).toMatch(/^synth-8-/);
    expect(logs.at(-1)).toMatch(/it held 5 images, seed 7/);
  });
});
