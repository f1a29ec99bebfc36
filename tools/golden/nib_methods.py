"""nib_methods — golden maps for NIB, FastIG and MFABA as the NIB code computes them, for
Grad-ECLIP and LeGrad, and an integrated-gradients identity check, on a fixture CLIP.

Written from the semantics of the cited code (see METHODS.md beside this file for every
formula with file:line@commit); nothing is copied from those projects. Uses the independent
HF-CLIP forward in clip_torch.py (this folder). Research/golden tool only, not the harness.

usage: /usr/bin/python3 tools/golden/nib_methods.py [FIXTURE_DIR] [--out FILE] [--case N]
  FIXTURE_DIR  default ../shared/fixtures/clip-tiny (beside the repository) (config.json, model.safetensors,
               cases.safetensors); every geometry number is read from the files.
  --out        default tools/golden/out/methods.safetensors
Prints a summary (IG identity, float64 agreement) and writes F32 tensors with the
parameters as strings in __metadata__. Runs in a few seconds on 2 CPU cores.
"""
from __future__ import annotations

import json
import math
import os
import struct
import sys
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clip_torch as ct  # noqa: E402

torch.set_num_threads(2)

# ----------------------------------------------------------------------------- parameters
# Small settings that fit a 4-block tower (the code's defaults are for 12-block ViT-B/32).
PARAMS = {
    "nib.target_layer": 2,      # NIB target_layer k: the INPUT of block k = hidden_states[k] (code default 9)
    "nib.num_steps": 10,        # code default 10
    "mfaba.steps": 10,          # hard-coded in NIB's mfaba.py
    "mfaba.step_size": 0.01,    # hard-coded in NIB's mfaba.py
    "gradeclip.image.blocks": 1,  # notebook: n=1 (last block only)
    "gradeclip.text.blocks": 2,   # notebook: n=8 of 12; here 2 of 4
    "gradeclip.heads": 1,         # the code recomputes the explained blocks with ONE head
    "legrad.layer_index": -2,     # LeWrapper default
}


# ----------------------------------------------------------------------------- small helpers
def minmax(x: torch.Tensor) -> torch.Tensor:
    """(x - min) / (max - min) over every element, as all the cited codes do (no flat guard)."""
    return (x - x.min()) / (x.max() - x.min())


def up_bilinear(grid: torch.Tensor, size: int) -> torch.Tensor:
    """[g, g] -> [size, size], bilinear, half-pixel centres (PyTorch align_corners=False)."""
    return F.interpolate(grid[None, None], size=(size, size), mode="bilinear", align_corners=False)[0, 0]


def leaf_hook(blocks: List[int], store: Dict[int, torch.Tensor]) -> Callable:
    """attn_hook that swaps the softmax probabilities of the given blocks for leaves of equal
    value, so that autograd.grad(score, store[b]) is the partial derivative w.r.t. that map."""
    def hook(b, probs):
        if b in blocks:
            leaf = probs.detach().requires_grad_(True)
            store[b] = leaf
            return leaf
        return probs
    return hook


def eps_of(cfg) -> float:
    return float(cfg.get("layer_norm_eps", 1e-5))


# ----------------------------------------------------------------------------- NIB (salicncy/nib.py)
def nib_accumulate(hs: torch.Tensor, score_from_state: Callable[[torch.Tensor], torch.Tensor], n: int) -> torch.Tensor:
    """The loop of nib_v / nib_t: for i = 1..n, x = hs*i/n (a fresh leaf), g = d score / d x,
    attribution += hs*g/n, in that order of operations."""
    attribution = torch.zeros_like(hs)
    for i in range(1, n + 1):
        x = (hs * i / n).detach().requires_grad_(True)
        (g,) = torch.autograd.grad(score_from_state(x), x)
        attribution = attribution + hs * g / n
    return attribution


