// `pnpm bench` end to end on a generated MS-CXR-layout set and the fixture model: exact
// records, a broken image recorded and skipped, kill + resume, shards, config errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { generateSyntheticSet, msCxrSampleId } from '@ceb/datasets';
import { readJsonl, readRuns, type ErrorRecord, type ResultRecord } from '@ceb/results';

const readRecords = <T>(file: string): T[] => readJsonl(file) as T[];
import { runBenchCommand, type BenchArgs } from '../src/cli/bench';
import { loadConfig } from '../src/config/schema';
import { CLIP_FIXTURE_DIR } from './helpers/fixtures';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
let root: string;
let brokenId: string;
const quiet = () => {};

function writeConfig(name: string, extra: Record<string, unknown> = {}): string {
  const file = join(root, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      name,
      model: CLIP_FIXTURE_DIR,
      dataset: { kind: 'mscxr', csv: join(root, 'data/synthetic_mscxr.csv'), imageRoot: join(root, 'data') },
      methods: { m2ib: { layer: [1, 2], steps: 2, copies: 2 }, random: {} },
      metrics: { 'confidence-m2ib': {}, localisation: {} },
      gallery: { samples: 1 },
      out: join(root, 'results'),
      ...extra,
    }),
  );
  return file;
}

const args = (config: string, out: string, more: Partial<BenchArgs> = {}): BenchArgs => ({ config, out, workers: 1, resume: false, report: false, progress: false, ...more });

/** Records without their timings, keyed by identity, for comparing runs. */
function comparable(records: ResultRecord[]): Map<string, unknown> {
  return new Map(records.map((r) => [`${r.sampleId}|${r.method}|${r.side}|${r.point}`, { values: r.values, options: r.options, flat: r.flat }]));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
  const set = await generateSyntheticSet({ outDir: join(root, 'data'), count: 5, seed: 3, layouts: ['mscxr'] });
  // The third image becomes undecodable bytes: the run must record it and go on.
  const broken = set.images[2];
  writeFileSync(join(root, 'data', broken.path), 'not a png at all');
  brokenId = msCxrSampleId(broken.id, broken.caption);
});

