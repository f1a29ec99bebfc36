// @ceb/results: the run folder's format in one place (docs/results-format.md). No tfjs.
export * from './types';
export * from './layout';
export * from './identity';
export { readJsonl, readJsonlLines, jsonLine, appendJsonl, dropUnfinishedTail } from './jsonl';
export { decodeNpy, encodeNpy } from './npy';
export { readRun, readRuns } from './read';
export { RunStore, removeKeptMaps } from './store';
export { summarize, countFailures, type SummarizeOptions } from './summary';