def nib_image(m, px, text_emb, layer, n):
    hs = m.vision_forward(px)["hidden_states"][layer].detach()       # input of block `layer`
    score = lambda x: ct.cosine(text_emb, m.image_embeds_from_hidden(x, layer), eps=1e-6).mean()
    attribution = nib_accumulate(hs, score, n)                         # [B, L, D]
    tokens = torch.nansum(attribution, -1)                             # [B, L] (CLS first)
    g = int(round(math.sqrt(tokens.shape[1] - 1)))
    size = int(m.vcfg["image_size"])
    grid = tokens[0, 1:].reshape(g, g)
    return {"attribution": attribution[0], "tokens": tokens[0], "map": minmax(up_bilinear(grid, size)), "state": hs}


def nib_text(m, ids, image_embs, layer, n):
    """image_embs: [B, P], the embeddings of EVERY image of the batch (the code's target is the
    mean over them of cos(text, image_b)); B = 1 is the paired cosine."""
    hs = m.text_forward(ids)["hidden_states"][layer].detach()
    score = lambda x: ct.cosine(m.text_embeds_from_hidden(x, layer, ids), image_embs, eps=1e-6).mean()
    attribution = nib_accumulate(hs, score, n)                         # [1, L, D]
    tokens = torch.nansum(attribution[0], -1)                          # [L] (BOS ... EOS)
    return {"attribution": attribution[0], "tokens": tokens, "map": minmax(minmax(tokens)), "state": hs}


# ----------------------------------------------------------------------------- IG (Sundararajan et al. 2017)
def integrated_gradients(x: torch.Tensor, f_batch: Callable[[torch.Tensor], torch.Tensor], steps: int, rule: str = "right") -> torch.Tensor:
    """IG with baseline 0 along the straight path, Riemann rule over alpha_k: right: k/m, k=1..m.
    Computed independently of nib_accumulate: all path points in one batch, alpha formed
    first, gradients averaged, then multiplied by (x - 0). x: [1, L, D]; f_batch: [m, L, D] -> [m]."""
    if rule == "right":
        alphas = torch.arange(1, steps + 1, dtype=x.dtype) / steps
    elif rule == "left":
        alphas = torch.arange(0, steps, dtype=x.dtype) / steps
    else:
        raise ValueError(rule)
    pts = (alphas[:, None, None] * x[0][None]).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f_batch(pts).sum(), pts)
    return (x[0] - 0.0) * g.mean(0)


# ----------------------------------------------------------------------------- FastIG / Chefer / SaliencyMap (NIB's files)
def last_attention_grads(m, px, ids):
    """d logit / d A_last for both towers (logit = logits_per_image[0,0] = logits_per_text[0,0])."""
    nv, nt = m.num_vision_layers, m.num_text_layers
    sv: Dict[int, torch.Tensor] = {}
    st: Dict[int, torch.Tensor] = {}
    text_emb = m.text_embeds(ids).detach()
    img = m.vision_forward(px, attn_hook=leaf_hook([nv - 1], sv))["embeds"]
    lpi, _ = m.logits(img, text_emb)
    (gv,) = torch.autograd.grad(lpi[0, 0], sv[nv - 1])
    image_emb = m.image_embeds(px).detach()
    txt = m.text_forward(ids, attn_hook=leaf_hook([nt - 1], st))["embeds"]
    _, lpt = m.logits(image_emb, txt)
    (gt,) = torch.autograd.grad(lpt[0, 0], st[nt - 1])
    return (gv, sv[nv - 1].detach()), (gt, st[nt - 1].detach())


def attention_grad_methods(m, px, ids):
    (gv, av), (gt, at) = last_attention_grads(m, px, ids)
    size = int(m.vcfg["image_size"])
    L = av.shape[-1]
    g = int(round(math.sqrt(L - 1)))
    out = {}
    per = {
        "fastig": (gv * av, gt * at),                                   # fast_ig.py:16,35
        "chefer": ((gv * av).clamp(min=0), (gt * at).clamp(min=0)),     # chefer.py:18,39
        "saliencymap": (gv.abs(), gt.abs()),                            # saliencymap.py:16,35
    }
    for name, (v, t) in per.items():
        vt = v[0, :, 0, :].mean(0)          # CLS row, every column (CLS column first), mean over heads
        tt = t[0, :, -1, :].mean(0)         # LAST row (= EOS when unpadded), every column
        out[f"nibcode.{name}.image.tokens"] = vt
        out[f"nibcode.{name}.image.map"] = minmax(up_bilinear(vt[1:].reshape(g, g), size))
        out[f"nibcode.{name}.text.tokens"] = tt
        out[f"nibcode.{name}.text.map"] = minmax(tt)
    return out


