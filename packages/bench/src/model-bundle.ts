// A model with its tokenizer, and the preprocessing that turns a file + caption into a pair.
import { dirname } from 'node:path';
import { statSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import {
  ClipTokenizer,
  loadAndPreprocess,
  describeQuirks,
  loadClip,
  type ClipModel,
  type ModelQuirks,
  type PairInput,
} from '@ceb/core';
import type { RgbImage } from '@ceb/types';

export interface ModelBundle {
  model: ClipModel;
  tokenizer: ClipTokenizer;
  path: string;
}

/** Loads a model and its tokenizer; `quirks` departs from standard CLIP for parity (see core's ModelQuirks). */
export async function loadModelBundle(path: string, quirks: ModelQuirks = {}): Promise<ModelBundle> {
  const model = await loadClip(path, { quirks });
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  const tokenizer = ClipTokenizer.fromModelDir(dir);
  const { vocabSize, bosTokenId, eosTokenId } = model.config.text;
  if (tokenizer.vocabSize > vocabSize || tokenizer.bosId !== bosTokenId || tokenizer.eosId !== eosTokenId) {
    model.dispose();
    throw new Error(
      `${dir}: the tokenizer (${tokenizer.vocabSize} ids, BOS ${tokenizer.bosId}, EOS ${tokenizer.eosId}${tokenizer.source.kind === 'bundled' ? ', the bundled standard vocabulary' : ''}) does not fit the model (${vocabSize} ids, BOS ${bosTokenId}, EOS ${eosTokenId}); put the model's vocab.json + merges.txt beside it`,
    );
  }
  return { model, tokenizer, path };
}

/** " (with quirks: …)" for a log line, or "" for a standard model. */
export function quirksNote(model: ClipModel): string {
  const q = describeQuirks(model.quirks);
  return q.length ? ` (with quirks: ${q.join('; ')})` : '';
}

export interface PreparedPair {
  pair: PairInput;
  /** The centre-cropped 8-bit image the model saw (for overlays). */
  cropped: RgbImage;
  original: { width: number; height: number };
  /** Caption tokens for display, BOS/EOS excluded. */
  tokens: string[];
  truncated: boolean;
}

/** Reads, resizes, crops and normalises the image and tokenizes the caption. */
export async function preparePair(bundle: ModelBundle, imagePath: string, caption: string, opts: { truncate?: boolean } = {}): Promise<PreparedPair> {
  const { config } = bundle.model;
  if (caption.trim() === '') throw new Error('caption is empty');
  const enc = bundle.tokenizer.encodeForModel(caption, { contextLength: config.text.maxPositions, truncate: opts.truncate });
  const pre = await loadAndPreprocess(imagePath, { size: config.vision.imageSize, mean: config.imageMean, std: config.imageStd });
  const s = config.vision.imageSize;
  const pixels = tf.tensor4d(pre.pixelValues, [1, 3, s, s]);
  return {
    pair: { pixels, ids: enc.ids },
    cropped: pre.cropped,
    original: { width: pre.original.width, height: pre.original.height },
    tokens: bundle.tokenizer.tokenStrings(enc.ids.slice(1, -1)),
    truncated: enc.truncated,
  };
}
