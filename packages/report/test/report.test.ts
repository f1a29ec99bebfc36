import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meanCI } from '@ceb/stats';
import { readRun, readRuns, summarize } from '@ceb/results';
import { CAPTION_EVIL, P1, P2, S1, S2, records, runJson, writeRunDir } from '@ceb/results/testing';
import { formatSummaryTable, renderReport, writeReport, meanCurve } from '../src/index';

let root: string;
let dir: string;
let html: string;

/** The report's number format: 4 significant digits, as written in the report's legend. */
const f4 = (v: number): string => String(Number(v.toPrecision(4)));

function section(h: string, id: string): string {
  const i = h.indexOf(`id="${id}"`);
  expect(i, `no element with id ${id}`).toBeGreaterThan(-1);
  return h.slice(i, h.indexOf('</table>', i));
}

/** The <td> of one cell of a results table, found by its data attributes. */
function cellOf(table: string, method: string, point: string, side: string, key: string): { cls: string; text: string } {
  const re = new RegExp(`<td data-method="${method}" data-point="${point.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" data-side="${side}" data-key="${key}" class="([^"]*)"[^>]*>(.*?)</td>`);
  const m = re.exec(table);
  expect(m, `cell ${method}/${point}/${side}/${key}`).not.toBeNull();
  return { cls: m![1], text: m![2].replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim() };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ceb-report-'));
  dir = await writeRunDir(join(root, 'run'));
  html = await renderReport(readRun(dir), { now: new Date('2026-01-03T00:00:00Z') });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the terminal table', () => {
  it('formats a terminal table with mean ± CI half-width', () => {
    const s = summarize(records() as never, runJson().metrics, { seed: 0, runId: 'r1', failures: 2 });
    const t = formatSummaryTable(s);
    const lines = t.split('\n');
    expect(lines[0]).toContain('r1: 3 sample(s), 2 failure(s)');
    expect(lines[1]).toContain('confidence-m2ib.drop ↓');
    expect(lines[1]).toContain('localisation.pointing ↑');
    // pointing of m2ib@P1 is constant 1: half-width 0
    const m2ibLine = lines.find((l) => l.startsWith('m2ib') && l.includes(P1) && l.includes('image'))!;
    expect(m2ibLine).toContain('1 ± 0');
    expect(m2ibLine).toMatch(/1\.2 ± /);
    // gradcam has no text side: one line only
    expect(lines.filter((l) => l.startsWith('gradcam'))).toHaveLength(1);
  });
});

