#!/usr/bin/env python3
"""M2IB per pair in PyTorch, for the ratio in docs/performance.md: the same geometry and settings
as `pnpm bench:perf` (random ViT-B/32 weights, layer 9, 10 steps x 10 copies, a 12-token caption,
the prefix computed once per pair), the forward of tools/golden/clip_torch.py (an independent
re-implementation of HF CLIPModel), the M2IB loop as the official code runs it (sigmoid mask,
noise N(0, 1), Adam lr 1, beta 0.1). Prints one JSON line.

    python3 scripts/m2ib-torch-perf.py [--threads 2] [--repeat 3]
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "golden"))
from clip_torch import Clip, cosine  # noqa: E402

VISION = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12, "image_size": 224, "patch_size": 32, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}
TEXT = {"hidden_size": 512, "intermediate_size": 2048, "num_hidden_layers": 12, "num_attention_heads": 8, "vocab_size": 49408, "max_position_embeddings": 77, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "bos_token_id": 49406, "eos_token_id": 49407}


def random_weights(seed: int = 0) -> dict:
    """HF-named weights of a CLIP ViT-B/32: LayerNorms 1/0, everything else N(0, 0.02^2)."""
    g = torch.Generator().manual_seed(seed)
    w = {}

    def lin(name, out_f, in_f, bias=True):
        w[name + ".weight"] = torch.randn(out_f, in_f, generator=g) * 0.02
        if bias:
            w[name + ".bias"] = torch.randn(out_f, generator=g) * 0.02

    def ln(name, d):
        w[name + ".weight"], w[name + ".bias"] = torch.ones(d), torch.zeros(d)

    for tower, c in (("vision_model", VISION), ("text_model", TEXT)):
        d, f = c["hidden_size"], c["intermediate_size"]
        for i in range(c["num_hidden_layers"]):
            p = f"{tower}.encoder.layers.{i}"
            for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                lin(f"{p}.self_attn.{proj}", d, d)
            ln(f"{p}.layer_norm1", d)
            ln(f"{p}.layer_norm2", d)
            lin(f"{p}.mlp.fc1", f, d)
            lin(f"{p}.mlp.fc2", d, f)
    v, t = VISION["hidden_size"], TEXT["hidden_size"]
    w["vision_model.embeddings.patch_embedding.weight"] = torch.randn(v, 3, 32, 32, generator=g) * 0.02
    w["vision_model.embeddings.class_embedding"] = torch.randn(v, generator=g) * 0.02
    w["vision_model.embeddings.position_embedding.weight"] = torch.randn(50, v, generator=g) * 0.02
    ln("vision_model.pre_layrnorm", v)
    ln("vision_model.post_layernorm", v)
    lin("visual_projection", 512, v, bias=False)
    w["text_model.embeddings.token_embedding.weight"] = torch.randn(TEXT["vocab_size"], t, generator=g) * 0.02
    w["text_model.embeddings.position_embedding.weight"] = torch.randn(77, t, generator=g) * 0.02
    ln("text_model.final_layer_norm", t)
    lin("text_projection", 512, t, bias=False)
    w["logit_scale"] = torch.tensor(4.6052)
    return w


def fit(rest, h, other, steps=10, copies=10, beta=0.1, lr=1.0, seed=0):
    """The M2IB loop on a cached state h [1, L, D]; returns the per-token capacity."""
    g = torch.Generator().manual_seed(seed)
    alpha = torch.full_like(h, 5.0, requires_grad=True)
    opt = torch.optim.Adam([alpha], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        lam = torch.sigmoid(alpha)
        eps = torch.randn((copies,) + tuple(h.shape[1:]), generator=g)
        z = lam * h + (1 - lam) * eps
        fit_term = cosine(rest(z), other, eps=1e-6).mean()
        mu, var = lam * h, (1 - lam) ** 2
        kl = -0.5 * (1 + torch.log(var) - mu ** 2 - var)
        loss = beta * kl.mean() - fit_term
        loss.backward()
        opt.step()
    return kl.detach().sum(-1)


def pair_ms(model: Clip, pixels, ids, layer=9):
    t0 = time.perf_counter()
    with torch.no_grad():
        hv = model.vision_blocks(model.vision_encoder_input(pixels), 0, layer + 1, keep=False)["hidden"]
        ht = model.text_blocks(model.text_encoder_input(model.token_embeddings(ids)), 0, layer + 1, keep=False)["hidden"]
        img = model.vision_head(model.vision_blocks(hv, layer + 1, keep=False)["hidden"])["embeds"]
        txt = model.text_head(model.text_blocks(ht, layer + 1, keep=False)["hidden"], ids)["embeds"]
    t1 = time.perf_counter()
    fit(lambda z: model.image_embeds_from_hidden(z, layer + 1), hv, txt)
    t2 = time.perf_counter()
    fit(lambda z: model.text_embeds_from_hidden(z, layer + 1, ids.expand(z.shape[0], -1)), ht, img)
    t3 = time.perf_counter()
    return {"prefixMs": (t1 - t0) * 1e3, "imageMapMs": (t2 - t1) * 1e3, "textMapMs": (t3 - t2) * 1e3, "pairMs": (t3 - t0) * 1e3}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = Clip({"vision_config": VISION, "text_config": TEXT}, random_weights(), torch.float32)
    pixels = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    ids = torch.tensor([[49406] + [320 + 7 * i for i in range(10)] + [49407]])
    pair_ms(model, pixels, ids)  # warm-up
    runs = sorted((pair_ms(model, pixels, ids) for _ in range(a.repeat)), key=lambda r: r["pairMs"])
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "runs": a.repeat, **runs[len(runs) // 2]}))


if __name__ == "__main__":
    main()
