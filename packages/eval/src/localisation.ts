// Localisation against boxes in model input pixels (image side only).
// A pixel (row r, column c) is inside a box when its centre (c + ½, r + ½) lies in
// [x, x + w] × [y, y + h]; the "box region" is the union of the boxes.
import type { Box } from '@ceb/types';
import { checkImageMap } from './perturb';
import { resolveParams, type MetricResult, type PairMetric } from './types';

export const IOU_THRESHOLDS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] as const;

/** The union of boxes as a 0/1 mask of size×size. */
export function boxMask(boxes: readonly Box[], size: number): Uint8Array {
  const m = new Uint8Array(size * size);
  for (const b of boxes) {
    for (const k of ['x', 'y', 'w', 'h'] as const) {
      if (!Number.isFinite(b[k])) throw new Error(`localisation: box.${k} = ${b[k]}; expected a finite number`);
    }
    for (let r = 0; r < size; r++) {
      const cy = r + 0.5;
      if (cy < b.y || cy > b.y + b.h) continue;
      for (let c = 0; c < size; c++) {
        const cx = c + 0.5;
        if (cx >= b.x && cx <= b.x + b.w) m[r * size + c] = 1;
      }
    }
  }
  return m;
}

/** Euclidean distance from a point to a box (0 inside). */
function distanceToBox(px: number, py: number, b: Box): number {
  const dx = Math.max(b.x - px, 0, px - (b.x + b.w));
  const dy = Math.max(b.y - py, 0, py - (b.y + b.h));
  return Math.hypot(dx, dy);
}

/**
 * Pointing game (Zhang et al. 2016): 1 when the map's maximum (first in row-major order on
 * ties), at its pixel centre, is within `tolerance` pixels of a box, else 0.
 */
export function pointingHit(map: ArrayLike<number>, size: number, boxes: readonly Box[], tolerance: number): number {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  const px = (best % size) + 0.5;
  const py = Math.floor(best / size) + 0.5;
  return boxes.some((b) => distanceToBox(px, py, b) <= tolerance) ? 1 : 0;
}

/**
 * What a map that knows nothing scores, per sample: pointing = the share of pixel centres
 * within `tolerance` of a box (where a uniformly random maximum lands), energy = the share of
 * pixels inside the boxes (a constant map's energy). CNR's chance level is 0 by definition.
 */
export function chanceLevels(size: number, boxes: readonly Box[], tolerance: number): { pointing: number; energy: number } {
  let near = 0;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      if (boxes.some((b) => distanceToBox(c + 0.5, r + 0.5, b) <= tolerance)) near++;
    }
  }
  const mask = boxMask(boxes, size);
  let inside = 0;
  for (const v of mask) inside += v;
  return { pointing: near / (size * size), energy: inside / (size * size) };
}

/** Σ map inside the boxes / Σ map; 0 for an all-zero map (it points nowhere). */
export function energyInBoxes(map: ArrayLike<number>, mask: Uint8Array): number {
  let inside = 0;
  let total = 0;
  for (let i = 0; i < map.length; i++) {
    total += map[i];
    if (mask[i]) inside += map[i];
  }
  return total > 0 ? inside / total : 0;
}

function iou(pred: Uint8Array, mask: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < pred.length; i++) {
    if (pred[i] && mask[i]) inter++;
    if (pred[i] || mask[i]) union++;
  }
  return union > 0 ? inter / union : 0;
}

/** IoU of {map ≥ t} with the box region. */
export function iouAtThreshold(map: ArrayLike<number>, mask: Uint8Array, t: number): number {
  const pred = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) pred[i] = map[i] >= t ? 1 : 0;
  return iou(pred, mask);
}

/** IoU of the k highest pixels (k = the box region's area; ties by index) with the box region. */
export function iouTopArea(map: ArrayLike<number>, mask: Uint8Array): number {
  let k = 0;
  for (const v of mask) k += v;
  const order = Array.from({ length: map.length }, (_, i) => i).sort((a, b) => map[b] - map[a] || a - b);
  const pred = new Uint8Array(map.length);
  for (let i = 0; i < k; i++) pred[order[i]] = 1;
  return iou(pred, mask);
}

