/**
 * Map bounding boxes from original image pixels into the size x size model input produced by
 * clipPreprocess (the same shortest-side resize and centre crop, via clipGeometry).
 */
import type { Box } from '@ceb/types';
import { CLIP_SIZE, clipGeometry } from './preprocess';

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
  // Multiply before dividing so integer coordinates that land on whole pixels stay exact
  // (50 * 336 / 300 = 56, whereas 50 * (336 / 300) = 56.00000000000001).
  const sx = (v: number): number => (v * g.resizedW) / original.width;
  const sy = (v: number): number => (v * g.resizedH) / original.height;
  const x0 = Math.max(0, sx(box.x) - g.left);
  const y0 = Math.max(0, sy(box.y) - g.top);
  const x1 = Math.min(size, sx(box.x + box.w) - g.left);
  const y1 = Math.min(size, sy(box.y + box.h) - g.top);
  if (!(x1 > x0) || !(y1 > y0)) return null;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}
