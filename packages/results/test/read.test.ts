// The run folder's reader and summary against a hand-written folder (@ceb/results/testing):
// hand-worked means, shard merging, and bad files named by file and line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, readRun, readRuns, summarize } from '../src/index';
import { P1, P2, npy, records, runJson, writeRunDir } from './fixture';

let root: string;
let dir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ceb-results-'));
  dir = await writeRunDir(join(root, 'run'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('summarize', () => {
  it('gives hand-worked means, leaves nulls out of n, takes the direction from run.json', () => {
    const s = summarize(records() as never, runJson().metrics, { seed: 0 });
    const row = (m: string, p: string, k: string, side = 'image') => s.rows.find((r) => r.method === m && r.point === p && r.key === k && r.side === side)!;
    expect(row('m2ib', P1, 'confidence-m2ib.drop').mean).toBeCloseTo(1.2, 12);
    expect(row('m2ib', P1, 'confidence-m2ib.drop').higherIsBetter).toBe(false);
    expect(row('m2ib', P1, 'confidence-m2ib.drop').mode).toBe('m2ib');
    expect(row('gradcam', 'default', 'confidence-m2ib.increase')).toMatchObject({ mean: 100, n: 2, higherIsBetter: true });
    expect(row('m2ib', P2, 'localisation.pointing').mean).toBeCloseTo(2 / 3, 12);
    // constant values: the bootstrap interval collapses to the value
    expect(row('m2ib', P1, 'localisation.pointing')).toMatchObject({ mean: 1, lo: 1, hi: 1, n: 3 });
    expect(row('m2ib', P1, 'confidence-m2ib.drop', 'text')).toMatchObject({ mean: 0.5, lo: 0.5, hi: 0.5 });
    const rt = s.runtime.find((r) => r.method === 'gradcam')!;
    expect(rt.mean).toBe(20);
    expect(rt.lo).toBeGreaterThanOrEqual(10);
    expect(rt.hi).toBeLessThanOrEqual(30);
    expect(s.samples).toBe(3);
    // 2 methods: m2ib 2 points x 2 sides, gradcam 1 point x image
    expect(s.runtime).toHaveLength(5);
  });

  it('does not depend on record order (bootstrap in sampleId order, seeded)', () => {
    const recs = records();
    const a = summarize(recs as never, runJson().metrics, { seed: 3 });
    const b = summarize([...recs].reverse() as never, runJson().metrics, { seed: 3 });
    const key = (r: { method: string; side: string; point: string; key?: string }) => `${r.method}|${r.side}|${r.point}|${r.key ?? ''}`;
    const sortRows = <T extends { method: string; side: string; point: string; key?: string }>(rows: T[]) => [...rows].sort((x, y) => key(x).localeCompare(key(y)));
    expect(sortRows(b.rows)).toEqual(sortRows(a.rows));
    expect(sortRows(b.runtime)).toEqual(sortRows(a.runtime));
  });

});

describe('reading runs', () => {
  it('a run folder reads with the shard folders inside it (a --workers run: merge-step files above, records in the shards)', async () => {
    const all = records();
    const parent = join(root, 'workers');
    await writeRunDir(parent, { records: [], errors: [], gallery: false });
    await writeRunDir(join(parent, 'shard-0-of-2'), { records: all.slice(0, 3), datasetMetrics: [], errors: [], gallery: false });
    await writeRunDir(join(parent, 'shard-1-of-2'), { records: all.slice(3), datasetMetrics: [], errors: [], gallery: false });
    expect(readRuns([parent]).records).toHaveLength(all.length);
  });

  it('refuses to merge folders of different runs', async () => {
    const other = await writeRunDir(join(root, 'other'), { run: { runId: 'another', config: { x: 1 } }, gallery: false });
    expect(() => readRuns([dir, other])).toThrow(/neither the runId nor the config is the same/);
  });

  it('names the file and line of a corrupt line in the middle, and of a bad field', async () => {
    const d = await writeRunDir(join(root, 'corrupt'), { gallery: false });
    const lines = readFileSync(join(d, 'results.jsonl'), 'utf8').split('\n');
    lines[1] = '{"sampleId": oops}';
    writeFileSync(join(d, 'results.jsonl'), lines.join('\n'));
    expect(() => readRun(d)).toThrow(/results\.jsonl:2: invalid JSON/);
    lines[1] = JSON.stringify({ ...records()[1], side: 'audio' });
    writeFileSync(join(d, 'results.jsonl'), lines.join('\n'));
    expect(() => readRun(d)).toThrow(/results\.jsonl:2: field "side" must be "image" or "text"/);
    expect(() => readRun(join(root, 'nope'))).toThrow(/has no run\.json/);
  });

  it('reads float32 .npy files written from the format description', () => {
    const data = new Float32Array([0, 0.25, 0.5, 1, -2, 3.5]);
    const r = decodeNpy(npy(data, [2, 3]), 'x.npy');
    expect(r.shape).toEqual([2, 3]);
    expect([...r.data]).toEqual([...data]);
    expect(() => decodeNpy(Buffer.from('nope nope nope'), 'bad.npy')).toThrow(/bad\.npy: not a \.npy file/);
  });

  it('reads what NumPy writes and writes it byte for byte (np.save of float32 arrays, NumPy 2.4.6)', () => {
    // python3 -c "import numpy as np, io, base64; b = io.BytesIO(); np.save(b, np.array(A, dtype='<f4')); print(base64.b64encode(b.getvalue()).decode())"
    const cases = [
      {
        shape: [2, 3],
        data: [1.5, -2, 3.25, 0, 1e-3, -7],
        b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAUEAAAAAAbxKDOgAA4MA=',
      },
      {
        shape: [3],
        data: [0.5, 2, -1],
        b64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAA/AAAAQAAAgL8=',
      },
    ];
    for (const c of cases) {
      const bytes = Buffer.from(c.b64, 'base64');
      const r = decodeNpy(bytes, 'numpy.npy');
      expect(r.shape).toEqual(c.shape);
      expect([...r.data]).toEqual([...Float32Array.from(c.data)]);
      expect(encodeNpy(Float32Array.from(c.data), c.shape).equals(bytes)).toBe(true);
    }
  });

});
