/**
 * The report of the sweep fixture (@ceb/results/testing, writeSweepRunDir): significance marks
 * worked out by hand from the fixture's values, the CD diagram, heat maps over the swept
 * options, the threshold chart, no internal curve, the gallery's text display, and the
 * Markdown, LaTeX and CSV exports read back by independent parsers (markdown-it, csv-parse,
 * pdflatex).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRun } from '@ceb/results';
import { BEST_POINT, M2IB_CAPACITY, SWEEP_SAMPLES, writeSweepRunDir } from '@ceb/results/testing';
import { buildModel, parseFormats, renderCsv, renderLatex, renderMarkdown, renderReport, writeReports, type ReportModel } from '../src/index';

let root: string;
let dir: string;
let html: string;
let model: ReportModel;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ceb-sweep-report-'));
  dir = await writeSweepRunDir(join(root, 'run'));
  model = buildModel(readRun(dir));
  html = await renderReport(readRun(dir), { summary: model.summary });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** P(X ≤ k) for X ~ Bin(n, p), summed term by term. */
function binomCdf(k: number, n: number, p: number): number {
  let s = 0;
  let c = 1;
  for (let i = 0; i <= k; i++) {
    s += c * p ** i * (1 - p) ** (n - i);
    c = (c * (n - i)) / (i + 1);
  }
  return s;
}

const paperRow = (side: string, method: string): string => {
  const t = html.slice(html.indexOf(`id="paper-${side}"`), html.indexOf('</table>', html.indexOf(`id="paper-${side}"`)));
  return /<tr data-method="([^"]+)"[\s\S]*?<\/tr>/g.exec(t.slice(t.indexOf(`<tr data-method="${method}"`)))![0];
};
const markOf = (row: string, key: string) => new RegExp(`data-key="${key.replace(/[.]/g, '\\.')}" data-mark="([a-z]+)"`).exec(row)?.[1];

describe('significance marks, worked out from the fixture', () => {
  // Pointing hits where ((3i) mod 10)/10 < q: m2ib (q .9) and gradcam (q .85) miss only at i = 3,
  // random (q .1) hits only at i = 0. m2ib vs random: 8 pairs where m2ib alone hits, none the
  // other way → exact McNemar 2/2^8; gradcam: no discordant pair → 1. Holm over the two: 4/256, 1.
  it('pointing: m2ib best at its best point, gradcam ties it (both best), random worse', () => {
    const f = model.summary.comparisons!.find((x) => x.family === 'methods' && x.side === 'image' && x.key === 'localisation.pointing')!;
    const [m2ib, gradcam, random] = f.rows;
    expect(m2ib).toMatchObject({ method: 'm2ib', point: BEST_POINT, best: true });
    expect(gradcam.vsBest).toMatchObject({ test: 'mcnemar', b: 0, c: 0, pValue: 1 });
    expect(random.vsBest).toMatchObject({ test: 'mcnemar', b: 0, c: 8 });
    expect(random.vsBest!.pHolm).toBeCloseTo(4 / 256, 15);
    expect(markOf(paperRow('image', 'm2ib'), 'localisation.pointing')).toBe('best');
    expect(markOf(paperRow('image', 'gradcam'), 'localisation.pointing')).toBe('best');
    // energy: gradcam's mean 0.51 < 0.54 with a mixed wobble → not significantly different
    expect(markOf(paperRow('image', 'gradcam'), 'localisation.energy')).toBe('tied');
    expect(markOf(paperRow('image', 'random'), 'localisation.pointing')).toBe('worse');
    expect(paperRow('image', 'm2ib')).toMatch(/data-key="localisation\.pointing" data-mark="best"[^>]*><b>0\.90 ± /);
    expect(paperRow('image', 'gradcam')).toMatch(/data-key="localisation\.pointing" data-mark="best"[^>]*><b>0\.90 ± /);
    expect(paperRow('image', 'gradcam')).toMatch(/data-key="localisation\.energy" data-mark="tied"[^>]*><u>0\.51\d* ± /);
  });

  it('against chance (¼ per sample): random\'s 1 hit of 10 is not significant, m2ib\'s 9 of 10 is', () => {
    const f = model.summary.comparisons!.find((x) => x.family === 'methods' && x.side === 'image' && x.key === 'localisation.pointing')!;
    const [m2ib, , random] = f.rows;
    const pRandom = Math.min(1, 2 * binomCdf(1, 10, 0.25));
    const pM2ib = Math.min(1, 2 * (1 - binomCdf(8, 10, 0.25)));
    expect(random.vsChance!.pValue).toBeCloseTo(pRandom, 12);
    expect(m2ib.vsChance!.pValue).toBeCloseTo(pM2ib, 12);
    // Holm over three: m2ib and gradcam (the same hits) ×3 and ×2 → both 3·p; random ×1.
    expect(m2ib.vsChance!.pHolm).toBeCloseTo(3 * pM2ib, 12);
    expect(random.vsChance!.pHolm).toBeCloseTo(pRandom, 12);
    expect(paperRow('image', 'random')).toMatch(/data-key="localisation\.pointing" data-mark="worse" data-at-chance="1"/);
    expect(paperRow('image', 'm2ib')).not.toMatch(/data-key="localisation\.pointing"[^>]*data-at-chance/);
  });

  it('the m2ib row names its point and how many it was chosen from', () => {
    expect(paperRow('image', 'm2ib')).toContain('layer 9, beta 1 · best of 4 points');
    expect(paperRow('text', 'm2ib')).toContain('beta 1 · best of 2 points');
  });
});

