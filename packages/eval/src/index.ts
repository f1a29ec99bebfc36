// @ceb/eval: every metric of the benchmark (faithfulness, localisation, ROAR, model randomisation), one module each.
export * from './types';
export * from './perturb';
export * from './confidence';
export * from './confidence-m2ib';
export * from './confidence-nib';
export * from './confidence-corrected';
export * from './insertion-deletion';
export * from './localisation';
export * from './roar';
export * from './sanity';
export * from './registry';