describe('bench end to end', () => {
  it('writes exactly the expected records, records the broken image and completes', async () => {
    const out = join(root, 'run-full');
    const cfg = writeConfig('full', { metrics: { 'confidence-m2ib': {}, localisation: { methods: ['m2ib'] } } });
    const report = await runBenchCommand({ ...args(cfg, out), report: true }, quiet);
    const records = readRecords<ResultRecord>(join(out, 'results.jsonl'));
    const samples = readRecords<{ sampleId: string }>(join(out, 'results.jsonl')).map((r) => r.sampleId);
    const good = [...new Set(samples)];
    expect(good.length).toBe(4);
    expect(good).not.toContain(brokenId);
    // 4 samples × (m2ib: 2 sides × 2 points + random: 2 sides × 1 point)
    const expected = new Set(good.flatMap((s) => [
      ...['image', 'text'].flatMap((side) => ['layer=1', 'layer=2'].map((p) => `${s}|m2ib|${side}|${p}`)),
      `${s}|random|image|default`, `${s}|random|text|default`,
    ]));
    expect(new Set(comparable(records).keys())).toEqual(expected);
    expect(records.length).toBe(expected.size);
    for (const r of records) {
      expect(r.values['confidence-m2ib.drop']).toBeTypeOf('number');
      // Localisation is limited to m2ib in this config, and has boxes only on the image side.
      if (r.side === 'image' && r.method === 'm2ib') {
        expect(r.values['localisation.pointing']).toBeTypeOf('number');
        // The sample's chance level rides along for the report's chance row.
        expect(r.chance?.['localisation.energy']).toBeGreaterThan(0);
        expect(r.chance?.['localisation.energy']).toBeLessThan(r.chance!['localisation.pointing']);
      }
      else expect(r.values['localisation.pointing']).toBeUndefined();
      expect(r.backend).toBe('wasm');
    }
    const errors = readRecords<ErrorRecord>(join(out, 'errors.jsonl'));
    expect(errors).toEqual([expect.objectContaining({ stage: 'load', sampleId: brokenId })]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.failures).toBe(1);
    expect(summary.rows.some((r: { method: string; key: string; n: number }) => r.method === 'm2ib' && r.key === 'confidence-m2ib.drop' && r.n === 4)).toBe(true);
    expect(existsSync(report)).toBe(true);
    expect(existsSync(join(out, 'gallery'))).toBe(true);
  });

  it('writes all three confidence metrics for both sides with Y and O in meta, and shows the NIB table beside them when the config asks', async () => {
    const out = join(root, 'run-published');
    const cfg = writeConfig('published', {
      methods: { m2ib: { layer: 1, steps: 2, copies: 2 }, chefer: {}, random: {} },
      metrics: { 'confidence-m2ib': {}, 'confidence-nib': {}, 'confidence-corrected': {} },
      compare: 'nib-readme/cc',
    });
    const lines: string[] = [];
    const report = await runBenchCommand({ ...args(cfg, out), report: true }, (l) => lines.push(l));
    const records = readRecords<ResultRecord>(join(out, 'results.jsonl'));
    for (const side of ['image', 'text']) {
      const r = records.find((x) => x.method === 'm2ib' && x.side === side)!;
      for (const m of ['confidence-m2ib', 'confidence-nib', 'confidence-corrected']) {
        const clean = r.meta?.[`${m}.clean`] as number;
        const explained = r.meta?.[`${m}.explained`] as number;
        expect(clean, `${m} ${side} Y`).toBeTypeOf('number');
        expect(explained, `${m} ${side} O`).toBeTypeOf('number');
        // Anyone can recompute the drop from the file.
        const drop = m === 'confidence-corrected' ? (Math.max(0, clean - explained) / clean) * 100 : Math.max(0, clean - explained) * 100;
        expect(r.values[`${m}.drop`]).toBeCloseTo(drop, 6);
      }
    }
    const info = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(info.comparison.ref).toBe('nib-readme/cc');
    // NIB is implemented (and mapped), but this run did not include it.
    expect(info.comparison.rows.find((r: { published: string }) => r.published === 'NIB').implemented).toBe(true);
    expect(info.comparison.differences.join('\n')).toMatch(/model: published CLIP ViT-B\/32/);
    const html = readFileSync(report, 'utf8');
    const published = html.slice(html.indexOf('id="published"'));
    // The published M2IB image drop (1.1171) beside this run's m2ib mean of the same output.
    const cell = /<td class="num" data-published="M2IB" data-column="image_conf_drop">(.*?)<\/td>/.exec(published)![1];
    expect(cell).toContain('1.117');
    expect(cell).toMatch(/class="measured"/);
    expect(published).toContain('not in this run');
    expect(lines.join('\n')).toMatch(/published comparison: .*Conceptual Captions/);
  });

  it('the same config gives the same numbers; shards 0/2 and 1/2 merged equal the unsharded run', async () => {
    const cfg = writeConfig('shards');
    const one = join(root, 'run-one');
    await runBenchCommand(args(cfg, one), quiet);
    const sharded = join(root, 'run-sharded');
    for (const index of [0, 1]) await runBenchCommand(args(cfg, sharded, { shard: { index, count: 2 } }), quiet);
    const merged = readRuns([sharded]).records as ResultRecord[];
    const single = readRecords<ResultRecord>(join(one, 'results.jsonl'));
    expect(merged.length).toBe(single.length);
    expect(comparable(merged)).toEqual(comparable(single));
    // Each shard holds a disjoint part.
    const a = readRecords<ResultRecord>(join(sharded, 'shard-0-of-2', 'results.jsonl'));
    const b = readRecords<ResultRecord>(join(sharded, 'shard-1-of-2', 'results.jsonl'));
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    const inA = new Set(a.map((r) => r.sampleId));
    expect(b.some((r) => inA.has(r.sampleId))).toBe(false);
  });

  it('a run killed part-way (SIGKILL) and resumed equals an uninterrupted run, without duplicates', async () => {
    const cfg = writeConfig('resume', { methods: { m2ib: { layer: [1, 2], steps: 4, copies: 4 }, random: {} } });
    const reference = join(root, 'run-ref');
    await runBenchCommand(args(cfg, reference), quiet);
    const out = join(root, 'run-killed');
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'bench', '--config', cfg, '--out', out, '--workers', '1', '--no-report', '--no-progress'], { cwd: BENCH_DIR, stdio: 'ignore' });
    const file = join(out, 'results.jsonl');
    const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);
    await new Promise<void>((res, rej) => {
      const t = setInterval(() => {
        if (lines() >= 5) {
          clearInterval(t);
          child.kill('SIGKILL');
          res();
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(t);
        rej(new Error('the child finished before it could be killed'));
      });
    });
    await new Promise((r) => child.on('exit', r));
    const before = lines();
    const total = readRecords<ResultRecord>(join(reference, 'results.jsonl')).length;
    expect(before).toBeLessThan(total);
    const startedAt = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).startedAt;
    // A resume with a changed option is another run: refused, naming the option, before any record.
    const changed = writeConfig('resume-changed', { name: 'resume', methods: { m2ib: { layer: [1, 2], steps: 3, copies: 4 }, random: {} } });
    const refusedLog: string[] = [];
    await expect(runBenchCommand(args(changed, out, { resume: true }), (l) => refusedLog.push(l))).rejects.toThrow(/--resume refused: .*methods\.m2ib\.image\.steps: was \[4\], now \[3\]/s);
    expect(lines()).toBe(before);
    // The killed child's lock (its pid is dead) was reported and taken over.
    expect(refusedLog.join('\n')).toMatch(/took over the lock .*is no longer running on this host/);
    // A record cut mid-line by the kill is removed (and said), then made again.
    writeFileSync(file, readFileSync(file, 'utf8') + '{"sampleId":"cut sh');
    const log: string[] = [];
    await runBenchCommand(args(cfg, out, { resume: true }), (l) => log.push(l));
    expect(log.join('\n')).toMatch(/results\.jsonl: removed a last line cut short by a kill/);
    const resumed = readRecords<ResultRecord>(file);
    expect(resumed.length).toBe(total);
    expect(comparable(resumed)).toEqual(comparable(readRecords<ResultRecord>(join(reference, 'results.jsonl'))));
    // run.json keeps the first start and lists the resume.
    const info = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(info.startedAt).toBe(startedAt);
    expect(info.resumes).toHaveLength(1);
    expect(info.fingerprint.keys['methods.m2ib.image.steps']).toBe('[4]');
  }, 300_000);

  it('--workers 2: two child-process shards, then the merge step (ROAR from the shards\' maps), summary and report', async () => {
    // ROAR needs a test split: 12 images (their own set) rather than the shared 5.
    const data = join(root, 'data-workers');
    await generateSyntheticSet({ outDir: data, count: 12, seed: 4, layouts: ['mscxr'] });
    const cfg = writeConfig('workers', {
      dataset: { kind: 'mscxr', csv: join(data, 'synthetic_mscxr.csv'), imageRoot: data },
      metrics: { 'confidence-m2ib': {}, roar: { fractions: '0.5', task: 'category' } },
    });
    const out = join(root, 'run-workers');
    const report = await runBenchCommand({ ...args(cfg, out), workers: 2, report: true }, quiet);
    const merged = readRuns([out]);
    // 12 samples × 6 (method, side, point) identities, split over the two shards.
    expect(merged.records.length).toBe(72);
    expect(readRecords(join(out, 'errors.jsonl'))).toEqual([]);
    const roar = readRecords<{ metric: string; method: string; point: string; values: Record<string, number> }>(join(out, 'dataset-metrics.jsonl'));
    expect(roar.map((r) => `${r.method}@${r.point}`).sort()).toEqual(['m2ib@layer=1', 'm2ib@layer=2', 'random@default']);
    for (const r of roar) expect(r.values['roar.auc']).toBeTypeOf('number');
    for (const s of [0, 1]) expect(existsSync(join(out, `shard-${s}-of-2`, 'roar-maps'))).toBe(false);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
    expect(existsSync(report)).toBe(true);
  }, 300_000);

  it('refuses to mix a new run into a folder that holds results, unless resuming', async () => {
    const cfg = writeConfig('twice');
    const out = join(root, 'run-twice');
    await runBenchCommand(args(cfg, out, { limit: 1 }), quiet);
    await expect(runBenchCommand(args(cfg, out, { limit: 1 }), quiet)).rejects.toThrow(/already holds results; pass --resume/);
  });
});

