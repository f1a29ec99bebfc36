// The registry: the issue's names, the papers' defaults, option parsing and errors.
import { describe, expect, it } from 'vitest';
import { m2ib, formatMethodList, getMethod, listMethods, METHOD_NAMES, parseMethodOptions, rolloutMatrix, cheferMatrix, solveSpd } from '../src/index';
import { maxAbsDiff } from './helpers/fixtures';

describe('registry', () => {
  it('names every method of the issue, M2IB included, each under its own name', () => {
    expect([...METHOD_NAMES].sort()).toEqual(
      [
        'm2ib', 'gradcam', 'gradcam-elementwise', 'saliency', 'rise', 'occlusion', 'kernelshap', 'rollout', 'chefer', 'random', 'sobel', 'uniform',
        // issue 16: the rest of the NIB table and the newer CLIP explainers
        'ig', 'nib', 'fastig', 'mfaba', 'attention-saliency', 'grad-eclip', 'legrad',
      ].sort(),
    );
    for (const n of METHOD_NAMES) expect(getMethod(n).name).toBe(n);
    expect(getMethod('m2ib')).toBe(m2ib);
  });

  it('an unknown name lists the known ones', () => {
    expect(() => getMethod('gradcamm')).toThrow(/unknown method "gradcamm"; known methods: m2ib, gradcam,/);
    expect(() => getMethod('toString')).toThrow(/unknown method/);
  });

  it('defaults follow the papers / the spec', () => {
    const d = (m: string) => Object.fromEntries(listMethods().find((x) => x.name === m)!.options.map((o) => [o.name, o.default]));
    expect(d('rise')).toMatchObject({ masks: 6000, cells: 8, keepProb: 0.1 });
    expect(d('kernelshap')).toMatchObject({ samples: 2000 });
    expect(d('rollout')).toMatchObject({ startLayer: 0 });
    expect(d('chefer')).toMatchObject({ startLayer: -1 });
    expect(d('gradcam')).toMatchObject({ layer: -3 });
    // The NIB code's defaults (generate_attributions.py:39-40; mfaba.py's hard-coded 10 × 0.01), LeWrapper's, the IG paper's sum.
    expect(d('nib')).toEqual({ layer: 9, steps: 10 });
    expect(d('mfaba')).toEqual({ steps: 10, stepSize: 0.01 });
    expect(d('legrad')).toEqual({ layerIndex: -2 });
    expect(d('grad-eclip')).toEqual({ blocks: 0, heads: 'one' });
    expect(d('ig')).toMatchObject({ at: 'input', baseline: 'zero', rule: 'right' });
    expect(listMethods().find((x) => x.name === 'legrad')!.sides).toEqual(['image']);
    expect(listMethods().find((x) => x.name === 'sobel')!.sides).toEqual(['image']);
    expect(listMethods().find((x) => x.name === 'uniform')!.sides).toEqual(['text']);
  });

  it('the printed list shows every method and option with its default', () => {
    const text = formatMethodList();
    for (const m of listMethods()) {
      expect(text).toContain(`${m.name}  [`);
      for (const o of m.options) expect(text).toContain(`--${o.name} (${o.type}`);
    }
    expect(text).toContain('--masks (integer in [1, ∞], default 6000)');
    // NIB's layer is the input of the block (HF hidden_states[layer]), and the list says so.
    expect(text).toMatch(/--layer \(integer, default 9\): NIB’s target_layer: the INPUT of this block \(HF hidden_states\[layer\]/);
  });

  it('parses CLI strings to the declared types and rejects bad options by name', () => {
    expect(parseMethodOptions('rise', { masks: '100', keepProb: '0.5' })).toEqual({ masks: 100, keepProb: 0.5 });
    expect(parseMethodOptions('m2ib', { reusePrefix: 'false' })).toEqual({ reusePrefix: false });
    expect(() => parseMethodOptions('rise', { mask: '1' })).toThrow(/rise\.mask: unknown option; known: masks,/);
    expect(() => parseMethodOptions('rise', { masks: '1.5' })).toThrow(/rise\.masks: expected an integer ≥ 1, got "1\.5"/);
    expect(() => parseMethodOptions('rise', { keepProb: '2' })).toThrow(/rise\.keepProb: expected a number ≥ [\d.e-]+ and ≤ 1, got "2"/);
    expect(() => parseMethodOptions('rise', { masks: 'abc' })).toThrow(/rise\.masks: expected an integer/);
    expect(() => parseMethodOptions('sobel', { seed: 1 })).toThrow(/sobel\.seed: unknown option; this takes no options/);
  });
});

describe('rollout / Chefer matrices (hand-worked 2-token cases)', () => {
  it('rollout: A = [[1,0],[0.5,0.5]] → A\' = [[1,0],[0.25,0.75]]; two blocks multiply', () => {
    const a = [1, 0, 0.5, 0.5];
    expect(maxAbsDiff(rolloutMatrix([a], 2), [1, 0, 0.25, 0.75])).toBeLessThan(1e-12);
    // [[1,0],[.25,.75]]² = [[1,0],[.25+.1875, .5625]]
    expect(maxAbsDiff(rolloutMatrix([a, a], 2), [1, 0, 0.4375, 0.5625])).toBeLessThan(1e-12);
  });

  it('Chefer: R = I + Ā, then R + Ā₂·R', () => {
    const a1 = [0, 0, 1, 0];
    const a2 = [0, 2, 0, 0];
    expect(maxAbsDiff(cheferMatrix([a1], 2), [1, 0, 1, 1])).toBeLessThan(1e-12);
    // R1 = [[1,0],[1,1]]; Ā₂·R1 = [[2,2],[0,0]] → [[3,2],[1,1]]
    expect(maxAbsDiff(cheferMatrix([a1, a2], 2), [3, 2, 1, 1])).toBeLessThan(1e-12);
  });
});

describe('solveSpd', () => {
  it('solves a hand-made system', () => {
    // [[4,2],[2,3]] x = [2, 1] → x = [0.5, 0]
    expect(maxAbsDiff(solveSpd(Float64Array.of(4, 2, 2, 3), Float64Array.of(2, 1), 2), [0.5, 0])).toBeLessThan(1e-12);
    expect(() => solveSpd(Float64Array.of(1, 2, 2, 1), Float64Array.of(1, 1), 2)).toThrow(/not positive definite/);
  });
});

describe('Sobel control', () => {
  it('a vertical step edge gives magnitude 4 on the two columns beside it and 0 elsewhere', async () => {
    const { sobelMagnitude } = await import('../src/index');
    const grey = Array.from({ length: 16 }, (_, i) => (i % 4 >= 2 ? 1 : 0));
    const m = sobelMagnitude(grey, 4, 4);
    expect(Array.from(m)).toEqual([0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4, 0]);
  });
});