describe('ranks, sweeps, charts', () => {
  it('the CD diagram ranks m2ib, gradcam, random, with the Friedman test and the blocks named', () => {
    const r = model.summary.ranks!.find((x) => x.side === 'image')!;
    expect(r.contenders.map((c) => c.method)).toEqual(['m2ib', 'gradcam', 'random']);
    expect(r.contenders[0].averageRank).toBeLessThan(r.contenders[1].averageRank);
    expect(r.contenders[2].averageRank).toBe(3); // worst on every block
    expect(r.blocks.map((b) => b.key)).toEqual(['confidence-m2ib.drop', 'confidence-m2ib.increase', 'localisation.pointing', 'localisation.energy', 'localisation.miou', 'insertion-deletion.insertion', 'insertion-deletion.deletion']);
    expect((html.match(/class="chart cd-chart"/g) ?? []).length).toBe(2);
    expect(html).toContain('Friedman χ²(2) = ');
    expect(html).toContain('Blocks (each output ranked by its direction, 1 = best): confidence-m2ib.drop ↓');
  });

  it('a heat map per headline output over layer × beta, the best point outlined; beta alone on the text side', () => {
    expect(html).toContain('m2ib, image side: 4 points over layer × beta');
    expect(html).toContain('m2ib, text side: 2 points over beta</h3>');
    // 7 headline outputs on the image side, 4 outputs on the text side; the IoU thresholds get none
    expect((html.match(/class="chart sweep-heatmap"/g) ?? []).length).toBe(11);
    const specs = [...html.matchAll(/<figure class="chart sweep-heatmap"[\s\S]*?<script type="application\/json" class="vega-spec">(.*?)<\/script>/g)].map((m) => m[1]);
    const pointing = specs.find((s) => s.includes('"title":"pointing ↑"'))!;
    expect(pointing).toMatch(new RegExp(`"point":"${BEST_POINT}"[^}]*"outline":"best"`));
  });

  it('one chart for the IoU thresholds, no bar chart per threshold, and the internal curve never drawn', () => {
    expect((html.match(/class="chart threshold-chart"/g) ?? []).length).toBe(1);
    expect(html).not.toMatch(/<b>localisation · iou@0\.\d+/);
    expect(html).not.toMatch(/counts curve|units removed or restored/);
    // The drawn curves are the score curves (values in [0, 1]); the internal one goes up to 12000.
    const curveSpecs = [...html.matchAll(/<figure class="chart curve-chart"[\s\S]*?<script type="application\/json" class="vega-spec">(.*?)<\/script>/g)].map((m) => JSON.parse(m[1]));
    const ys = curveSpecs.flatMap((s) => s.data.flatMap((d: { values?: { y: number }[] }) => (d.values ?? []).map((v) => v.y)));
    expect(ys.length).toBeGreaterThan(0);
    expect(Math.max(...ys)).toBeLessThanOrEqual(1);
    expect((html.match(/class="chart curve-chart"/g) ?? []).length).toBe(4); // insertion + deletion, both sides
  });
});

describe('the text display', () => {
  it("M2IB's tokens are shaded by the capacity scaled over the caption, with the raw nats and the score on hover", () => {
    const cap = html.match(/<figcaption data-method="m2ib">(.*?)<\/figcaption>/)![1];
    // capacities 2.5, 6, 4 nats over the caption → 0, 1, (4 − 2.5)/3.5
    const alphas = [...cap.matchAll(/rgba\(230,85,13,([\d.]+)\)/g)].map((m) => Number(m[1]));
    expect(alphas).toEqual([0, 1, Number(((4 - 2.5) / 3.5).toFixed(3))]);
    expect(cap).toContain(`title="capacity 6 nats · score ${Number(((M2IB_CAPACITY[2] - 0.5) / 99.5).toPrecision(4))} · shown 1.00"`);
    expect(html).toContain("The metrics read the methods' scores unchanged.");
  });
});

