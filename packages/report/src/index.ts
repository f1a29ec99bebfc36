// @ceb/report: the HTML report of a run folder, its paper tables (Markdown, LaTeX, CSV) and the terminal table. No tfjs.
export { renderReport, writeReport, writeReports, parseFormats, REPORT_FORMATS, type RenderOptions, type ReportFormat } from './render';
export { meanCurve } from './details';
export { buildModel, type ReportModel } from './model';
export { renderCsv, renderLatex, renderMarkdown, latexText } from './export';
export { formatSummaryTable } from './text-table';
export { esc as escapeHtml, fmt as formatNumber, fmtCI as formatCI, fmtPm as formatPm } from './format';
export { barSpec, lineSpec, renderSvg, renderChart } from './charts';
export { heatmapOverlayPng, mapToPng, type Colormap, type HeatmapOverlayOptions } from './heatmap';
export { compareWithPublished, comparisonSection, formatComparison, type ComparedRow, type ComparedCell } from './published';
