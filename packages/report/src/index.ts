export * from './types';
export { readRun, readRuns, readJsonl, expandRunDirs, summarize, countFailures, recordIdentity, type SummarizeOptions } from './results';
export { renderReport, writeReport, meanCurve, type RenderOptions } from './render';
export { formatSummaryTable } from './text-table';
export { esc as escapeHtml, fmt as formatNumber, fmtCI as formatCI, M2IB_SIGMA2_NOTE } from './format';
export { decodeNpy, encodeNpy } from './npy';
export { barSpec, lineSpec, renderSvg } from './charts';
