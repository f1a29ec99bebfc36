// NIB's "SaliencyMap" (LMBTough/NIB@d4d1138 salicncy/saliencymap.py:4-38): the magnitude of the
// gradient of the target with respect to the LAST block's attention probabilities, mean over
// heads, the CLS row over the patches (image) / the pooled row over every token (text). A
// different quantity from the input-gradient saliency of Simonyan et al. (`saliency`).
import { lastAttentionExplainer } from './last-attention';

export const attentionSaliency = lastAttentionExplainer({
  name: 'attention-saliency',
  description:
    'NIB’s SaliencyMap (salicncy/saliencymap.py): mean_heads |∂target/∂A| of the last block; CLS row over the patches (image) / pooled row over all tokens, min-max incl. BOS/EOS (text)',
  note: 'the gradient w.r.t. the last attention map, not w.r.t. the input (that is `saliency`)',
  cell: (grad) => Math.abs(grad),
});