# ----------------------------------------------------------------------------- MFABA (NIB's mfaba.py)
def mfaba_image(m, px, text_emb, steps, step):
    eps = eps_of(m.vcfg)
    hs = m.vision_embeddings(px).detach()                 # BEFORE pre_layrnorm
    hats, grads = [hs], []
    for _ in range(steps):
        x = hs.detach().requires_grad_(True)
        h = m.vision_blocks(m._ln(x, "vision_model.pre_layrnorm", eps), keep=False)["hidden"]
        e = m.vision_head(h)["embeds"]
        (g,) = torch.autograd.grad(ct.cosine(e, text_emb, eps=1e-8).mean(), x)
        hs = x.detach() - step * g.sign()
        hats.append(hs)
        grads.append(g)
    dh = torch.stack(hats)[1:] - torch.stack(hats)[:-1]
    heat = -(dh * torch.stack(grads)).sum(0)              # [1, L, D]
    tokens = torch.nansum(heat, -1)[0]
    g_ = int(round(math.sqrt(tokens.shape[0] - 1)))
    return {"tokens": tokens, "map": minmax(up_bilinear(tokens[1:].reshape(g_, g_), int(m.vcfg["image_size"])))}


def mfaba_text(m, ids, image_emb, steps, step):
    key = "text_model.embeddings.token_embedding.weight"
    W = m.w[key].detach().clone()
    row = ids[0]
    hats, grads = [W[row]], []
    for _ in range(steps):
        Wl = W.detach().requires_grad_(True)
        te = m.text_embeds_from_token_embeddings(F.embedding(ids, Wl), ids)
        _, lpt = m.logits(image_emb, te)
        (g,) = torch.autograd.grad(lpt[0, 0], Wl)           # gradient w.r.t. the whole table
        grads.append(g[row])
        W = Wl.detach() - step * g.sign()                   # every row moves (unused rows: sign 0)
        hats.append(W[row])
    dh = torch.stack(hats)[1:] - torch.stack(hats)[:-1]
    attribution = -(dh * torch.stack(grads)).sum(0)       # [L, D]
    tokens = torch.nansum(attribution, -1)
    return {"tokens": tokens, "map": minmax(tokens)}


# ----------------------------------------------------------------------------- Grad-ECLIP
def eclip_block(m, tower, i, h, heads, causal, qk_outproj=False):
    """One pre-LN block recomputed as the Grad-ECLIP code does: q, k, v = in-projection of
    ln_1(h); attention with `heads` heads (the code: 1), scale (D/heads)^-0.5; returns the new
    state and (q, k, v, attn_out) where attn_out is the attention output BEFORE out_proj."""
    cfg = m.vcfg if tower == "vision_model" else m.tcfg
    eps = eps_of(cfg)
    act = ct._ACTS[cfg.get("hidden_act", "quick_gelu")]
    p = f"{tower}.encoder.layers.{i}"
    x = m._ln(h, p + ".layer_norm1", eps)
    q = m._lin(x, p + ".self_attn.q_proj")
    k = m._lin(x, p + ".self_attn.k_proj")
    v = m._lin(x, p + ".self_attn.v_proj")
    b, l, d = q.shape
    hd = d // heads
    qh = (q * hd ** -0.5).view(b, l, heads, hd).transpose(1, 2)
    kh = k.view(b, l, heads, hd).transpose(1, 2)
    vh = v.view(b, l, heads, hd).transpose(1, 2)
    s = qh @ kh.transpose(-1, -2)
    if causal:
        s = s.masked_fill(torch.triu(torch.ones(l, l, dtype=torch.bool), 1), float("-inf"))
    ao = (torch.softmax(s, -1) @ vh).transpose(1, 2).reshape(b, l, d)
    h = h + m._lin(ao, p + ".self_attn.out_proj")
    h = h + m._lin(act(m._lin(m._ln(h, p + ".layer_norm2", eps), p + ".mlp.fc1")), p + ".mlp.fc2")
    if qk_outproj:   # generate_emap.py: q_out, k_out = out_proj(q), out_proj(k) (weights AND bias)
        with torch.no_grad():
            q = m._lin(q, p + ".self_attn.out_proj")
            k = m._lin(k, p + ".self_attn.out_proj")
    return h, (q, k, v, ao)


