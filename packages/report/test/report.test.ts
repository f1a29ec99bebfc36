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
    // m2ib stands for its selected point (P1: better than P2 on every image output); gradcam has no text side
    const m2ibLine = lines.find((l) => l.startsWith('m2ib') && l.includes('image'))!;
    expect(m2ibLine).toContain('layer=9, beta=0.1');
    expect(lines.some((l) => l.startsWith('m2ib') && l.includes('beta=1 '))).toBe(false);
    // pointing of m2ib@P1 is constant 1 (tied best with gradcam: *), drop 1.2 is the best (*)
    expect(m2ibLine).toContain('1 ± 0*');
    expect(m2ibLine).toMatch(/1\.2\d* ± [\d.]+\*/);
    expect(lines.filter((l) => l.startsWith('gradcam'))).toHaveLength(1);
    expect(t).toContain('* best mean · ~ not significantly different from the best');
    expect(t).toContain('m2ib (image): shown at layer=9, beta=0.1, the best of its 2 points by average rank');
  });
});

describe('report.html', () => {
  it('shows the hand-worked means and the bootstrap CI in the full tables (every point)', () => {
    const t = section(html, 'full-image');
    const tt = section(html, 'full-text');
    expect(cellOf(t, 'm2ib', P1, 'image', 'localisation.pointing').text).toBe('1 [1, 1]');
    expect(cellOf(tt, 'm2ib', P1, 'text', 'confidence-m2ib.increase').text).toBe('40 [40, 40]');
    // the CI of a non-constant column: the same seeded bootstrap (seed = run seed 0) over the same values
    const ci = meanCI([1.0, 1.2, 1.4], { seed: 0 });
    expect(ci.lo).toBeGreaterThanOrEqual(1.0);
    expect(ci.hi).toBeLessThanOrEqual(1.4);
    expect(cellOf(t, 'm2ib', P1, 'image', 'confidence-m2ib.drop').text).toBe(`1.2 [${f4(ci.lo)}, ${f4(ci.hi)}]`);
    // a null left out: n=2 shown because it is less than the 3 samples
    expect(cellOf(t, 'gradcam', 'default', 'image', 'confidence-m2ib.increase').text).toBe('100 [100, 100] n=2');
    expect(cellOf(t, 'gradcam', 'default', 'image', 'confidence-m2ib.drop').text).toMatch(/^4 \[/);
    expect(cellOf(t, 'gradcam', 'default', 'image', 'insertion-deletion.insertion').text).toMatch(/^0\.4 \[/);
    expect(cellOf(t, 'gradcam', 'default', 'image', 'runtime.ms').text).toMatch(/^20 \[/);
    // every point is in the full table; gradcam has no text side
    expect(cellOf(t, 'm2ib', P2, 'image', 'confidence-m2ib.drop').text).toMatch(/^2 \[2, 2\]/);
    expect(tt).not.toContain('data-method="gradcam"');
  });

  it('marks the best cell per column by direction in the overview table (ties all best), the others not significantly different with 3 samples', () => {
    const t = section(html, 'paper-image');
    const mark = (m: string, k: string) => new RegExp(`<tr data-method="${m}"[^>]*>[\\s\\S]*?data-key="${k.replace(/[.]/g, '\\.')}" data-mark="([a-z]+)"`).exec(t)?.[1];
    expect(mark('m2ib', 'confidence-m2ib.drop')).toBe('best'); // 1.2 < 4, lower is better
    expect(mark('gradcam', 'confidence-m2ib.drop')).not.toBe('best');
    expect(mark('gradcam', 'confidence-m2ib.increase')).toBe('best'); // 100 > 50
    expect(mark('m2ib', 'localisation.pointing')).toBe('best'); // tie at 1: both best
    expect(mark('gradcam', 'localisation.pointing')).toBe('best');
    expect(mark('m2ib', 'insertion-deletion.deletion')).toBe('best'); // 0.2 < 0.25
    // 3 samples cannot make a difference significant: the others are all "tied"
    expect(mark('gradcam', 'insertion-deletion.deletion')).toBe('tied');
    expect(t).toMatch(/data-key="confidence-m2ib\.drop" data-mark="best"[^>]*><b>1\.2\d* ± /);
  });

  it('states direction and protocol in the header, substrate in the legend, and the M2IB sigma2 meaning', () => {
    const t = section(html, 'paper-image');
    expect(t).toMatch(/drop <span class="arrow">↓<\/span>/);
    expect(t).toMatch(/increase <span class="arrow">↑<\/span>/);
    expect(t).toContain('m2ib protocol');
    expect(html).toContain('substrate: dataset mean colour');
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

  it('draws one inline SVG per chart, each with the spec its live view is made from', () => {
    const count = (re: RegExp) => (html.match(re) ?? []).length;
    // overview: one dot + CI chart per side, a CD diagram for the image side only (the text side has one method);
    // sweeps: beta varies for m2ib, a heat map per output (no headline declared: all) on both sides (5 + 2);
    // details: bars for 5 image + 2 text outputs, curves insertion + deletion (image), ROAR (image), runtime
    expect(count(/class="chart overview-chart"/g)).toBe(2);
    expect(count(/class="chart cd-chart"/g)).toBe(1);
    expect(html).toContain('No critical-difference diagram for the text side: needs at least 2 methods');
    expect(count(/class="chart sweep-heatmap"/g)).toBe(7);
    expect(count(/class="chart bar-chart"/g)).toBe(7);
    expect(count(/class="chart curve-chart"/g)).toBe(2);
    expect(count(/class="chart dataset-chart"/g)).toBe(1);
    expect(count(/class="chart runtime-chart"/g)).toBe(1);
    expect(count(/<svg /g)).toBe(21);
    expect(count(/<figure class="chart[^"]*" data-vega="1"><figcaption>.*?<\/figcaption><svg [\s\S]*?<\/svg><script type="application\/json" class="vega-spec">\{/g)).toBe(21);
    // each curve chart says which way is better for its own curve
    const curveFig = (k: string) => {
      const i = html.indexOf(`<b>${k.replace('.', ' · ')} curve (image)</b>`);
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

  it('escapes captions and tokens from files; without the runtime, no script runs', async () => {
    expect(html).toContain('a &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; dog &amp; cat');
    expect(html).not.toContain(CAPTION_EVIL);
    // token "<script>" shaded (scores i/4 over 5 tokens: display scaling over the caption keeps them), escaped
    expect(html).toMatch(/<span class="tok" style="background:rgba\(230,85,13,0\.250\)" title="score 0\.25 · shown 0\.25">&lt;script&gt;<\/span>/);
    // BPE end-of-word marks removed from display
    expect(html).not.toContain('&lt;/w&gt;');
    // the scripts: one JSON spec per chart, and vega, vega-tooltip and the boot script
    const scripts = [...html.matchAll(/<script( [^>]*)?>/g)].map((m) => m[1] ?? '');
    expect(scripts.filter((a) => a === ' type="application/json" class="vega-spec"')).toHaveLength(21);
    expect(scripts.filter((a) => a === '')).toHaveLength(3);
    const plain = await renderReport(readRun(dir), { interactive: false });
    expect(plain).not.toMatch(/<script/i);
    expect((plain.match(/<svg /g) ?? []).length).toBe(21);
  });

  it('lists the failures with their stage, sample, place and escaped reason', () => {
    const f = html.slice(html.indexOf('id="failures"'));
    expect(f).toContain('explain 1, load 1');
    expect(f).toContain('img0004:dd44');
    expect(f).toContain('data/captions.csv, row 17, column caption');
    expect(f).toContain('NaN in gradient &lt;b&gt;at block 3&lt;/b&gt;');
  });

  it('needs no network: outside the inlined runtime, the only http URLs are the SVG namespaces', async () => {
    const plain = await renderReport(readRun(dir), { interactive: false });
    const urls = [...plain.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
    expect(plain).not.toMatch(/<link|@import|url\((?!#)/i); // url(#…): a gradient inside the SVG
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
    const cells = (h: string) => [...section(h, 'full-image').matchAll(/<td [^>]*>.*?<\/td>/g), ...section(h, 'full-text').matchAll(/<td [^>]*>.*?<\/td>/g), ...section(h, 'paper-image').matchAll(/<td [^>]*>.*?<\/td>/g)].map((m) => m[0]);
    expect(cells(h2)).toEqual(cells(html));
    // image: 3 rows (m2ib P1, P2, gradcam) × (5 outputs + runtime); text: 2 rows × (2 + runtime); paper image: 2 × 6
    expect(cells(h2).length).toBe(18 + 6 + 12);
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
    const m = html.match(/<td class="num" data-key="localisation\.pointing" data-chance="1"[^>]*>([^<]*)<\/td>/);
    expect(m?.[1]).toBe('0.3');
    expect(html).toContain('<tr class="chance">');
    // Without chance values there is no such row.
    expect(await renderReport(readRun(dir))).not.toContain('<tr class="chance">');
  });
});