describe('exports', () => {
  it('Markdown: per side a GFM table with one row per method, marks as bold / <ins>', () => {
    const md = renderMarkdown(model);
    const tokens = new MarkdownIt({ html: true }).parse(md, {});
    const tables = tokens.filter((t) => t.type === 'table_open').length;
    expect(tables).toBe(2);
    // rows of each tbody: open/close pairs between tbody_open and tbody_close
    const bodies: string[][] = [];
    let cur: string[] | undefined;
    let cells: string[] = [];
    for (const t of tokens) {
      if (t.type === 'tbody_open') cur = [];
      else if (t.type === 'tbody_close') (bodies.push(cur!), (cur = undefined));
      else if (cur && t.type === 'tr_open') cells = [];
      else if (cur && t.type === 'inline') cells.push(t.content);
      else if (cur && t.type === 'tr_close') cur.push(cells[0]);
    }
    expect(bodies).toEqual([['m2ib (layer 9, beta 1)', 'gradcam', 'random'], ['m2ib (beta 1)', 'gradcam', 'random']]);
    expect(md).toMatch(/\| m2ib \(layer 9, beta 1\) \| \*\*1\.0\d* ± [\d.]+\*\* \|/);
    expect(md).toContain('*Chance (a map that knows nothing): pointing 0.25, energy 0.1.*');
  });

  it('CSV: one row per method × side × point × output with mean, CI, n and p-values', () => {
    const rows = parse(renderCsv(model), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(model.summary.rows.length);
    expect(rows.filter((r) => r.method === 'm2ib' && r.side === 'image').map((r) => r.point)).toContain(BEST_POINT); // quoted: it holds a comma
    const random = rows.find((r) => r.method === 'random' && r.side === 'image' && r.output === 'pointing')!;
    expect(Number(random.mean)).toBeCloseTo(0.1, 12);
    expect(Number(random.n)).toBe(SWEEP_SAMPLES.length);
    expect(random.test).toBe('mcnemar');
    expect(Number(random.p_holm)).toBeCloseTo(4 / 256, 12);
    expect(random.tied_with_best_method).toBe('false');
    const worst = rows.find((r) => r.method === 'm2ib' && r.side === 'image' && r.point === 'layer=7,beta=0.1' && r.output === 'pointing')!;
    expect(worst.selected_point).toBe('false');
    expect(worst.p_holm).toBe(''); // not in the methods family: the sweep family has its p
    expect(Number(worst.p_vs_best_point_holm)).toBeGreaterThan(0);
    for (const r of rows) expect(Number(r.ci_low)).toBeLessThanOrEqual(Number(r.ci_high));
  });

  const pdflatex = spawnSync('pdflatex', ['--version']).status === 0;
  if (!pdflatex) console.warn("LaTeX export test skipped: no pdflatex (install Debian's texlive-latex-base and texlive-latex-recommended; .ci/run does)");
  it.skipIf(!pdflatex)('LaTeX: the document compiles with pdflatex; bold best, underlined ties, a caption naming model, data, samples, protocol', () => {
    const tex = renderLatex(model);
    expect(tex).toContain('\\textbf{');
    expect(tex).toContain('\\underline{');
    expect(tex).toMatch(/\\caption\{Image side\. Model models\/synth-clip; data synthetic \(mscxr\) split test; 10 samples\. .*confidence-m2ib: m2ib protocol/);
    const d = mkdtempSync(join(root, 'tex-'));
    writeFileSync(join(d, 'report.tex'), tex);
    execFileSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'report.tex'], { cwd: d, stdio: 'pipe', timeout: 60_000 });
    expect(existsSync(join(d, 'report.pdf'))).toBe(true);
    expect(readFileSync(join(d, 'report.log'), 'utf8')).not.toMatch(/^! /m);
  });

  it('--format: a comma-separated list of known formats', () => {
    expect(parseFormats('html, latex,csv,latex')).toEqual(['html', 'latex', 'csv']);
    expect(() => parseFormats('html,pdf')).toThrow('--format: unknown format "pdf"; expected a comma-separated list of html, markdown, latex, csv');
    expect(() => parseFormats(' , ')).toThrow(/no format given/);
  });

  it('writeReports writes every format next to report.html', async () => {
    const files = await writeReports([dir], { formats: ['html', 'markdown', 'latex', 'csv'], interactive: false });
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['report.html', 'report.md', 'report.tex', 'report.csv']);
  });
});
