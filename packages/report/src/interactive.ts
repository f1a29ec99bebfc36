/**
 * Tooltips without a network: vega's browser build and vega-tooltip's handler are inlined into
 * the page, and each chart's static SVG is swapped for a live vega view the first time the
 * pointer enters it (so opening the page costs only parsing the script). Without JavaScript the
 * static SVG stays. Cost measured in docs/report.md.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** A package's file, found next to its entry point (the exports map hides package.json). */
function packageFile(pkg: string, file: string): string {
  const path = join(dirname(require.resolve(pkg)), file);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`the report inlines ${pkg}'s ${file} and cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * vega-tooltip ships only an ES module that imports three helpers from vega-util; vega's
 * browser build exports the same helpers, so the module becomes a plain script over `vega`.
 */
function tooltipScript(): string {
  const src = packageFile('vega-tooltip', 'index.js');
  const importLine = "import { isArray, isString, isObject } from 'vega-util';";
  const exportLine = /^export \{[^}]*\bHandler\b[^}]*\};$/m;
  if (!src.includes(importLine) || !exportLine.test(src)) {
    throw new Error(`vega-tooltip's build/index.js no longer has the import and export lines the report rewrites (import: "${importLine}"); pin vega-tooltip 1.1.0 or update interactive.ts`);
  }
  const body = src.replace(importLine, 'const { isArray, isString, isObject } = vega;').replace(exportLine, 'window.vegaTooltip = { Handler };').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  return `(function(){${body}\n})();`;
}

/** Swap a figure's static SVG for a live view on first pointer entry; tooltips from vega-tooltip. */
const BOOT = `(function(){
  if (!window.vega || !window.vegaTooltip) return;
  var handler = new vegaTooltip.Handler({ theme: 'light', offsetX: 12, offsetY: 12 });
  function live(fig) {
    if (fig.getAttribute('data-live')) return;
    fig.setAttribute('data-live', 'pending');
    var staticSvg = fig.querySelector(':scope > svg');
    var specNode = fig.querySelector(':scope > script.vega-spec');
    if (!staticSvg || !specNode) return;
    var holder = document.createElement('div');
    holder.className = 'vega-live';
    fig.insertBefore(holder, staticSvg);
    holder.style.display = 'none';
    var view = new vega.View(vega.parse(JSON.parse(specNode.textContent)), { renderer: 'svg', container: holder, hover: true });
    view.tooltip(handler.call);
    view.runAsync().then(function () {
      holder.style.display = '';
      staticSvg.remove();
      fig.setAttribute('data-live', 'done');
    }, function (e) {
      holder.remove();
      fig.setAttribute('data-live', 'failed');
      console.warn('chart left static: ' + e);
    });
  }
  document.querySelectorAll('figure[data-vega]').forEach(function (fig) {
    fig.addEventListener('pointerenter', function () { live(fig); });
  });
})();`;

let cached: string | undefined;

/** The <script> elements the page ends with (vega ≈ 0.5 MB minified; read once per process). */
export function interactiveScripts(): string {
  cached ??= [packageFile('vega', 'vega.min.js'), tooltipScript(), BOOT].map((s) => `<script>${s}</script>`).join('\n');
  return cached;
}
