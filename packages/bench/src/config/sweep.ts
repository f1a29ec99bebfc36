// Sweep expansion: every list-valued option of a method is an axis; the points are the
// product of the axes, per side (side overrides may sweep too).
import { checkOptions, withDefaults, type OptionSpec, type OptionValues } from '@ceb/core';
import type { Side } from '@ceb/types';
import { METHODS } from '@ceb/methods';
import type { BenchConfig } from './schema';

export interface SweepPoint {
  /** `layer=2,beta=0.1` (the swept options only, in config order), or `default`. */
  key: string;
  /** Every option of the method at this point, defaults filled in. */
  options: OptionValues;
}

type Scalar = number | string | boolean;

function product(axes: [string, Scalar[]][]): Record<string, Scalar>[] {
  return axes.reduce<Record<string, Scalar>[]>((acc, [k, vs]) => acc.flatMap((p) => vs.map((v) => ({ ...p, [k]: v }))), [{}]);
}

/** The points of one method on one side. The run seed fills a method's `seed` unless set. */
export function methodPoints(name: string, entry: BenchConfig['methods'][string], side: Side, seed: number): SweepPoint[] {
  const method = METHODS[name];
  const specs = method.options as Record<string, OptionSpec>;
  const { image, text, sides, ...shared } = entry ?? {};
  void sides;
  const merged: Record<string, Scalar | Scalar[]> = { ...shared, ...((side === 'image' ? image : text) ?? {}) };
  if ('seed' in specs && merged.seed === undefined) merged.seed = seed;
  const axes = Object.entries(merged).filter((e): e is [string, Scalar[]] => Array.isArray(e[1]));
  const fixed = Object.fromEntries(Object.entries(merged).filter(([, v]) => !Array.isArray(v))) as Record<string, Scalar>;
  return product(axes).map((p) => {
    const options = withDefaults(specs, checkOptions(specs, { ...fixed, ...p }, `methods.${name}`));
    const key = axes.length ? axes.map(([k]) => `${k}=${options[k]}`).join(',') : 'default';
    return { key, options };
  });
}
