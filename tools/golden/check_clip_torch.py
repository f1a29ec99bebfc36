"""Compare clip_torch against the golden forward expectations (cases.safetensors).

usage: /usr/bin/python3 tools/golden/check_clip_torch.py [FIXTURE_DIR] [--float64]
Prints the max |Δ| per tensor; exits 1 if any exceeds 1e-5.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_torch as ct  # noqa: E402

TOL = 1e-5


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    folder = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "fixtures", "clip-tiny")
    dtype = torch.float64 if "--float64" in sys.argv else torch.float32
    m = ct.load(folder, dtype)
    c, meta = ct.read_safetensors(os.path.join(folder, "cases.safetensors"))
    px = torch.from_numpy(c["pixel_values"])
    ids = torch.from_numpy(c["input_ids"])
    with torch.no_grad():
        v = m.vision_forward(px)
        t = m.text_forward(ids)
        ie, te = v["embeds"], t["embeds"]
        lpi, lpt = m.logits(ie, te)
        got = {
            "vision_embeddings": v["embeddings"],
            "vision_hidden_states": torch.stack(v["hidden_states"]),
            "vision_attentions": torch.stack(v["attentions"]),
            "vision_attention_last": v["attentions"][-1],
            "vision_pooled": v["pooled"],
            "image_embeds": ie,
            "image_embeds_normalized": ct.normalize(ie),
            "text_hidden_states": torch.stack(t["hidden_states"]),
            "text_attentions": torch.stack(t["attentions"]),
            "text_attention_last": t["attentions"][-1],
            "text_last_hidden_state": t["last_hidden_state"],
            "text_pool_index": t["pool_index"],
            "text_pooled": t["pooled"],
            "text_embeds": te,
            "text_embeds_normalized": ct.normalize(te),
            "logits_per_image": lpi,
            "logits_per_text": lpt,
        }
        # API cross-checks (not in the fixture): the convenience paths agree with the forward
        extra = {
            "image_embeds()": (m.image_embeds(px), ie),
            "text_embeds()": (m.text_embeds(ids), te),
            "text_embeds_from_token_embeddings()": (m.text_embeds_from_token_embeddings(m.token_embeddings(ids), ids), te),
            "image_embeds_from_hidden(layer 2)": (m.image_embeds_from_hidden(v["hidden_states"][2], 2), ie),
            "text_embeds_from_hidden(layer 3)": (m.text_embeds_from_hidden(t["hidden_states"][3], 3, ids), te),
            "with_token_rows_scaled(ones)": (m.with_token_rows_scaled(torch.ones(m.w["text_model.embeddings.token_embedding.weight"].shape[0])).text_embeds(ids), te),
        }
    worst = 0.0
    print(f"fixture {folder} ({meta.get('fixture', '?')}), dtype {dtype}")
    for name in sorted(c):
        if name in ("pixel_values", "input_ids"):
            continue
        if name not in got:
            print(f"  {name:28s} NOT CHECKED")
            continue
        g = got[name].detach().double().numpy()
        e = c[name].astype(np.float64)
        if g.shape != e.shape:
            print(f"  {name:28s} SHAPE {g.shape} != {e.shape}")
            worst = float("inf")
            continue
        d = float(np.max(np.abs(g - e))) if g.size else 0.0
        worst = max(worst, d)
        print(f"  {name:28s} {str(list(e.shape)):24s} max|Δ| = {d:.3e}")
    for name, (a, b) in extra.items():
        d = float((a.double() - b.double()).abs().max())
        worst = max(worst, d)
        print(f"  [api] {name:36s} max|Δ| = {d:.3e}")
    # gradient smoke test: d cos / d hidden_state at layer 2 is finite and non-zero
    h = v["hidden_states"][2].detach().clone().requires_grad_(True)
    s = ct.cosine(m.image_embeds_from_hidden(h, 2), te.detach()).sum()
    (g,) = torch.autograd.grad(s, h)
    print(f"  [api] grad wrt vision hidden_states[2]: |g|max = {float(g.abs().max()):.3e}, finite = {bool(torch.isfinite(g).all())}")
    ok = worst < TOL and bool(torch.isfinite(g).all()) and float(g.abs().max()) > 0
    print(f"worst max|Δ| = {worst:.3e}  ->  {'OK' if ok else 'FAIL'} (tolerance {TOL:g})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