describe('config errors name the key and what is allowed', () => {
  const bad = (name: string, mutate: (c: Record<string, unknown>) => void) => {
    const file = writeConfig(name);
    const c = JSON.parse(JSON.stringify(loadConfigRaw(file)));
    mutate(c);
    writeFileSync(file, stringify(c));
    return file;
  };
  const loadConfigRaw = (file: string) => parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

  it('an unknown key', () => {
    expect(() => loadConfig(bad('unknown-top', (c) => (c.sede = 1)))).toThrow(/sede: unknown key/);
    expect(() => loadConfig(bad('unknown-dataset', (c) => ((c.dataset as Record<string, unknown>).imageroot = 'x')))).toThrow(/dataset\.imageroot: unknown key/);
    expect(() => loadConfig(bad('unknown-option', (c) => ((c.methods as Record<string, Record<string, unknown>>).m2ib.gamma = 1)))).toThrow(/methods\.m2ib\.gamma: unknown option; known: layer/);
    expect(() => loadConfig(bad('unknown-method', (c) => ((c.methods as Record<string, unknown>).lime = {})))).toThrow(/methods\.lime: unknown method; known: m2ib/);
    expect(() => loadConfig(bad('unknown-quirk', (c) => (c.modelQuirks = { noCausalMask: true })))).toThrow(/modelQuirks\.noCausalMask: unknown key/);
    expect(() => loadConfig(bad('unknown-metric', (c) => ((c.metrics as Record<string, unknown>).auc = {})))).toThrow(/metrics\.auc: unknown metric; known:/);
    expect(() => loadConfig(bad('metric-methods', (c) => ((c.metrics as Record<string, unknown>).localisation = { methods: ['gradcam'] })))).toThrow(/metrics\.localisation\.methods: "gradcam" is not one of the run's methods \(m2ib, random\)/);
  });

  it('a wrong type or value', () => {
    expect(() => loadConfig(bad('bad-seed', (c) => (c.seed = 'abc')))).toThrow(/seed: .*number/i);
    expect(() => loadConfig(bad('bad-beta', (c) => ((c.methods as Record<string, Record<string, unknown>>).m2ib.beta = [0.1, 'x'])))).toThrow(/methods\.m2ib\[1\]\.beta: expected a number/);
    expect(() => loadConfig(bad('bad-quirk', (c) => (c.modelQuirks = { textCausalMask: 'no' })))).toThrow(/modelQuirks\.textCausalMask: .*boolean/i);
    expect(() => loadConfig(bad('bad-kind', (c) => ((c.dataset as Record<string, unknown>).kind = 'coco')))).toThrow(/dataset\.kind/);
    expect(() => loadConfig(bad('bad-param', (c) => ((c.metrics as Record<string, Record<string, unknown>>).localisation = { tolerance: 'far' })))).toThrow(/metrics\.localisation\.tolerance: expected a number/);
  });

  it('a missing file stops before any work and says how to get it', async () => {
    const file = bad('missing-model', (c) => (c.model = join(root, 'no-such-model')));
    const out = join(root, 'run-missing');
    await expect(runBenchCommand(args(file, out), quiet)).rejects.toThrow(/model: .*no-such-model does not exist.*pnpm train:tiny/s);
    expect(existsSync(out)).toBe(false);
    const data = bad('missing-data', (c) => ((c.dataset as Record<string, unknown>).csv = join(root, 'nope.csv')));
    await expect(runBenchCommand(args(data, out), quiet)).rejects.toThrow(/dataset\.csv: .*nope\.csv does not exist.*PhysioNet/s);
  });
});