def cos_rows(a, b):
    return (F.normalize(a, dim=-1) * F.normalize(b, dim=-1)).sum(-1)


def gradeclip_image(m, px, text_emb, n_blocks, heads, qk_outproj=False):
    nv = m.num_vision_layers
    h = m.vision_forward(px)["hidden_states"][nv - n_blocks].detach().requires_grad_(True)   # input of block nv-n
    saved = []
    for i in range(nv - n_blocks, nv):
        h, t = eclip_block(m, "vision_model", i, h, heads, False, qk_outproj)
        saved.append(t)
    e = m.vision_head(h)["embeds"]                                      # CLS after ln_post, @ proj
    c = (F.normalize(e, dim=-1) * F.normalize(text_emb, dim=-1)).sum()  # cos with the clean text
    per_layer = []
    for (q, k, v, ao) in saved:
        (g,) = torch.autograd.grad(c, ao, retain_graph=True)
        sim = minmax(cos_rows(q[0, :1], k[0, 1:]))                      # CLS query vs patch keys
        per_layer.append((g[0, 0] * v[0, 1:] * sim[:, None]).sum(-1))   # [L-1] patches
    raw = torch.stack(per_layer)                                        # [n, L-1] before ReLU
    emap = F.relu(raw).sum(0)                                           # image notebook: ReLU per layer, then sum
    g_ = int(round(math.sqrt(emap.shape[0])))
    grid = emap.reshape(g_, g_)
    return {"tokens": raw.sum(0), "grid": grid, "map": up_bilinear(minmax(grid), int(m.vcfg["image_size"])), "cos": c.detach()}


def gradeclip_text(m, ids, image_emb, n_blocks, heads):
    nt = m.num_text_layers
    h = m.text_forward(ids)["hidden_states"][nt - n_blocks].detach().requires_grad_(True)
    saved = []
    for i in range(nt - n_blocks, nt):
        h, t = eclip_block(m, "text_model", i, h, heads, True)
        saved.append(t)
    e = m.text_head(h, ids)["embeds"]                                   # ln_final, EOS = argmax(ids)
    c = (F.normalize(image_emb, dim=-1) * F.normalize(e, dim=-1)).sum()
    eos = int(ids[0].argmax())
    per_layer = []
    for (q, k, v, ao) in saved:
        (g,) = torch.autograd.grad(c, ao, retain_graph=True)
        sim = minmax(cos_rows(q[0, eos:eos + 1], k[0]))                 # EOS query vs EVERY key (pads too)
        per_layer.append((g[0, eos] * v[0] * sim[:, None]).sum(-1))     # [L]
    raw = torch.stack(per_layer).sum(0)                                 # text notebook: sum, then ReLU
    emap = F.relu(raw)[1:eos]
    return {"tokens": raw, "map": emap / emap.sum(), "cos": c.detach()}


