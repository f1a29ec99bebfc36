// Shared argument checks: each throws an Error naming the function, the argument and what was expected.

/** Throws unless `values` is an array-like of finite numbers. */
export function checkFiniteArray(fn: string, name: string, values: ArrayLike<number>): void {
  if (values == null || typeof values.length !== 'number') throw new Error(`${fn}: ${name} must be an array of numbers, got ${String(values)}`);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${fn}: ${name}[${i}] is ${String(v)}; expected a finite number`);
  }
}

/** Throws unless `x` is a finite number. */
export function checkFinite(fn: string, name: string, x: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${fn}: ${name} must be a finite number, got ${String(x)}`);
}

/** Throws unless `x` is an integer ≥ min. */
export function checkInteger(fn: string, name: string, x: number, min: number): void {
  if (!Number.isInteger(x) || x < min) throw new Error(`${fn}: ${name} must be an integer ≥ ${min}, got ${String(x)}`);
}

/** Throws unless 0 < x < 1. */
export function checkOpenUnit(fn: string, name: string, x: number): void {
  if (typeof x !== 'number' || !(x > 0 && x < 1)) throw new Error(`${fn}: ${name} must be in (0, 1), got ${String(x)}`);
}

/** Throws unless `x` is one of `allowed`. */
export function checkOneOf<T extends string>(fn: string, name: string, x: T, allowed: readonly T[]): void {
  if (!allowed.includes(x)) throw new Error(`${fn}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(x)}`);
}
