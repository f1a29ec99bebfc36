export { decodeImage } from './decode';
export { resizeBicubicPIL } from './resample-pil';
export {
  CLIP_MEAN,
  CLIP_STD,
  CLIP_SIZE,
  clipGeometry,
  clipPreprocess,
  loadAndPreprocess,
  type ClipGeometry,
  type ClipPreprocessOptions,
  type ClipPreprocessResult,
} from './preprocess';
export { mapBoxToModel } from './boxes';
