// Vanilla gradient saliency (Simonyan et al. 2014): image = max over colour channels of
// |∂target/∂pixel|; text = L2 norm of the gradient w.r.t. each token embedding.
import * as tf from '@tensorflow/tfjs-core';
import { targetOfPixels, targetOfTokenEmbeddings } from '@ceb/core';
import { defineExplainer, imageMapFromPixels, take, textMapFromTokens } from './common';

export type SaliencyOptions = Record<string, never>;

export const saliency = defineExplainer<SaliencyOptions>({
  name: 'saliency',
  description: 'vanilla gradient (Simonyan et al. 2014): image = max over channels of |∂target/∂pixel|; text = ‖∂target/∂token embedding‖₂',
  options: {},
  image(ctx) {
    const s = ctx.model.config.vision.imageSize;
    const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(targetOfPixels(ctx.cache, x as tf.Tensor4D)))(ctx.pair.pixels));
    const c = ctx.model.config.vision.numChannels;
    const gv = take(grad);
    const map = new Float32Array(s * s);
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < s * s; i++) map[i] = Math.max(map[i], Math.abs(gv[ch * s * s + i]));
    }
    return { map: imageMapFromPixels(map, s) };
  },
  text(ctx) {
    const { model, pair } = ctx;
    const tok = tf.tidy(() => model.text.tokenEmbeddings([pair.ids]));
    const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(targetOfTokenEmbeddings(ctx.cache, x as tf.Tensor3D)))(tok));
    const [, L, D] = tok.shape;
    tok.dispose();
    const gv = take(grad);
    const norms = new Float64Array(L);
    for (let t = 0; t < L; t++) {
      let ss = 0;
      for (let d = 0; d < D; d++) ss += gv[t * D + d] ** 2;
      norms[t] = Math.sqrt(ss);
    }
    return { map: textMapFromTokens(norms) };
  },
});
