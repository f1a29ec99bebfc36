// @ceb/core: backend, weights, CLIP towers, tokenizer, preprocessing, the explainer contract,
// the pair cache and the one target that methods explain and metrics score.
export * from './backend';
export * from './model/config';
export * from './model/layout';
export * from './model/clip';
export * from './model/load';
export { Block, type BlockOptions, type BlockWeights } from './model/block';
export { fastLinear, layerNorm, activation, type Linear, type LayerNorm } from './model/layers';
export { VisionTower, TextTower, poolIndices, type RunOptions, type RunResult, type TokenIds } from './model/tower';
export * from './weights/safetensors';
export { readTorchCheckpoint, parseTorchCheckpoint, isZipFile, isLegacyTorchFile } from './weights/pytorch';
export * from './weights/state-dict';
export * from './tokenizer';
export * from './image';
export * from './explain/types';
export * from './explain/maps';
export * from './explain/options';
export { PairCache, cosineRows, type PairInput } from './explain/pair-cache';
export * from './explain/target';
export { Adam, ADAM } from './optim/adam';
export * from './pool';
export * from './model/random-init';
export * from './model/convert';
