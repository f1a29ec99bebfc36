export * from './types';
export * from '@ceb/random';
export { checkImage, fileExists, mapPool, type ImageCheck } from './image';
export {
  readCcTsv,
  loadConceptualCaptions,
  urlCacheKey,
  classifyCcUrl,
  readCacheIndex,
  readFailures,
  MANIFEST_FILE,
  FAILURES_FILE,
  type CcRow,
  type ReadCcOptions,
  type CcLoadOptions,
  type CcLocation,
} from './cc';
export { fetchCc, type FetchCcOptions, type FetchCcSummary, type FetchFailure, type ManifestEntry } from './fetch-cc';
export {
  loadMsCxr,
  msCxrSampleId,
  patientIdFromPath,
  MSCXR_COLUMNS,
  MSCXR_OPTIONAL_COLUMNS,
  type MsCxrLoadOptions,
} from './mscxr';
export { split, type Split, type SplitBy, type SplitOptions } from './split';
export * from './synthetic';
export { createDataCommand } from './cli';
