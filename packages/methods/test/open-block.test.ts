// The methods' open block (q, k, v, attention and its output in the open) is the tower's block:
// same output and attention on the clip-tiny fixture, both towers (text causal); and the gradient
// it gives w.r.t. the attention probabilities, times them, is the tower's gate gradient ∇A ⊙ A.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { targetOfState } from '@ceb/core';
import { lastAttention, openBlock } from '../src/index';
import { maxAbsDiff } from './helpers/fixtures';
import { useFixtureContext } from './helpers/fixture-case';

const fx = useFixtureContext(1);

describe.each(['image', 'text'] as const)('open block, %s tower', (side) => {
  it.each([0, 3])('block %s: the output and the attention of the tower’s block', (b) => {
    const tower = side === 'image' ? fx.model.vision : fx.model.text;
    const h = fx.ctx.cache.states(side)[b];
    const [ours, theirs] = tf.tidy(() => {
      const o = openBlock(fx.model, side, b, h);
      const t = tower.runBlocks(h, b, b + 1, { attention: true });
      return [
        [o.h, o.probs],
        [t.h, t.attention![0]],
      ].map((pair) => pair.map((x) => x.dataSync() as Float32Array));
    });
    expect(maxAbsDiff(ours[0], theirs[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(ours[1], theirs[1])).toBeLessThan(1e-6);
    // And the state after it is the next cached state.
    const next = fx.ctx.cache.states(side)[b + 1];
    expect(maxAbsDiff(ours[0], next.dataSync())).toBeLessThan(1e-5);
  });

  it('one head: the attention is one softmax over the full width (a different fx.model)', () => {
    const h = fx.ctx.cache.states(side)[3];
    const [one, own] = tf.tidy(() => [openBlock(fx.model, side, 3, h, { heads: 1 }), openBlock(fx.model, side, 3, h)].map((r) => r.h.dataSync() as Float32Array));
    expect(maxAbsDiff(one, own)).toBeGreaterThan(1e-4);
    expect(() => tf.tidy(() => openBlock(fx.model, side, 3, h, { heads: 3 }).h)).toThrow(/3 heads do not divide the width 64/);
    expect(() => tf.tidy(() => openBlock(fx.model, side, 4, h).h)).toThrow(/block 4 is outside/);
  });

  it('∂target/∂A ⊙ A of the last block equals the tower’s gate gradient (Chefer’s ∇A ⊙ A)', () => {
    const a = lastAttention(fx.ctx, side);
    const last = (side === 'image' ? fx.model.vision : fx.model.text).numLayers - 1;
    const h = fx.ctx.cache.states(side)[last];
    const gate = tf.ones([1, a.heads, a.L, a.L]);
    const gated = tf.tidy(() => tf.grad((g: tf.Tensor) => tf.sum(targetOfState(fx.ctx.cache, side, h, last, { gates: Object.assign([], { [last]: g }) })))(gate).dataSync() as Float32Array);
    gate.dispose();
    const product = a.grad.map((v, i) => v * a.probs[i]);
    const size = Math.max(...Array.from(gated, Math.abs));
    expect(size).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(product, gated)).toBeLessThan(1e-5 * size);
  });
});
