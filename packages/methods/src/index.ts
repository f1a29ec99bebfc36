// @ceb/baselines: the comparison methods, each an Explainer, and the registry of every method.
export * from './registry';
export * from './scorer';
export { Rng, subSeed } from '@ceb/random';
export { solveSpd } from './linalg';
export { resolveLayer, resolveOptions, targetFromState } from './common';
export * from './gradcam';
export * from './saliency';
export * from './rise';
export * from './occlusion';
export * from './kernelshap';
export * from './rollout';
export * from './chefer';
export * from './controls';
