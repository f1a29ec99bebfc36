// @ceb/report: the HTML report of a run folder (and the terminal's summary table). No tfjs.
export { renderReport, writeReport, meanCurve, type RenderOptions } from './render';
export { formatSummaryTable } from './text-table';
export { esc as escapeHtml, fmt as formatNumber, fmtCI as formatCI } from './format';
export { barSpec, lineSpec, renderSvg } from './charts';
export { heatmapOverlayPng, mapToPng, type Colormap, type HeatmapOverlayOptions } from './heatmap';
export { compareWithPublished, comparisonSection, formatComparison, type ComparedRow, type ComparedCell } from './published';