/**
 * CNR (BioViL): (μ_in − μ_out)/√(σ²_in + σ²_out), population variances. NaN when it is
 * undefined: an empty region, or no variance on either side (e.g. a map equal to the box
 * indicator); the report counts NaN as missing.
 */
export function cnr(map: ArrayLike<number>, mask: Uint8Array): number {
  let nIn = 0;
  let sIn = 0;
  let nOut = 0;
  let sOut = 0;
  for (let i = 0; i < map.length; i++) {
    if (mask[i]) {
      nIn++;
      sIn += map[i];
    } else {
      nOut++;
      sOut += map[i];
    }
  }
  if (nIn === 0 || nOut === 0) return NaN;
  const mIn = sIn / nIn;
  const mOut = sOut / nOut;
  let vIn = 0;
  let vOut = 0;
  for (let i = 0; i < map.length; i++) {
    if (mask[i]) vIn += (map[i] - mIn) ** 2;
    else vOut += (map[i] - mOut) ** 2;
  }
  const den = Math.sqrt(vIn / nIn + vOut / nOut);
  return den > 0 ? (mIn - mOut) / den : NaN;
}

export interface LocalisationParams extends Record<string, number | string | boolean> {
  tolerance: number;
}

/** Every localisation number for one map. */
export function localise(map: ArrayLike<number>, size: number, boxes: readonly Box[], tolerance = 15): Record<string, number> {
  if (boxes.length === 0) throw new Error('localisation: the sample has no boxes');
  const mask = boxMask(boxes, size);
  const values: Record<string, number> = {
    pointing: pointingHit(map, size, boxes, tolerance),
    energy: energyInBoxes(map, mask),
  };
  let sum = 0;
  for (const t of IOU_THRESHOLDS) sum += values[`iou@${t}`] = iouAtThreshold(map, mask, t);
  values.miou = sum / IOU_THRESHOLDS.length;
  values['iou@box-area'] = iouTopArea(map, mask);
  values.cnr = cnr(map, mask);
  return values;
}

const HIGHER: Record<string, boolean> = { pointing: true, energy: true, miou: true, 'iou@box-area': true, cnr: true };
for (const t of IOU_THRESHOLDS) HIGHER[`iou@${t}`] = true;

export const localisation: PairMetric<LocalisationParams> = {
  kind: 'pair',
  name: 'localisation',
  description:
    'Pointing game (with tolerance), energy pointing game, IoU of the thresholded map (0.1…0.9, and top pixels by box area; miou = mean over the fixed thresholds) and CNR against the boxes',
  category: 'localisation',
  higherIsBetter: HIGHER,
  binary: { pointing: 1 },
  needs: { boxes: true },
  headline: ['pointing', 'energy', 'miou', 'iou@box-area', 'cnr'],
  chance: ['pointing', 'energy', 'cnr'],
  substrate: 'none (no removal)',
  params: {
    tolerance: { type: 'number', default: 15, min: 0, description: 'pointing-game tolerance in model input pixels' },
  },
  sides: ['image'],
  async evaluate(ctx, given): Promise<MetricResult> {
    const p = resolveParams<LocalisationParams>('localisation', this.params, given);
    const { attribution: a, model } = ctx;
    if (a.side !== 'image') throw new Error(`localisation: works on image maps, got a ${a.side} attribution`);
    const boxes = ctx.sample?.boxes;
    if (!boxes || boxes.length === 0) throw new Error('localisation: the sample has no boxes (only data sets with boxes can be localised)');
    const size = model.config.vision.imageSize;
    checkImageMap(a.scores, size);
    const chance = chanceLevels(size, boxes, p.tolerance);
    return {
      values: localise(a.scores, size, boxes, p.tolerance),
      meta: { tolerance: p.tolerance },
      chance: { pointing: chance.pointing, energy: chance.energy, cnr: 0 },
    };
  },
};
