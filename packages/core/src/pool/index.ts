// The worker pool: threads in one process, each with its own backend and model replica.
export { WorkerPool, injectPoolFault, defaultThreads, parseThreads, openPool, type PoolOptions } from './pool';
export { defineTask, splitRuns, type PoolTask, type TaskContext } from './task';
export { pooledScores, scoreImagesTask, scorePixelMasksTask, scoreTokenScalesTask } from './score-tasks';
export { checkPoolMemory, workerBytes, weightBytes, heapBytes, availableBytes, WORKER_PEAK_PER_WEIGHT_BYTE } from './memory';
export { pairCacheFromSnapshot, snapshotModel, modelFromSnapshot, snapshotPair, type ModelSnapshot, type PairSnapshot } from './snapshot';
