// FastIG as the code behind the published NIB table computes it (LMBTough/NIB@d4d1138
// salicncy/fast_ig.py:4-38): gradient × attention of the LAST block, R = ∂target/∂A ⊙ A, mean
// over heads, the CLS row over the patches (image) / the pooled row over every token (text).
// Not integrated gradients and not the FastIG paper's input × gradient (see docs/methods.md).
import { lastAttentionExplainer } from './last-attention';

export const fastig = lastAttentionExplainer({
  name: 'fastig',
  description:
    'FastIG as NIB’s code (salicncy/fast_ig.py): mean_heads(∂target/∂A ⊙ A) of the last block, signed; CLS row over the patches (image) / pooled row over all tokens, min-max incl. BOS/EOS (text)',
  note: 'the NIB repository’s FastIG: a gradient × attention map of the last block, not an integrated-gradients method',
  cell: (grad, prob) => grad * prob,
});
