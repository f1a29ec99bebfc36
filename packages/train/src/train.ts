// One training step (forward, contrastive loss, gradients, Adam update) and the optimiser.
import * as tf from '@tensorflow/tfjs-core';
import type { ClipModel } from '@ceb/core';
import { clipLoss, positivesMatrix } from './loss';
import { pixelBatch, type Scene } from './data';

/**
 * Adam with decoupled weight decay (AdamW) over named variables; the learning rate is
 * given per step so a schedule can drive it. Decay skips biases, LayerNorms, embeddings
 * and the logit scale (1-D/0-D tensors and *embedding* names).
 */
export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;

  constructor(
    private readonly vars: Map<string, tf.Variable>,
    private readonly opts: { beta1?: number; beta2?: number; eps?: number; weightDecay?: number } = {},
  ) {
    for (const [k, x] of vars) {
      this.m.set(k, tf.variable(tf.zerosLike(x), false));
      this.v.set(k, tf.variable(tf.zerosLike(x), false));
    }
  }

  step(grads: tf.NamedTensorMap, lr: number): void {
    const { beta1 = 0.9, beta2 = 0.98, eps = 1e-6, weightDecay = 0.1 } = this.opts;
    this.t++;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    for (const [k, x] of this.vars) {
      const g = grads[k];
      if (!g) continue;
      tf.tidy(() => {
        const m = this.m.get(k)!;
        const v = this.v.get(k)!;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        const decays = x.rank >= 2 && !k.includes('embedding') && weightDecay > 0;
        const next = tf.sub(decays ? tf.mul(x, 1 - lr * weightDecay) : x, tf.mul(update, lr));
        x.assign(next);
      });
    }
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}

/** Rows of equal length: each caption's ids padded with `pad` after its EOS (causal attention and argmax pooling ignore them). */
export function padIds(rows: readonly number[][], pad: number): number[][] {
  const l = Math.max(...rows.map((r) => r.length));
  return rows.map((r) => [...r, ...new Array<number>(l - r.length).fill(pad)]);
}

export function trainableVars(model: ClipModel): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  for (const [k, x] of model.params) {
    if (!(x instanceof tf.Variable)) throw new Error(`parameter ${k} is not a variable: build the model with trainable: true`);
    vars.set(k, x);
  }
  return vars;
}

/** The loss on a batch, without gradients. */
export function batchLoss(model: ClipModel, scenes: readonly Scene[], captionIds: number[][]): number {
  return tf.tidy(() => {
    const px = pixelBatch(scenes, model.config.vision.imageSize);
    const loss = clipLoss(
      model.encodeImage(px),
      model.encodeText(captionIds),
      model.params.get('logit_scale')!,
      positivesMatrix(scenes.map((s) => s.present), captionIds.length),
    );
    return loss.dataSync()[0];
  });
}

/** One optimisation step on a batch; returns the loss before the update. */
export function trainStep(
  model: ClipModel,
  opt: AdamW,
  vars: Map<string, tf.Variable>,
  scenes: readonly Scene[],
  captionIds: number[][],
  lr: number,
): number {
  const px = pixelBatch(scenes, model.config.vision.imageSize);
  const positives = positivesMatrix(scenes.map((s) => s.present), captionIds.length);
  const { value, grads } = tf.variableGrads(
    () => clipLoss(model.encodeImage(px), model.encodeText(captionIds), model.params.get('logit_scale')!, positives),
    [...vars.values()],
  );
  const loss = value.dataSync()[0];
  // variableGrads keys gradients by variable name, which core may make unique per model
  // (not the HF key): map them back to the keys the optimiser uses.
  const byKey: tf.NamedTensorMap = {};
  for (const [k, x] of vars) {
    const g = grads[x.name];
    if (!g) throw new Error(`no gradient for ${k} (variable ${x.name})`);
    byKey[k] = g;
  }
  opt.step(byKey, lr);
  value.dispose();
  tf.dispose(grads);
  px.dispose();
  return loss;
}

/** Linear warmup then cosine decay to `minFrac`·peak. */
export function learningRate(step: number, total: number, peak: number, warmup: number, minFrac = 0.05): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const p = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return peak * (minFrac + (1 - minFrac) * 0.5 * (1 + Math.cos(Math.PI * p)));
}
