// @ceb/methods: every explanation method, one module each over one template
// (defineExplainer), and the registry of them all.
export * from './registry';
export * from './common';
export * from './scorer';
export { solveSpd } from './linalg';
export * from './m2ib';
export * from './gradcam';
export * from './saliency';
export * from './rise';
export * from './occlusion';
export * from './kernelshap';
export * from './rollout';
export * from './chefer';
export * from './controls';
export * from './open-block';
export * from './readouts';
export * from './last-attention';
export * from './ig';
export * from './nib';
export * from './fastig';
export * from './mfaba';
export * from './attention-saliency';
export * from './grad-eclip';
export * from './legrad';