# ----------------------------------------------------------------------------- LeGrad
def legrad_image(m, px, text_emb, layer_index):
    nv = m.num_vision_layers
    start = layer_index if layer_index >= 0 else nv + layer_index
    store: Dict[int, torch.Tensor] = {}
    r = m.vision_blocks(m.vision_encoder_input(px), 0, None, attn_hook=leaf_hook(list(range(start, nv)), store), keep=True)
    t = F.normalize(text_emb, dim=-1)
    eps = eps_of(m.vcfg)
    patch = int(m.vcfg["patch_size"])
    out = {}
    acc = 0
    tok_sum = 0
    for l in range(start, nv):
        feat = r["hidden_states"][l + 1]                                # output of block l
        pooled = m._ln(feat.mean(dim=1), "vision_model.post_layernorm", eps)   # mean over ALL tokens
        f = F.normalize(F.linear(pooled, m.w["visual_projection.weight"]), dim=-1)
        s = (t * f).sum()
        (g,) = torch.autograd.grad(s, store[l], retain_graph=True)      # [1, H, L, L]
        rel = g.clamp(min=0).mean(1).mean(1)[0]                         # heads, then query rows -> [L]
        out[f"legrad.image.tokens.block{l}"] = rel
        g_ = int(round(math.sqrt(rel.shape[0] - 1)))
        grid = rel[1:].reshape(g_, g_)
        acc = acc + F.interpolate(grid[None, None], scale_factor=patch, mode="bilinear", align_corners=False)[0, 0]
        tok_sum = tok_sum + rel
    out["legrad.image.tokens"] = tok_sum
    out["legrad.image.map"] = minmax(acc)
    return out, start


# ----------------------------------------------------------------------------- everything
def x_dtype(t):
    return t.dtype


