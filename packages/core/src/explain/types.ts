// The contract between explainers, metrics and the bench.
import type { Side } from '@ceb/types';
import type { ClipModel } from '../model/clip';
import type { PairCache, PairInput } from './pair-cache';
import type { WorkerPool } from '../pool/pool';

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
  /** Threads to share this pair's work over (`--threads`); absent = this thread alone. */
  pool?: WorkerPool;
}

/** Where an option's value comes from and what it may be: drives CLI help and config checks. */
export interface OptionSpec {
  type: 'number' | 'integer' | 'boolean' | 'string';
  default: number | boolean | string;
  description: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** Set when the option is a block index of the explained side's tower (negative counts from the end). */
  layer?: LayerOption;
}

/** What a layer option indexes, so the index is resolved and checked the same way everywhere (explain, config, dry run). */
export interface LayerOption {
  /**
   * 'output': the output of block k (HF hidden_states[k + 1]); 'input': the input of block k
   * (HF hidden_states[k]); 'attention': block k's attention probabilities.
   */
  of: 'output' | 'input' | 'attention';
  /**
   * Set when the last `blocks` blocks cannot be used, and why (e.g. after the last block only the
   * pooled token reaches the embedding, so no other token's value can change the target).
   */
  refuseLast?: { blocks: number; why: string };
}

export interface Explainer<O = Record<string, unknown>> {
  name: string;
  description: string;
  /** Which sides it explains (controls like Sobel are image-only). */
  sides: readonly Side[];
  options: Record<keyof O & string, OptionSpec>;
  /** What a reader must know beside this method's numbers (reports show it), e.g. what an option means. */
  note?: string;
  explain(ctx: ExplainContext, side: Side, options?: Partial<O>): Promise<Attribution>;
}

/** The value type an option spec declares: its choices, a string, a boolean, or a number. */
export type OptionValueOf<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['type'] extends 'string'
    ? S['choices'] extends readonly (infer C)[]
      ? C
      : string
    : number;

/** The options object a record of specs describes: one definition, the specs, for both the values and their checks. */
export type OptionsOf<T extends Record<string, OptionSpec>> = { [K in keyof T]: OptionValueOf<T[K]> };
