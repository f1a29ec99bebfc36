/**
 * Seeded pseudo-random numbers for the whole project (sampling, splits, synthetic images,
 * RISE masks, KernelSHAP coalitions, random weights): mulberry32 (Tommy Ettinger's 32-bit
 * generator, public domain) — tiny, fast and good enough for sampling. It is NOT
 * cryptographic. No dependencies, so packages without tfjs can use it too.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    // Fold any integer (including negatives and values above 2^32) into uint32.
    this.state = Math.trunc(seed) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** n draws from N(0, std²): Box–Muller, two uniforms per pair of values (cos, sin). */
  normals(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - this.next())) * std; // 1 − u ∈ (0, 1]: never log 0
      const a = 2 * Math.PI * this.next();
      out[i] = r * Math.cos(a);
      if (i + 1 < n) out[i + 1] = r * Math.sin(a);
    }
    return out;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  range(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`Rng.range: empty range [${lo}, ${hi}]`);
    return lo + this.int(hi - lo + 1);
  }

  /** One element chosen uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty array');
    return items[this.int(items.length)];
  }

  /** Fisher–Yates shuffle, in place; returns the same array. */
  shuffleInPlace<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[] {
    return this.shuffleInPlace(items.slice());
  }

  /** k distinct elements without replacement, in random order (all of them when k ≥ length). */
  sample<T>(items: readonly T[], k: number): T[] {
    if (!Number.isInteger(k) || k < 0) throw new Error(`Rng.sample: k must be a non-negative integer, got ${k}`);
    const copy = items.slice();
    const m = Math.min(k, copy.length);
    // Partial Fisher–Yates: only the first m positions are needed.
    for (let i = 0; i < m; i++) {
      const j = i + this.int(copy.length - i);
      const tmp = copy[i];
      copy[i] = copy[j];
      copy[j] = tmp;
    }
    return copy.slice(0, m);
  }
}

/** Convenience: a fresh generator. */
export function createRng(seed: number): Rng {
  return new Rng(seed);
}

/** Seeded shuffled copy of `items`. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  return new Rng(seed).shuffle(items);
}

/** Seeded choice of k distinct items. */
export function sample<T>(items: readonly T[], k: number, seed: number): T[] {
  return new Rng(seed).sample(items, k);
}

/** A seed for a sub-stream (e.g. per side) derived from a user seed, so streams do not coincide. */
export function subSeed(seed: number, stream: number): number {
  return (Math.imul(Math.trunc(seed) >>> 0, 0x9e3779b1) + Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
}