def compute(m, px, ids, px_batch, extras=True):
    P = PARAMS
    text_emb = m.text_embeds(ids).detach()
    image_emb = m.image_embeds(px).detach()
    o: Dict[str, torch.Tensor] = {}
    info: Dict[str, float] = {}

    k, n = P["nib.target_layer"], P["nib.num_steps"]
    ni = nib_image(m, px, text_emb, k, n)
    o["nib.image.attribution"], o["nib.image.tokens"], o["nib.image.map"] = ni["attribution"], ni["tokens"], ni["map"]
    nt = nib_text(m, ids, image_emb, k, n)
    o["nib.text.attribution"], o["nib.text.tokens"], o["nib.text.map"] = nt["attribution"], nt["tokens"], nt["map"]
    # the text target of the code is the mean over the batch's images: here a batch of 2 images
    nb = nib_text(m, ids, m.image_embeds(px_batch).detach(), k, n)
    o["nib.text.batch2.tokens"], o["nib.text.batch2.map"] = nb["tokens"], nb["map"]

    # IG identity, same states, same target, computed independently
    fi = lambda X: ct.cosine(text_emb, m.image_embeds_from_hidden(X, k), eps=1e-6)
    ids_rep = lambda b: ids.expand(b, -1)
    ft = lambda X: ct.cosine(m.text_embeds_from_hidden(X, k, ids_rep(X.shape[0])), image_emb, eps=1e-6)
    ig_i = integrated_gradients(ni["state"], fi, n, "right")
    ig_t = integrated_gradients(nt["state"], ft, n, "right")
    o["ig.image.attribution"], o["ig.text.attribution"] = ig_i, ig_t
    g_ = int(round(math.sqrt(ig_i.shape[0] - 1)))
    ig_i_map = minmax(up_bilinear(torch.nansum(ig_i, -1)[1:].reshape(g_, g_), int(m.vcfg["image_size"])))
    ig_t_map = minmax(torch.nansum(ig_t, -1))
    info["ig.image.max_abs_diff_attribution"] = float((ig_i - ni["attribution"]).abs().max())
    info["ig.image.max_abs_attribution"] = float(ni["attribution"].abs().max())
    info["ig.image.max_abs_diff_map"] = float((ig_i_map - ni["map"]).abs().max())
    info["ig.text.max_abs_diff_attribution"] = float((ig_t - nt["attribution"]).abs().max())
    info["ig.text.max_abs_attribution"] = float(nt["attribution"].abs().max())
    info["ig.text.max_abs_diff_map"] = float((ig_t_map - nt["map"]).abs().max())
    if extras:
        ig_left = integrated_gradients(ni["state"], fi, n, "left")
        info["ig.image.left_rule_max_abs_diff_map"] = float(
            (minmax(up_bilinear(torch.nansum(ig_left, -1)[1:].reshape(g_, g_), int(m.vcfg["image_size"]))) - ni["map"]).abs().max())
    # completeness: sum of IG vs f(x) - f(0), at n steps and with a fine grid
    with torch.no_grad():
        fx, f0 = float(fi(ni["state"])[0]), float(fi(torch.zeros_like(ni["state"]))[0])
    info["ig.image.f(x)-f(0)"] = fx - f0
    info["ig.image.sum_attribution_n"] = float(ni["attribution"].sum())
    if extras:
        # the exact integral, on a grid graded towards alpha = 0 (alpha = u^4, midpoints in u), where
        # LayerNorm's epsilon makes the integrand change fast (alpha ~ sqrt(eps)/std(h) ~ 3e-3)
        u = (torch.arange(400, dtype=x_dtype(ni["state"])) + 0.5) / 400
        pts = ((u ** 4)[:, None, None] * ni["state"][0][None]).detach().requires_grad_(True)
        (gg,) = torch.autograd.grad(fi(pts).sum(), pts)
        info["ig.image.sum_attribution_exact"] = float((ni["state"][0] * (4 * u ** 3 / 400)[:, None, None] * gg).sum())

    o.update(attention_grad_methods(m, px, ids))

    mi = mfaba_image(m, px, text_emb, P["mfaba.steps"], P["mfaba.step_size"])
    o["mfaba.image.tokens"], o["mfaba.image.map"] = mi["tokens"], mi["map"]
    mt = mfaba_text(m, ids, image_emb, P["mfaba.steps"], P["mfaba.step_size"])
    o["mfaba.text.tokens"], o["mfaba.text.map"] = mt["tokens"], mt["map"]

    ge = gradeclip_image(m, px, text_emb, P["gradeclip.image.blocks"], P["gradeclip.heads"])
    o["gradeclip.image.tokens"], o["gradeclip.image.grid"], o["gradeclip.image.map"] = ge["tokens"], ge["grid"], ge["map"]
    info["gradeclip.image.cos_modified_model"] = float(ge["cos"])
    info["gradeclip.image.cos_real_model"] = float(ct.cosine(image_emb, text_emb)[0])
    ge2 = gradeclip_image(m, px, text_emb, P["gradeclip.image.blocks"], P["gradeclip.heads"], qk_outproj=True)
    o["gradeclip.image.outproj_qk.map"] = ge2["map"]
    gt = gradeclip_text(m, ids, image_emb, P["gradeclip.text.blocks"], P["gradeclip.heads"])
    o["gradeclip.text.tokens"], o["gradeclip.text.map"] = gt["tokens"], gt["map"]
    info["gradeclip.text.cos_modified_model"] = float(gt["cos"])
    ctx = int(m.tcfg.get("max_position_embeddings", 77))
    ids77 = torch.zeros(1, ctx, dtype=torch.long)
    ids77[0, : ids.shape[1]] = ids[0]
    gp = gradeclip_text(m, ids77, image_emb, P["gradeclip.text.blocks"], P["gradeclip.heads"])
    o["gradeclip.text.pad77.tokens"], o["gradeclip.text.pad77.map"] = gp["tokens"], gp["map"]

    lg, start = legrad_image(m, px, text_emb, P["legrad.layer_index"])
    o.update(lg)
    info["legrad.start_block"] = start
    return {k_: v.detach() for k_, v in o.items()}, info


# ----------------------------------------------------------------------------- safetensors (numpy)
def write_f32_safetensors(path: str, tensors: Dict[str, np.ndarray], metadata: Dict[str, str]) -> None:
    arrs = {k: np.ascontiguousarray(np.asarray(v, dtype="<f4")) for k, v in tensors.items()}
    header: Dict[str, object] = {"__metadata__": metadata}
    off = 0
    for k in sorted(arrs):
        header[k] = {"dtype": "F32", "shape": list(arrs[k].shape), "data_offsets": [off, off + arrs[k].nbytes]}
        off += arrs[k].nbytes
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for k in sorted(arrs):
            f.write(arrs[k].tobytes())


