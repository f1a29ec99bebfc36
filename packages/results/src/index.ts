// @ceb/results: the run folder's format in one place (docs/results-format.md). No tfjs.
export * from './types';
export * from './layout';
export * from './identity';
export { readJsonl, readJsonlLines, jsonLine, appendJsonl, dropUnfinishedTail } from './jsonl';
export { decodeNpy, encodeNpy } from './npy';
export { readRun, readRuns } from './read';
export { RunStore, removeKeptMaps, lockRunFolder, type RunStoreOptions } from './store';
export { RunLock, RunLockedError, describeHolder, LOCK_REFRESH_MS, LOCK_STALE_MS, type LockHolder, type LockOptions } from './lock';
export { summarize, countFailures, pointsBySide, type RunSummary, type SummarizeOptions } from './summary';
export { ALPHA, compareFamily, declared, SampleValues, type FamilyRow, type ComparisonFamily, type CompareOptions, type Contender, type FamilySpec, type PairedTest, type PairedTestName } from './compare';
export { headlineKeys, meanLookup, rankMethods, selectPoints, type RankedContender, type SelectedPoint, type SideRanking } from './ranks';
export { poissonBinomialPmf, poissonBinomialTest } from './chance';
export { rawTokenValues, type RawTokenValues } from './raw-tokens';
