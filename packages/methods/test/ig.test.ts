// Integrated gradients on the clip-tiny fixture: completeness (Σ IG = F(x) − F(x′) up to the
// Riemann error, which shrinks as the steps grow: ~1/m for the right-point rule, ~1/m² for the
// trapezoid), the rules' path points, the blurred baseline, and NIB = IG at the hidden state with
// a zero baseline and the right-point rule (the identity NIB's update implies), computed by NIB's
// own step-by-step loop on one side and by the IG module's batched sum on the other.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { targetOfPixels, targetOfState } from '@ceb/core';
import { blurPixels, ig, nib, riemannPoints } from '../src/index';
import { maxAbsDiff } from './helpers/fixtures';
import { useFixtureContext } from './helpers/fixture-case';

const fx = useFixtureContext(0);

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0);
const scalar = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

/** F(x) − F(x′) for the side's input and a zero baseline (text: token embeddings before positions). */
function deltaF(side: 'image' | 'text'): number {
  return tf.tidy(() => {
    if (side === 'image') {
      const px = fx.ctx.pair.pixels;
      return scalar(targetOfPixels(fx.ctx.cache, px)) - scalar(targetOfPixels(fx.ctx.cache, tf.zerosLike(px)));
    }
    const tok = fx.model.text.tokenEmbeddings([fx.ctx.pair.ids]);
    const f = (z: tf.Tensor3D) => scalar(targetOfState(fx.ctx.cache, 'text', fx.model.text.embedTokens(z), 0));
    return f(tok) - f(tf.zerosLike(tok));
  });
}

describe('Riemann rules', () => {
  it('put the path points where each rule says, with weights summing to 1', () => {
    expect(riemannPoints(4, 'right').alphas).toEqual([0.25, 0.5, 0.75, 1]);
    expect(riemannPoints(4, 'left').alphas).toEqual([0, 0.25, 0.5, 0.75]);
    expect(riemannPoints(4, 'midpoint').alphas).toEqual([0.125, 0.375, 0.625, 0.875]);
    const t = riemannPoints(4, 'trapezoid');
    expect(t.alphas).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(t.weights).toEqual([0.125, 0.25, 0.25, 0.25, 0.125]);
    for (const rule of ['right', 'left', 'midpoint', 'trapezoid'] as const) expect(sum(riemannPoints(7, rule).weights)).toBeCloseTo(1, 12);
    expect(() => riemannPoints(0, 'right')).toThrow(/steps must be a positive integer/);
  });
});

/** |Σ IG − (F(x) − F(0))| for each step count, with the given rule. */
async function completenessErrors(side: 'image' | 'text', rule: 'right' | 'trapezoid', steps: number[], target: number): Promise<number[]> {
  const out: number[] = [];
  for (const m of steps) out.push(Math.abs(sum((await ig.explain(fx.ctx, side, { steps: m, rule, batchSize: 16 })).extra!.attribution as Float32Array) - target));
  return out;
}

describe('IG completeness', () => {
  // Measured on this pair: right 4.8e-2, 1.4e-2, 4.0e-3 and trapezoid 1.9e-2, 2.5e-3, 1.9e-4 of a 0.124 difference.
  it('text: Σ attributions → F(x) − F(0); the right-point error shrinks ~1/m, the trapezoid ~1/m², within 0.5% at 64 steps', async () => {
    const target = deltaF('text');
    expect(Math.abs(target)).toBeGreaterThan(1e-2);
    const right = await completenessErrors('text', 'right', [4, 16, 64], target);
    const trap = await completenessErrors('text', 'trapezoid', [4, 16, 64], target);
    expect(right[1]).toBeLessThan(right[0] / 2);
    expect(right[2]).toBeLessThan(right[1] / 2);
    expect(trap[1]).toBeLessThan(trap[0] / 4);
    expect(trap[2]).toBeLessThan(trap[1] / 8);
    expect(trap[2]).toBeLessThan(5e-3 * Math.abs(target));
  });

  // Pixels cost ~0.1 s a path point here, so fewer points: measured right 8.9e-3 → 2.6e-3, trapezoid 9.6e-3 → 2.0e-3 of 0.045.
  it('image (pixels, zero = the mean colour): the error shrinks from 4 to 16 steps under both rules', async () => {
    const target = deltaF('image');
    expect(Math.abs(target)).toBeGreaterThan(1e-2);
    const right = await completenessErrors('image', 'right', [4, 16], target);
    const trap = await completenessErrors('image', 'trapezoid', [4, 16], target);
    expect(right[1]).toBeLessThan(right[0] / 2.5);
    expect(trap[1]).toBeLessThan(trap[0] / 3);
    expect(Math.max(right[1], trap[1])).toBeLessThan(0.1 * Math.abs(target));
  });
});

