/**
 * Map bounding boxes from original image pixels into the size x size model input produced by
 * clipPreprocess (the same shortest-side resize and centre crop, via clipGeometry).
 */
import { CLIP_SIZE, clipGeometry } from './preprocess';

/** Axis-aligned box: top-left corner (x, y) and size (w, h), in pixels. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Scale by the exact per-axis resize factors (resized / original), shift by the crop offset,
 * then clip to [0, size]. Returns null when nothing of positive area is left inside the crop.
 */
export function mapBoxToModel(
  box: Box,
  original: { width: number; height: number },
  size = CLIP_SIZE,
): Box | null {
  for (const k of ['x', 'y', 'w', 'h'] as const) {
    if (!Number.isFinite(box[k])) throw new RangeError(`mapBoxToModel: box.${k} must be a finite number, got ${box[k]}`);
  }
  if (box.w < 0 || box.h < 0) throw new RangeError(`mapBoxToModel: box size must be non-negative, got w=${box.w} h=${box.h}`);
  const g = clipGeometry(original.width, original.height, size);
  const sx = g.resizedW / original.width;
  const sy = g.resizedH / original.height;
  const x0 = Math.max(0, box.x * sx - g.left);
  const y0 = Math.max(0, box.y * sy - g.top);
  const x1 = Math.min(size, (box.x + box.w) * sx - g.left);
  const y1 = Math.min(size, (box.y + box.h) * sy - g.top);
  if (!(x1 > x0) || !(y1 > y0)) return null;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}
