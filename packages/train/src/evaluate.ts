// Held-out retrieval: rank the 60 captions for each image (forward passes only).
import * as tf from '@tensorflow/tfjs-core';
import type { ClipModel } from '@ceb/core';
import { CAPTIONS, pixelBatch, type Scene } from './data';

export interface RetrievalReport {
  images: number;
  /**
   * Top-1 among the image's caption and every caption false of the image (the captions of
   * its other shapes are left out: they are true too). ≥ 57 candidates; chance ≤ 1/57.
   */
  top1: number;
  /** Same candidates, caption within the 5 best. */
  top5: number;
  /** The best caption of those candidates has the captioned shape's colour / shape. */
  colorCorrect: number;
  shapeCorrect: number;
  /** Top-1 among all 60 captions names some shape in the image (chance ≈ shapes/60). */
  top1AnyTrue: number;
  /** Top-1 among all 60 is exactly the image's caption (capped by the other shapes being equally true). */
  top1Strict: number;
  /** Expected top-1 of a guesser: mean of 1/(candidates). */
  chanceTop1: number;
}

/** Cosine similarities [images, captions] as rows of a Float32Array. */
export function similarityMatrix(model: ClipModel, scenes: readonly Scene[], captionIds: number[][], batch = 50): Float32Array {
  const out = new Float32Array(scenes.length * captionIds.length);
  const text = tf.tidy(() => {
    const t = model.encodeText(captionIds);
    return tf.div(t, tf.norm(t, 2, 1, true));
  });
  for (let i = 0; i < scenes.length; i += batch) {
    const part = scenes.slice(i, i + batch);
    const sims = tf.tidy(() => {
      const img = model.encodeImage(pixelBatch(part, model.config.vision.imageSize));
      return tf.matMul(tf.div(img, tf.norm(img, 2, 1, true)), text, false, true);
    });
    out.set(sims.dataSync(), i * captionIds.length);
    sims.dispose();
  }
  text.dispose();
  return out;
}

export function retrievalReport(sims: Float32Array, scenes: readonly Scene[], numCaptions = CAPTIONS.length): RetrievalReport {
  const r = { top1: 0, top5: 0, colorCorrect: 0, shapeCorrect: 0, top1AnyTrue: 0, top1Strict: 0, chanceTop1: 0 };
  const parts = CAPTIONS.map((c) => c.split(' ').slice(-2));
  scenes.forEach((s, i) => {
    const row = sims.subarray(i * numCaptions, (i + 1) * numCaptions);
    const others = new Set(s.present.slice(1));
    const candidates = Array.from({ length: numCaptions }, (_, t) => t).filter((t) => !others.has(t));
    const ranked = [...candidates].sort((a, b) => row[b] - row[a]);
    const best = ranked[0];
    if (best === s.target) r.top1++;
    if (ranked.slice(0, 5).includes(s.target)) r.top5++;
    if (parts[best][0] === parts[s.target][0]) r.colorCorrect++;
    if (parts[best][1] === parts[s.target][1]) r.shapeCorrect++;
    let arg = 0;
    for (let t = 1; t < numCaptions; t++) if (row[t] > row[arg]) arg = t;
    if (s.present.includes(arg)) r.top1AnyTrue++;
    if (arg === s.target) r.top1Strict++;
    r.chanceTop1 += 1 / candidates.length;
  });
  const n = scenes.length;
  return {
    images: n,
    top1: r.top1 / n,
    top5: r.top5 / n,
    colorCorrect: r.colorCorrect / n,
    shapeCorrect: r.shapeCorrect / n,
    top1AnyTrue: r.top1AnyTrue / n,
    top1Strict: r.top1Strict / n,
    chanceTop1: r.chanceTop1 / n,
  };
}

export function evaluateRetrieval(model: ClipModel, scenes: readonly Scene[], captionIds: number[][]): RetrievalReport {
  return retrievalReport(similarityMatrix(model, scenes, captionIds), scenes, captionIds.length);
}
