// In-memory synthetic scenes for training and evaluation, and their CLIP pixel tensors.
import * as tf from '@tensorflow/tfjs-core';
import { clipPreprocess } from '@ceb/core';
import { allCaptions, renderSyntheticScene, syntheticCaption, type SyntheticShapeInstance } from '@ceb/datasets';
import { Rng } from '@ceb/random';

export const CAPTIONS: readonly string[] = allCaptions();
const CAPTION_INDEX = new Map(CAPTIONS.map((c, i) => [c, i]));

export interface Scene {
  /** CLIP-normalised pixels, CHW. */
  pixels: Float32Array;
  shapes: SyntheticShapeInstance[];
  /** Index in CAPTIONS of the captioned (first) shape. */
  target: number;
  /** Indices in CAPTIONS of every shape in the scene (target included): the captions true of it. */
  present: number[];
}

export function captionIndex(color: string, shape: string): number {
  const i = CAPTION_INDEX.get(syntheticCaption(color, shape));
  if (i === undefined) throw new Error(`no caption for ${color} ${shape}`);
  return i;
}

/** Scenes are always drawn at the data set's 224 px, as the harness sees them. */
export const RENDER_SIZE = 224;

/**
 * One scene from the generator's stream, drawn at 224 px and preprocessed as CLIP does for
 * a model of input `size` (a smaller model input is a resize, as in the harness).
 * `singleFraction` of scenes (drawn from the same rng) hold one shape only; the rest are
 * the data set's 2–4-shape scenes.
 */
export function makeScene(rng: Rng, size = 224, singleFraction = 0): Scene {
  const single = singleFraction > 0 && rng.next() < singleFraction;
  const { pixels, shapes } = renderSyntheticScene(rng, RENDER_SIZE, undefined, undefined, single ? 1 : undefined);
  const { pixelValues } = clipPreprocess({ width: RENDER_SIZE, height: RENDER_SIZE, data: pixels }, { size });
  const present = shapes.map((s) => captionIndex(s.color, s.shape));
  return { pixels: pixelValues, shapes, target: present[0], present };
}

export function makeScenes(seed: number, count: number, size = 224, singleFraction = 0): Scene[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => makeScene(rng, size, singleFraction));
}

/** Stacks scenes into an NCHW tensor [B, 3, S, S]. */
export function pixelBatch(scenes: readonly Scene[], size = 224): tf.Tensor4D {
  const plane = 3 * size * size;
  const data = new Float32Array(scenes.length * plane);
  scenes.forEach((s, i) => data.set(s.pixels, i * plane));
  return tf.tensor4d(data, [scenes.length, 3, size, size]);
}
