// @ceb/eval: every metric of the benchmark (faithfulness, localisation, ROAR, sanity) and report statistics.
export * from './types';
export * from './stats';
export * from './perturb';
export * from './scoring';
export * from './confidence';
export * from './insertion-deletion';
export * from './localisation';
export * from './roar';
export * from './sanity';
export * from './registry';
