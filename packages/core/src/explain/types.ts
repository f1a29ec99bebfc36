// The contract between explainers, metrics and the bench.
import type * as tf from '@tensorflow/tfjs-core';
import type { ClipModel } from '../model/clip';
import type { PairCache } from './pair-cache';

export type Side = 'image' | 'text';

/** One image–text pair, already preprocessed and tokenized. */
export interface PairInput {
  /** [1, C, S, S] normalised pixel values (NCHW), as the vision tower takes them. */
  pixels: tf.Tensor4D;
  /** Token ids with BOS … EOS and no padding. */
  ids: number[];
}

export interface Attribution {
  method: string;
  side: Side;
  /**
   * image: [S, S] map at the model's input size, row-major, in [0, 1];
   * text: one score per caption token, BOS/EOS excluded, in [0, 1].
   */
  scores: Float32Array;
  shape: number[];
  /** Wall time of the explanation in milliseconds. */
  ms: number;
  /** True when the raw map was constant (min = max) and the scores are all zero. */
  flat?: boolean;
  /** Method-specific extras for reports and tests (e.g. M2IB capacities). */
  extra?: Record<string, unknown>;
}

export interface ExplainContext {
  model: ClipModel;
  pair: PairInput;
  /** Clean embeddings and hidden states of this pair, computed once and shared. */
  cache: PairCache;
}

/** Where an option's value comes from and what it may be: drives CLI help and config checks. */
export interface OptionSpec {
  type: 'number' | 'integer' | 'boolean' | 'string';
  default: number | boolean | string;
  description: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

export interface Explainer<O = Record<string, unknown>> {
  name: string;
  description: string;
  /** Which sides it explains (controls like Sobel are image-only). */
  sides: readonly Side[];
  options: Record<keyof O & string, OptionSpec>;
  explain(ctx: ExplainContext, side: Side, options?: Partial<O>): Promise<Attribution>;
}
