// Flickr8k's caption choice, which needs the model: each image's caption is the candidate whose
// embedding is closest (cosine) to an image's — its own (`own`), or, as NIB's
// generate_attributions.py:78-90 does, the first image of its batch of 32 (`nib-batch-first`,
// docs/metrics.md). Only the samples a process works on are chosen for, with the batch counted
// over the whole set, so shards agree with a single process.
import * as tf from '@tensorflow/tfjs-core';
import { cosineRows } from '@ceb/core';
import { nibReferenceIndex, type Sample } from '@ceb/datasets';
import { preparePair, type ModelBundle } from './model-bundle';

export interface CaptionChoice {
  reference: 'own' | 'nib-batch-first';
  batch: number;
}

/** The cosine of each caption with one image's embedding. */
async function captionScores(bundle: ModelBundle, image: tf.Tensor2D, captions: readonly string[], truncate: boolean): Promise<number[]> {
  const { model, tokenizer } = bundle;
  const out: number[] = [];
  for (const c of captions) {
    const ids = tokenizer.encodeForModel(c, { contextLength: model.config.text.maxPositions, truncate }).ids;
    const cos = tf.tidy(() => cosineRows(model.encodeText([ids]), image));
    out.push((await cos.data())[0]);
    cos.dispose();
  }
  return out;
}

/**
 * `all` with the caption of every sample at `indices` chosen among its candidates (first of equal
 * best, as torch.argmax). A sample whose reference image cannot be read keeps its first caption:
 * the pair phase then records why its image fails.
 */
export async function chooseCaptionsWithModel(bundle: ModelBundle, all: readonly Sample[], indices: readonly number[], choice: CaptionChoice, truncate: boolean): Promise<Sample[]> {
  const out = [...all];
  const images = new Map<number, tf.Tensor2D | null>();
  const imageOf = async (i: number): Promise<tf.Tensor2D | null> => {
    if (!images.has(i)) {
      try {
        const p = await preparePair(bundle, all[i].imagePath, all[i].captions?.[0] ?? all[i].caption, { truncate: true });
        images.set(i, tf.tidy(() => bundle.model.encodeImage(p.pair.pixels)));
        p.pair.pixels.dispose();
      } catch {
        images.set(i, null);
      }
    }
    return images.get(i)!;
  };
  try {
    for (const i of indices) {
      const s = all[i];
      if (!s.captions || s.captions.length < 2) continue;
      const image = await imageOf(choice.reference === 'own' ? i : nibReferenceIndex(i, choice.batch));
      if (!image) continue;
      const scores = await captionScores(bundle, image, s.captions, truncate);
      const best = scores.reduce((b, v, k) => (v > scores[b] ? k : b), 0);
      out[i] = { ...s, caption: s.captions[best] };
    }
  } finally {
    for (const t of images.values()) t?.dispose();
  }
  return out;
}
