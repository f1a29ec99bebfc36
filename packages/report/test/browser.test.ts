/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Opens the report of the sweep fixture from disk in headless Chromium with the network off
 * and checks what a reader sees: the significance marks, the CD diagram, a sweep heat map, a
 * tooltip on hover (vega's inlined runtime), M2IB's caption tokens visibly coloured, images
 * decoded, no console error, no request beyond the file. Saves a screenshot to
 * packages/report/test-output/report.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { chromium, type Page } from 'playwright-core';
import { writeReport } from '../src/index';
import { writeSweepRunDir } from '@ceb/results/testing';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(executablePath);
if (!haveChromium) {
  console.warn(`browser test skipped: no Chromium at ${executablePath} (install Debian's "chromium" or set CHROMIUM_PATH)`);
}
const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');

/** What the static page shows before any script swapped a chart. */
function staticFacts(page: Page) {
  return page.evaluate(() => {
    const table = document.querySelector('#paper-image');
    const cells = [...(table?.querySelectorAll('td[data-mark]') ?? [])].map((td) => ({
      mark: td.getAttribute('data-mark'),
      bold: getComputedStyle(td.querySelector('b') ?? td).fontWeight,
      underline: td.querySelector('u') ? getComputedStyle(td.querySelector('u')!).textDecorationLine : '',
    }));
    const fig = (cls: string) => [...document.querySelectorAll(`figure.${cls}`)].map((f) => {
      const s = f.querySelector('svg')!.getBoundingClientRect();
      return { w: s.width, h: s.height, marks: f.querySelectorAll('svg path, svg rect, svg line').length, text: f.querySelector('svg')!.textContent ?? '' };
    });
    const tokens = [...document.querySelectorAll('figcaption[data-method="m2ib"] span.tok')].map((t) => {
      const m = /rgba?\(([^)]+)\)/.exec(getComputedStyle(t).backgroundColor);
      const parts = m ? m[1].split(',').map(Number) : [];
      return parts.length === 4 ? parts[3] : parts.length === 3 ? 1 : 0;
    });
    const imgs = [...document.querySelectorAll('img')].map((i) => ({ complete: i.complete, w: i.naturalWidth }));
    return { rows: table?.querySelectorAll('tbody tr[data-method]').length ?? -1, cells, cd: fig('cd-chart'), heat: fig('sweep-heatmap'), tokens, imgs, width: document.documentElement.scrollWidth };
  });
}

describe.skipIf(!haveChromium)('report.html in headless Chromium, offline', () => {
  const root = mkdtempSync(join(tmpdir(), 'ceb-report-browser-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('shows the marks, the CD diagram, heat maps, coloured caption tokens, and a tooltip on hover, with no console error or request', async () => {
    const file = await writeReport([await writeSweepRunDir(join(root, 'run'))]);
    const browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const context = await browser.newContext({ offline: true, viewport: { width: 1400, height: 900 } });
      const nonFile: string[] = [];
      await context.route('**', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
        nonFile.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

      const f = await staticFacts(page);
      expect(f.rows).toBe(3);
      const marks = new Set(f.cells.map((c) => c.mark));
      expect([...marks].sort()).toEqual(['best', 'tied', 'worse']);
      for (const c of f.cells.filter((x) => x.mark === 'best')) expect(Number(c.bold)).toBeGreaterThanOrEqual(600);
      for (const c of f.cells.filter((x) => x.mark === 'tied')) expect(c.underline).toBe('underline');
      expect(f.cd).toHaveLength(2);
      expect(f.cd[0].text).toContain('m2ib');
      expect(f.cd[0].text).toContain('CD = ');
      expect(f.heat.length).toBe(11);
      for (const s of [...f.cd, ...f.heat]) {
        expect(s.w).toBeGreaterThan(0);
        expect(s.h).toBeGreaterThan(0);
        expect(s.marks).toBeGreaterThan(0);
      }
      // M2IB's tokens: one fully coloured, one blank, one between (capacity scaled over the caption)
      expect(f.tokens.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...f.tokens)).toBeGreaterThan(0.9);
      expect(new Set(f.tokens.map((a) => a.toFixed(2))).size).toBeGreaterThanOrEqual(3);
      for (const i of f.imgs) expect(i).toMatchObject({ complete: true, w: 8 });
      expect(f.width).toBeLessThanOrEqual(1400);

      // Hover the CD diagram: its static SVG becomes a live view; hovering a method's point shows the tooltip.
      const cd = page.locator('figure.cd-chart').first();
      await cd.scrollIntoViewIfNeeded();
      await cd.hover({ position: { x: 5, y: 5 } });
      await page.waitForSelector('figure.cd-chart[data-live="done"]', { timeout: 10_000 });
      const point = cd.locator('.vega-live g.mark-symbol path').first();
      await point.hover({ force: true });
      const tip = page.locator('#vg-tooltip-element.visible');
      await tip.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await tip.textContent()).toMatch(/average rank/);

      expect(problems).toEqual([]);
      expect(nonFile).toEqual([]);
      mkdirSync(outDir, { recursive: true });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(outDir, 'report.png'), fullPage: true });
      expect(existsSync(join(outDir, 'report.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
