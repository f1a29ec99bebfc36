/**
 * What the inlined vega runtime costs (docs/report.md): the report of a run folder rendered with
 * and without it, its size, the time Chromium takes to load each (median of --runs), and the
 * time from the first hover to a live chart.
 *   npx tsx packages/report/scripts/runtime-cost.ts RUN_DIR [--runs 5]
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { readRuns } from '@ceb/results';
import { buildModel, renderReport } from '../src/index';

const [dir, ...rest] = process.argv.slice(2);
if (!dir) throw new Error('usage: runtime-cost.ts RUN_DIR [--runs N]');
const runs = Number(rest[rest.indexOf('--runs') + 1] ?? 5) || 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const run = readRuns([dir]);
const t0 = performance.now();
const model = buildModel(run);
const tSummary = performance.now() - t0;
const files: Record<string, string> = {};
// Each rendered twice, the second timed: the first pays for compiling vega and vega-lite.
for (const interactive of [true, false]) {
  await renderReport(run, { interactive, summary: model.summary });
  const t = performance.now();
  const html = await renderReport(run, { interactive, summary: model.summary });
  const file = join(dir, interactive ? 'cost-interactive.html' : 'cost-static.html');
  writeFileSync(file, html);
  files[String(interactive)] = file;
  console.log(`${interactive ? 'with' : 'without'} the runtime: ${(statSync(file).size / 1024).toFixed(0)} KiB, rendered in Node in ${(performance.now() - t).toFixed(0)} ms (+ summary ${tSummary.toFixed(0)} ms)`);
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  for (const interactive of [true, false]) {
    const loads: number[] = [];
    const lives: number[] = [];
    for (let i = 0; i < runs; i++) {
      const page = await (await browser.newContext({ offline: true, viewport: { width: 1400, height: 900 } })).newPage();
      const t = performance.now();
      await page.goto(pathToFileURL(files[String(interactive)]).href, { waitUntil: 'load' });
      loads.push(performance.now() - t);
      if (interactive) {
        const fig = page.locator('figure.overview-chart').first();
        const h = performance.now();
        await fig.hover({ position: { x: 5, y: 5 } });
        await page.waitForSelector('figure.overview-chart[data-live="done"]');
        lives.push(performance.now() - h);
      }
      await page.context().close();
    }
    console.log(`${interactive ? 'with' : 'without'} the runtime: load ${median(loads).toFixed(0)} ms (median of ${runs})${interactive ? `; first hover to a live overview chart ${median(lives).toFixed(0)} ms` : ''}`);
  }
} finally {
  await browser.close();
}
