// McNemar's exact test for paired binary outcomes.
import { binomialCdf } from './distributions';
import { checkInteger } from './validate';

/**
 * Two-sided exact McNemar p-value from the discordant counts b (x right, y wrong) and c
 * (x wrong, y right): min(1, 2·P(X ≤ min(b, c))), X ~ Bin(b + c, ½); 1 when b + c = 0.
 * Equals scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue (the binomial is symmetric at ½).
 */
export function mcnemarExact(b: number, c: number): number {
  checkInteger('mcnemarExact', 'b', b, 0);
  checkInteger('mcnemarExact', 'c', c, 0);
  const n = b + c;
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialCdf(Math.min(b, c), n, 0.5));
}

export interface McNemarResult {
  /** Pairs where x succeeded and y failed. */
  b: number;
  /** Pairs where x failed and y succeeded. */
  c: number;
  /** Number of pairs. */
  n: number;
  pValue: number;
}

/**
 * McNemar's exact test on two paired arrays of outcomes, each value 0/1 or 0/100 (e.g. a
 * pointing-game hit stored as a percentage); one scale for both arrays.
 */
export function mcnemarFromPaired(x: ArrayLike<number>, y: ArrayLike<number>): McNemarResult {
  for (const [name, v] of [['x', x], ['y', y]] as const) {
    if (v == null || typeof v.length !== 'number') throw new Error(`mcnemarFromPaired: ${name} must be an array of 0/1 (or 0/100) values, got ${String(v)}`);
  }
  if (x.length !== y.length) throw new Error(`mcnemarFromPaired: x and y must have the same length (pairs), got ${x.length} and ${y.length}`);
  let scale = 0; // the success value seen so far: 1 or 100; mixing them is an error
  const check = (name: string, v: number, i: number) => {
    if (v !== 0 && v !== 1 && v !== 100) throw new Error(`mcnemarFromPaired: ${name}[${i}] is ${String(v)}; expected 0 or 1 (or 0 or 100)`);
    if (v !== 0) {
      if (scale !== 0 && v !== scale) throw new Error(`mcnemarFromPaired: ${name}[${i}] is ${v} but an earlier success was ${scale}; expected one scale, 0/1 or 0/100`);
      scale = v;
    }
  };
  let b = 0;
  let c = 0;
  for (let i = 0; i < x.length; i++) {
    check('x', x[i], i);
    check('y', y[i], i);
    if (x[i] !== 0 && y[i] === 0) b++;
    else if (x[i] === 0 && y[i] !== 0) c++;
  }
  return { b, c, n: x.length, pValue: mcnemarExact(b, c) };
}