describe('report.html', () => {
  it('shows the hand-worked means and the bootstrap CI in the main table', () => {
    const t = section(html, 'main-table');
    expect(cellOf(t, 'm2ib', P1, 'image', 'localisation.pointing').text).toBe('1 [1, 1] ★');
    expect(cellOf(t, 'm2ib', P1, 'text', 'confidence-m2ib.increase').text).toBe('40 [40, 40]');
    // the CI of a non-constant column: the same seeded bootstrap (seed = run seed 0) over the same values
    const ci = meanCI([1.0, 1.2, 1.4], { seed: 0 });
    expect(ci.lo).toBeGreaterThanOrEqual(1.0);
    expect(ci.hi).toBeLessThanOrEqual(1.4);
    expect(cellOf(t, 'm2ib', P1, 'image', 'confidence-m2ib.drop').text).toBe(`1.2 [${f4(ci.lo)}, ${f4(ci.hi)}] ★`);
    // a null left out: n=2 shown because it is less than the 3 samples
    expect(cellOf(t, 'gradcam', 'default', 'image', 'confidence-m2ib.increase').text).toBe('100 [100, 100] n=2 ★');
    expect(cellOf(t, 'gradcam', 'default', 'image', 'confidence-m2ib.drop').text).toMatch(/^4 \[/);
    expect(cellOf(t, 'gradcam', 'default', 'image', 'insertion-deletion.insertion').text).toMatch(/^0\.4 \[/);
    expect(cellOf(t, 'gradcam', 'default', 'image', 'runtime.ms').text).toMatch(/^20 \[.*★$/);
    // gradcam has no text side
    expect(cellOf(t, 'gradcam', 'default', 'text', 'confidence-m2ib.drop').text).toBe('—');
    // the main table shows m2ib's first sweep point only
    expect(t).not.toContain(`data-point="${P2}"`);
  });

  it('marks the best cell per column by direction, ties all marked', () => {
    const t = section(html, 'main-table');
    const best = (m: string, p: string, k: string) => cellOf(t, m, p, 'image', k).cls.split(' ').includes('best');
    expect(best('m2ib', P1, 'confidence-m2ib.drop')).toBe(true); // 1.2 < 4, lower is better
    expect(best('gradcam', 'default', 'confidence-m2ib.drop')).toBe(false);
    expect(best('gradcam', 'default', 'confidence-m2ib.increase')).toBe(true); // 100 > 50
    expect(best('m2ib', P1, 'confidence-m2ib.increase')).toBe(false);
    expect(best('m2ib', P1, 'localisation.pointing')).toBe(true); // tie at 1
    expect(best('gradcam', 'default', 'localisation.pointing')).toBe(true);
    expect(best('m2ib', P1, 'insertion-deletion.deletion')).toBe(true); // 0.2 < 0.25
    expect(best('m2ib', P1, 'runtime.ms')).toBe(false); // 200 ms vs 20 ms
  });

  it('states direction, mode and substrate in the header, and the M2IB sigma2 meaning', () => {
    const t = section(html, 'main-table');
    expect(t).toMatch(/drop <span class="arrow">↓<\/span>/);
    expect(t).toMatch(/increase <span class="arrow">↑<\/span>/);
    expect(t).toContain('mode: m2ib · substrate: dataset mean colour');
    expect(html).toContain('sigma2 ≠ 1 means noise and prior N(0, sigma2); the official code always uses 1');
  });

  it('has the header facts: model, data set, split, samples, failures, backend, hardware, seed, config, version, dates', () => {
    const head = html.slice(0, html.indexOf('</header>'));
    for (const s of ['models/synth-clip', 'synthetic', 'split <b>test</b>', '3 with results (of 4 in the plan)', 'wasm (requested auto)', 'Test CPU 9000', '0.1.0', '2026-01-02T03:04:05.000Z', '2026-01-03T00:00:00.000Z', 'resolved config', 'methods: [m2ib, gradcam]']) {
      expect(head).toContain(s);
    }
    // 1 distinct failed sample + 1 error without a sample
    expect(head).toContain('<b>2</b> (1 distinct failed sample + 1 error not tied to a sample; 2 error records)');
    expect(head).not.toContain('parity quirks');
  });

  it('says when the model ran with parity quirks', async () => {
    const quirky = await writeRunDir(join(root, 'run-quirks'), {
      run: { model: { ...runJson().model, quirks: ['text tower without the causal mask', 'text projection applied twice'] } },
    });
    const h = await renderReport(readRun(quirky), { now: new Date('2026-01-03T00:00:00Z') });
    const head = h.slice(0, h.indexOf('</header>'));
    expect(head).toContain('run with parity quirks: text tower without the causal mask; text projection applied twice');
  });

  it('draws one inline SVG per chart', () => {
    const count = (re: RegExp) => (html.match(re) ?? []).length;
    // bars: 5 image outputs + 2 text outputs; sweeps: beta varies for m2ib, on 2 sides;
    // curves: insertion + deletion (image); ROAR (image); runtime
    expect(count(/class="chart bar-chart"/g)).toBe(7);
    expect(count(/class="chart sweep-chart"/g)).toBe(2);
    expect(count(/class="chart curve-chart"/g)).toBe(2);
    expect(count(/class="chart dataset-chart"/g)).toBe(1);
    expect(count(/class="chart runtime-chart"/g)).toBe(1);
    expect(count(/<svg /g)).toBe(13);
    expect(count(/<figure class="chart[^"]*"><figcaption>.*?<\/figcaption><svg /g)).toBe(13);
    // each curve chart says which way is better for its own curve
    const curveFig = (k: string) => {
      const i = html.indexOf(`<b>${k} (image)</b>`);
      return html.slice(i, html.indexOf('</figure>', i));
    };
    expect(curveFig('insertion-deletion.deletion')).toContain('lower is better');
    expect(curveFig('insertion-deletion.deletion')).toContain('fraction of pixels deleted');
    expect(curveFig('insertion-deletion.insertion')).toContain('higher is better');
    // the ROAR chart carries the random baseline
    const roar = html.slice(html.indexOf('dataset-chart'));
    expect(roar.slice(0, roar.indexOf('</figure>'))).toContain('random baseline');
  });

  it('shows one overlay per method and gallery sample, and the input images', () => {
    const overlays = [...html.matchAll(/<img class="gimg overlay" data-method="([^"]+)" data-sample="([^"]+)" src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/g)];
    expect(overlays.map((m) => `${m[1]}@${m[2]}`).sort()).toEqual([`gradcam@${S1}`, `gradcam@${S2}`, `m2ib@${S1}`, `m2ib@${S2}`].sort());
    for (const m of overlays) expect(Buffer.from(m[3], 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect((html.match(/<img class="gimg" /g) ?? []).length).toBe(2);
  });

  it('draws the ground-truth box into the pixels', async () => {
    const m = new RegExp(`data-method="gradcam" data-sample="${S1}" src="data:image/png;base64,([^"]+)"`).exec(html)!;
    const img = await sharp(Buffer.from(m[1], 'base64')).removeAlpha().raw().toBuffer();
    const px = (x: number, y: number) => [...img.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3)];
    // box x=1..3, y=1..3 on an 8x8 image: white ring on its edge, black ring just outside
    expect(px(1, 1)).toEqual([255, 255, 255]);
    expect(px(3, 2)).toEqual([255, 255, 255]);
    expect(px(0, 0)).toEqual([0, 0, 0]);
    expect(px(4, 2)).toEqual([0, 0, 0]);
    // the inside is the blended heat map, not an outline colour
    expect(px(2, 2)).not.toEqual([255, 255, 255]);
  });

  it('escapes captions and tokens from files; no script at all', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('a &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; dog &amp; cat');
    expect(html).not.toContain(CAPTION_EVIL);
    // token "<script>" shaded, escaped
    expect(html).toMatch(/<span class="tok" style="background:rgba\(230,85,13,0\.250\)" title="0\.250">&lt;script&gt;<\/span>/);
    // BPE end-of-word marks removed from display
    expect(html).not.toContain('&lt;/w&gt;');
  });

  it('lists the failures with their stage, sample, place and escaped reason', () => {
    const f = html.slice(html.indexOf('id="failures"'));
    expect(f).toContain('explain 1, load 1');
    expect(f).toContain('img0004:dd44');
    expect(f).toContain('data/captions.csv, row 17, column caption');
    expect(f).toContain('NaN in gradient &lt;b&gt;at block 3&lt;/b&gt;');
  });

  it('needs no network: the only http URLs are the SVG namespaces', () => {
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
    expect(html).not.toMatch(/<link|@import|url\(/i);
  });
});

describe('reports of merged and partial runs', () => {
  it('merges shards into the same numbers as one folder, dropping duplicates', async () => {
    const all = records();
    const shards = join(root, 'sharded');
    const a = all.filter((_, i) => i % 2 === 0);
    const b = all.filter((_, i) => i % 2 === 1);
    await writeRunDir(join(shards, 'shard-0-of-2'), { records: [...a, b[0]], run: { shard: { index: 0, count: 2 }, finishedAt: '2026-01-02T03:10:00.000Z' } });
    await writeRunDir(join(shards, 'shard-1-of-2'), { records: b, run: { shard: { index: 1, count: 2 } }, errors: [], datasetMetrics: [], gallery: false });
    const merged = readRuns([join(shards, 'shard-0-of-2'), join(shards, 'shard-1-of-2')]);
    expect(merged.records).toHaveLength(all.length);
    expect(merged.duplicates).toBe(1);
    expect(merged.warnings.join('\n')).toContain('1 duplicate result record');
    expect(merged.info.finishedAt).toBe('2026-01-02T03:14:05.000Z');
    const h2 = await renderReport(merged, { now: new Date('2026-01-03T00:00:00Z') });
    const cells = (h: string) => [...section(h, 'main-table').matchAll(/<td [^>]*>.*?<\/td>/g)].map((m) => m[0]);
    expect(cells(h2)).toEqual(cells(html));
    // 2 methods x (5 image outputs + runtime, 2 text outputs + runtime)
    expect(cells(h2).length).toBe(2 * 9);
    // a folder holding the shards expands to them, and the report goes into it
    const out = await writeReport([shards]);
    expect(out).toBe(join(shards, 'report.html'));
    expect(readFileSync(out, 'utf8')).toContain('2 folder(s) merged, 1 duplicate record(s) dropped');
    // two shard folders: the report goes into their parent
    rmSync(out);
    expect(await writeReport([join(shards, 'shard-0-of-2'), join(shards, 'shard-1-of-2')])).toBe(join(shards, 'report.html'));
  });

  it('tolerates a run in progress: partial last line, no finishedAt', async () => {
    const d = await writeRunDir(join(root, 'running'), { run: { finishedAt: undefined }, gallery: false });
    appendFileSync(join(d, 'results.jsonl'), '{"sampleId": "img0009:zz", "method": "m2');
    const run = readRun(d);
    expect(run.records).toHaveLength(records().length);
    expect(run.inProgress).toBe(true);
    expect(run.warnings[0]).toMatch(/results\.jsonl:\d+: skipped a partial last line/);
    const h = await renderReport(run);
    expect(h).toContain('still running (no finishedAt)');
    expect(h).toContain('No gallery samples');
  });

  it('averages curves of different lengths on a common grid', () => {
    // y = x sampled with 3 and with 5 points: the mean is y = x at every grid point
    const c = meanCurve([[0, 0.5, 1], [0, 0.25, 0.5, 0.75, 1]], 11);
    c.x.forEach((x, i) => expect(c.y[i]).toBeCloseTo(x, 12));
    // and a constant curve of 2 points stays constant
    expect(meanCurve([[2, 2]], 5).y).toEqual([2, 2, 2, 2, 2]);
  });
});

it('writes report.html into the run folder by default', async () => {
  const out = await writeReport([dir], { galleryLimit: 1 });
  expect(out).toBe(join(dir, 'report.html'));
  expect(existsSync(out)).toBe(true);
  expect((readFileSync(out, 'utf8').match(/<img class="gimg overlay"/g) ?? []).length).toBe(2);
});

describe('chance row', () => {
  it('shows, per output, the mean over samples of the per-sample chance level carried by the records', async () => {
    const recs = records().map((r) => {
      if (r.side !== 'image') return r;
      // One chance value per sample (the same for every method of that sample): 0.1, 0.2, 0.6 → mean 0.3.
      const level = r.sampleId === S1 ? 0.1 : r.sampleId === S2 ? 0.2 : 0.6;
      return { ...r, chance: { 'localisation.pointing': level } };
    });
    const d = await writeRunDir(mkdtempSync(join(tmpdir(), 'report-chance-')), { records: recs });
    const html = await renderReport(readRun(d));
    const m = html.match(/<td class="num" data-side="image" data-key="localisation\.pointing" data-chance="1"[^>]*>([^<]*)<\/td>/);
    expect(m?.[1]).toBe('0.3');
    expect(html).toContain('<tr class="chance">');
    // Without chance values there is no such row.
    expect(await renderReport(readRun(dir))).not.toContain('<tr class="chance">');
  });
});
