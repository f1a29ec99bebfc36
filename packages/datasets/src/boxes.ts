import type { Box, ImageSize } from './types';

/** A box that does not fit its image: the column to blame and why. */
export interface BoxProblem {
  column: string;
  reason: string;
}

/** The box of inclusive corners (x1, y1 are the last pixel column and row inside it). */
export function boxFromInclusiveCorners(x0: number, y0: number, x1: number, y1: number): Box {
  return { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/** The inclusive corners [x0, y0, x1, y1] of a box: the inverse of boxFromInclusiveCorners. */
export function inclusiveCorners(box: Box): [number, number, number, number] {
  return [box.x, box.y, box.x + box.w - 1, box.y + box.h - 1];
}

/** Checks an inclusive-corner box (x1, y1 are the last pixel column and row inside it). */
export function inclusiveCornerBoxProblem(x0: number, y0: number, x1: number, y1: number, size: ImageSize): BoxProblem | undefined {
  if (x0 < 0) return { column: 'x0', reason: `expected x0 ≥ 0 (the box's left edge inside the image), found ${x0}` };
  if (y0 < 0) return { column: 'y0', reason: `expected y0 ≥ 0 (the box's top edge inside the image), found ${y0}` };
  if (x1 < x0) return { column: 'x1', reason: `empty box: x1 = ${x1} is left of x0 = ${x0} (x1 is inclusive: expected x1 ≥ x0)` };
  if (y1 < y0) return { column: 'y1', reason: `empty box: y1 = ${y1} is above y0 = ${y0} (y1 is inclusive: expected y1 ≥ y0)` };
  if (x1 >= size.width) {
    return { column: 'x1', reason: `box ends past the image's right edge: x1 = ${x1} (inclusive), image width ${size.width} (expected x1 ≤ ${size.width - 1})` };
  }
  if (y1 >= size.height) {
    return { column: 'y1', reason: `box ends past the image's bottom edge: y1 = ${y1} (inclusive), image height ${size.height} (expected y1 ≤ ${size.height - 1})` };
  }
  return undefined;
}

/**
 * Checks that an (x, y, w, h) box whose w and h are already known positive lies inside
 * the image it belongs to (columns named as in MS-CXR: x, y, w, h, image_width, image_height).
 */
export function xywhBoxProblem(box: Box, size: ImageSize): BoxProblem | undefined {
  const { x, y, w, h } = box;
  if (x < 0) return { column: 'x', reason: `expected x ≥ 0 (the box's left edge inside the image), found ${x}` };
  if (y < 0) return { column: 'y', reason: `expected y ≥ 0 (the box's top edge inside the image), found ${y}` };
  if (x + w > size.width) {
    return {
      column: 'w',
      reason: `box ends past the image's right edge: x + w = ${x} + ${w} = ${x + w} > image_width ${size.width} (expected x + w ≤ image_width)`,
    };
  }
  if (y + h > size.height) {
    return {
      column: 'h',
      reason: `box ends past the image's bottom edge: y + h = ${y} + ${h} = ${y + h} > image_height ${size.height} (expected y + h ≤ image_height)`,
    };
  }
  return undefined;
}
