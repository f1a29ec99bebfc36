/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Opens report.html from disk in headless Chromium with the network off and checks what a
 * reader sees: the table, charts with a real size, images decoded. Saves a screenshot to
 * packages/report/test-output/report.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { writeReport } from '../src/index';
import { writeRunDir } from '@ceb/results/testing';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(executablePath);
if (!haveChromium) {
  console.warn(`browser test skipped: no Chromium at ${executablePath} (install Debian's "chromium" or set CHROMIUM_PATH)`);
}
const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');

describe.skipIf(!haveChromium)('report.html in headless Chromium, offline', () => {
  const root = mkdtempSync(join(tmpdir(), 'ceb-report-browser-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('shows the table, non-empty charts and loaded images, with no network request', async () => {
    const dir = await writeRunDir(join(root, 'run'));
    const file = await writeReport([dir]);
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
      const failed: string[] = [];
      page.on('requestfailed', (r) => failed.push(r.url()));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

      const facts = await page.evaluate(() => {
        const table = document.querySelector('#main-table');
        const svgs = [...document.querySelectorAll('svg')].map((s) => {
          const r = s.getBoundingClientRect();
          return { w: r.width, h: r.height, marks: s.querySelectorAll('path, rect, line').length };
        });
        const imgs = [...document.querySelectorAll('img')].map((i) => ({ complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, shownW: i.getBoundingClientRect().width }));
        return {
          tableRows: table ? table.querySelectorAll('tbody tr').length : -1,
          bestCells: table ? table.querySelectorAll('td.best').length : -1,
          svgs,
          imgs,
          scripts: document.querySelectorAll('script').length,
        };
      });
      expect(facts.tableRows).toBe(2);
      expect(facts.bestCells).toBeGreaterThan(0);
      expect(facts.svgs.length).toBe(13);
      for (const s of facts.svgs) {
        expect(s.w).toBeGreaterThan(0);
        expect(s.h).toBeGreaterThan(0);
        expect(s.marks).toBeGreaterThan(0);
      }
      // 2 inputs + 2 samples x 2 methods overlays
      expect(facts.imgs.length).toBe(6);
      for (const i of facts.imgs) {
        expect(i.complete).toBe(true);
        expect(i.w).toBe(8);
        expect(i.shownW).toBeGreaterThan(0);
      }
      expect(facts.scripts).toBe(0);
      expect(nonFile).toEqual([]);
      expect(failed).toEqual([]);

      mkdirSync(outDir, { recursive: true });
      await page.screenshot({ path: join(outDir, 'report.png'), fullPage: true });
      expect(existsSync(join(outDir, 'report.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
