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
  SKIPPED_FILE,
  type CcRow,
  type ReadCcOptions,
  type CcLoadOptions,
  type CcLocation,
} from './cc';
export {
  fetchCc,
  type FetchCcOptions,
  type FetchCcSummary,
  type FetchFailure,
  type ManifestEntry,
  type SkippedRow,
  type SkipKind,
} from './fetch-cc';
export { resolveInside, type Confined } from './confine';
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
export {
  loadTinyImageNet,
  tinyImageNetCaption,
  generateTinyImageNetStandIn,
  TINY_IMAGENET_FILES,
  TINY_IMAGENET_SIZE,
  TINY_IMAGENET_PROMPT,
  type TinyImageNetLoadOptions,
  type TinyImageNetLoadResult,
  type TinyImageNetClass,
  type TinyImageNetCaption,
  type TinyImageNetStandInOptions,
  type TinyImageNetStandIn,
} from './tiny-imagenet';
export {
  loadFlickr8k,
  chooseCaptions,
  nibReferenceIndex,
  generateFlickr8kStandIn,
  FLICKR8K_FILES,
  type Flickr8kLoadOptions,
  type Flickr8kSplit,
  type CaptionScorer,
  type ChooseCaptionsOptions,
  type Flickr8kStandInOptions,
  type Flickr8kStandIn,
} from './flickr8k';
export { createDataCommand } from './cli';
