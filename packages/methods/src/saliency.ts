// Vanilla gradient saliency (Simonyan et al. 2014): image = max over colour channels of
// |∂target/∂pixel|; text = L2 norm of the gradient w.r.t. each token embedding.
import * as tf from '@tensorflow/tfjs-core';
import type { Explainer } from '@ceb/core';
import { attribution, checkCaption, resolveOptions, take, targetFromState, imageMapFromPixels, textMapFromTokens } from './common';

export type SaliencyOptions = Record<string, never>;

export const saliency: Explainer<SaliencyOptions> = {
  name: 'saliency',
  description: 'vanilla gradient (Simonyan et al. 2014): image = max over channels of |∂target/∂pixel|; text = ‖∂target/∂token embedding‖₂',
  sides: ['image', 'text'],
  options: {},
  async explain(ctx, side, options) {
    const t0 = performance.now();
    resolveOptions('saliency', {}, options);
    const { model, pair } = ctx;
    if (side === 'image') {
      const s = model.config.vision.imageSize;
      const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(targetFromState(ctx, 'image', model.vision.embed(x as tf.Tensor4D), 0)))(pair.pixels));
      const [, c] = grad.shape;
      const gv = take(grad);
      const map = new Float32Array(s * s);
      for (let ch = 0; ch < c; ch++) {
        for (let i = 0; i < s * s; i++) map[i] = Math.max(map[i], Math.abs(gv[ch * s * s + i]));
      }
      return attribution('saliency', side, imageMapFromPixels(map, s), t0);
    }
    checkCaption(pair.ids);
    const tok = tf.tidy(() => model.text.tokenEmbeddings([pair.ids]));
    const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(targetFromState(ctx, 'text', model.text.embedTokens(x as tf.Tensor3D), 0)))(tok));
    const [, L, D] = tok.shape;
    tok.dispose();
    const gv = take(grad);
    const norms = new Float64Array(L);
    for (let t = 0; t < L; t++) {
      let ss = 0;
      for (let d = 0; d < D; d++) ss += gv[t * D + d] ** 2;
      norms[t] = Math.sqrt(ss);
    }
    return attribution('saliency', side, textMapFromTokens(norms), t0);
  },
};