def main():
    args = sys.argv[1:]
    out_path = os.path.join(HERE, "..", "..", "packages", "methods", "test", "golden", "methods.safetensors")
    case = 0
    pos = []
    i = 0
    while i < len(args):
        if args[i] == "--out":
            out_path = args[i + 1]; i += 2
        elif args[i] == "--case":
            case = int(args[i + 1]); i += 2
        else:
            pos.append(args[i]); i += 1
    folder = pos[0] if pos else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "fixtures", "clip-tiny")
    cases, _ = ct.read_safetensors(os.path.join(folder, "cases.safetensors"))
    px_all = torch.from_numpy(cases["pixel_values"])
    ids_all = torch.from_numpy(cases["input_ids"])
    px, ids = px_all[case:case + 1], ids_all[case:case + 1]
    if int((ids[0] == ids[0].max()).nonzero()[0]) != ids.shape[1] - 1:
        print("note: the caption is padded after its EOS; the NIB-code text methods read the LAST row, not the EOS row")

    m32 = ct.load(folder, torch.float32)
    o32, info = compute(m32, px, ids, px_all[0:2])
    m64 = m32.to(torch.float64)
    o64, info64 = compute(m64, px.double(), ids, px_all[0:2].double(), extras=False)

    drift = {k: float((o32[k].double() - o64[k]).abs().max()) for k in o32}
    print(f"fixture {folder}, case {case}; parameters {PARAMS}")
    print("IG identity (NIB's loop vs independent batched IG, zero baseline, right-point rule):")
    for k in sorted(info):
        if k.startswith("ig."):
            print(f"  {k:40s} {info[k]: .3e}" + (f"   (float64 run: {info64[k]: .3e})" if k in info64 else ""))
    for k in sorted(info):
        if not k.startswith("ig."):
            print(f"  {k:40s} {info[k]: .6f}")
    print("float32 vs float64 of the same algorithm, max |Δ| per tensor:")
    for k in sorted(drift):
        print(f"  {k:40s} {str(list(o32[k].shape)):12s} {drift[k]:.2e}")
    for k, v in o32.items():
        if not torch.isfinite(v).all():
            print(f"WARNING: {k} has non-finite values")

    meta = {"fixture": folder, "case_index": str(case), "generator": "tools/golden/nib_methods.py (clip_torch.py forward, torch %s)" % torch.__version__,
            "sources": "LMBTough/NIB@d4d1138b887e038d926e813c7ead3ddb8d19177c; Cyang-Zhao/Grad-Eclip@5c1b5cc10ce68c9caaabd9711012e892257f9d49; WalBouss/LeGrad@a9edb031422d5f5829d9e6238a1e21feb1972c92",
            "nib.layer_convention": "target_layer k = input of block k = HF hidden_states[k] (M2IB layer k-1)",
            "image_size": str(m32.vcfg["image_size"]), "grid": str(int(round(math.sqrt(o32["nib.image.tokens"].shape[0] - 1))))}
    meta.update({k: str(v) for k, v in PARAMS.items()})
    meta["legrad.start_block"] = str(info["legrad.start_block"])
    for k, v in info.items():
        meta["measured." + k] = repr(v)
    meta["measured.float64_max_abs_diff"] = json.dumps({k: float("%.3g" % v) for k, v in drift.items()})
    write_f32_safetensors(out_path, {k: v.numpy() for k, v in o32.items()}, meta)
    back, meta_back = ct.read_safetensors(out_path)   # read back with the other helper's reader
    assert set(back) == set(o32) and all(np.array_equal(back[k], o32[k].numpy().astype(np.float32)) for k in back)
    assert meta_back == meta
    print(f"wrote {out_path}: {len(o32)} tensors")


if __name__ == "__main__":
    main()
