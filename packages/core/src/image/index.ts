export type { RgbImage } from './types';
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
export { mapBoxToModel, type Box } from './boxes';
export { heatmapOverlayPng, mapToPng, type Colormap, type HeatmapOverlayOptions } from './heatmap';
