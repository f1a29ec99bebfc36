// Seeded random numbers for the random methods (RISE masks, KernelSHAP coalitions, the
// random control). mulberry32: tiny, fast, fine for sampling, not cryptographic. Written
// here rather than imported because baselines must not depend on packages/datasets.

export class Rng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
    this.state = Math.trunc(seed) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A seed for a sub-stream (e.g. per side) derived from a user seed, so streams do not coincide. */
export function subSeed(seed: number, stream: number): number {
  return (Math.imul(Math.trunc(seed) >>> 0, 0x9e3779b1) + Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
}