describe('IG options', () => {
  it('the blurred baseline is a Gaussian blur: a constant image stays constant, a checkerboard flattens', () => {
    const s = 16;
    const flat = tf.fill([1, 3, s, s], 0.7) as tf.Tensor4D;
    const checker = tf.tensor4d(Array.from({ length: 3 * s * s }, (_, i) => ((i % s) + Math.floor(i / s)) % 2), [1, 3, s, s]);
    const [bf, bc] = [blurPixels(flat, 2), blurPixels(checker, 2)];
    expect(maxAbsDiff(bf.dataSync(), flat.dataSync())).toBeLessThan(1e-6);
    const v = bc.dataSync();
    expect(Math.max(...v) - Math.min(...v)).toBeLessThan(0.05);
    expect(Math.abs(sum(v) / v.length - 0.5)).toBeLessThan(0.01);
    tf.dispose([flat, checker, bf, bc]);
  });

  it('a blurred baseline on the text side or at a layer is an error that says what to use', async () => {
    await expect(ig.explain(fx.ctx, 'text', { baseline: 'blur' })).rejects.toThrow(/baseline "blur".*use baseline zero/);
    await expect(ig.explain(fx.ctx, 'image', { baseline: 'blur', at: 'layer', layer: 1 })).rejects.toThrow(/at = layer/);
    await expect(ig.explain(fx.ctx, 'image', { baseline: 'blur', blurSigma: 80 })).rejects.toThrow(/blurSigma 80 needs a kernel radius of 240 px, more than the 224-px image allows/);
  });

  it('abs sums magnitudes: its per-pixel scores bound the signed ones', async () => {
    const a = await ig.explain(fx.ctx, 'image', { steps: 4, readout: 'abs' });
    const b = await ig.explain(fx.ctx, 'image', { steps: 4 });
    const [sa, sb] = [a.extra!.scores as number[], b.extra!.scores as number[]];
    expect(sa.every((v, i) => v >= Math.abs(sb[i]) - 1e-7)).toBe(true);
    expect(sa.some((v, i) => v > Math.abs(sb[i]) + 1e-6)).toBe(true);
  });
});

describe.each(['image', 'text'] as const)('NIB = integrated gradients at hidden_states[layer] (%s)', (side) => {
  it.each([0, 2])('layer %s: zero baseline, right-point rule, the same steps', async (layer) => {
    const steps = 10;
    const n = await nib.explain(fx.ctx, side, { layer, steps });
    const i = await ig.explain(fx.ctx, side, { at: 'layer', layer, steps, rule: 'right', baseline: 'zero' });
    const an = n.extra!.attribution as Float32Array;
    const ai = i.extra!.attribution as Float32Array;
    const size = Math.max(...Array.from(ai, Math.abs));
    expect(size).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(an, ai)).toBeLessThan(1e-5 * size);
    if (side === 'image') expect(maxAbsDiff(n.scores, i.scores)).toBeLessThan(1e-4);
    // The text readouts differ by design (NIB: min-max over BOS/EOS too); the token sums agree.
    expect(maxAbsDiff(n.extra!.tokenScores as number[], i.extra!.scores as number[])).toBeLessThan(1e-5 * size * 64);
    // And the left-point rule is a different sum (it is not what NIB computes).
    const left = await ig.explain(fx.ctx, side, { at: 'layer', layer, steps, rule: 'left' });
    expect(maxAbsDiff(an, left.extra!.attribution as Float32Array)).toBeGreaterThan(1e-3 * size);
  });
});

describe('NIB layer option', () => {
  it('is the input of the block: layer k reads hidden_states[k] (= the output of block k − 1); the last block is refused, negatives count from the end', async () => {
    const a = await nib.explain(fx.ctx, 'image', { layer: -2, steps: 2 });
    const b = await nib.explain(fx.ctx, 'image', { layer: 2, steps: 2 });
    expect(maxAbsDiff(a.scores, b.scores)).toBe(0);
    await expect(nib.explain(fx.ctx, 'image', { layer: 3 })).rejects.toThrow(/layer 3 is the image tower's last block; its tokens reach the head only through that block’s LayerNorm/);
    await expect(nib.explain(fx.ctx, 'text')).rejects.toThrow(/layer 9 is outside the text tower's blocks 0…3/);
  });
});
