// @ceb/core: backend, weights, CLIP towers, tokenizer, preprocessing, explainer contract, M2IB.
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
export { PairCache, cosineRows } from './explain/pair-cache';
export * from './m2ib/m2ib';
export * from './model/random-init';
