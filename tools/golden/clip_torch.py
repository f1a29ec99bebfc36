"""clip_torch — an independent PyTorch implementation of the Hugging Face ``CLIPModel`` forward.

Written from the HF CLIP conventions as the fixtures README states them (pre-LN blocks,
quick_gelu, causal text mask, pooling at argmax(input_ids) = first maximum, projections without
bias, post_layernorm on the vision CLS token, final_layer_norm on the text tower). No
``transformers`` and no ``safetensors`` package: ``.safetensors`` files are parsed with numpy.
Research/golden tool only; not part of the harness. Needs torch (1.13 tested) and numpy.

API
---
File I/O
  read_safetensors(path) -> (dict[name, np.ndarray], metadata dict[str, str])
  write_safetensors(path, tensors: dict[name, np.ndarray | torch.Tensor], metadata=None)
      little-endian; F64/F32/F16/I64/I32/U8/BOOL; tensors stored largest item size first
      (so every offset is a multiple of its item size); metadata values must be strings.

Model
  m = load(folder, dtype=torch.float32)   # folder with config.json + model.safetensors
  m.dtype, m.config (the parsed config.json), m.vcfg / m.tcfg (vision_config / text_config)
  m.num_vision_layers, m.num_text_layers, m.bos_id, m.eos_id
  m.to(dtype) -> a new Clip with every float weight cast (e.g. torch.float64)

  Vision tower (pixel_values: [B, 3, S, S] in normalised space)
    m.vision_embeddings(pixel_values)       -> [B, Lv, Dv]  [CLS; patches] + positions, BEFORE pre_layrnorm
    m.vision_encoder_input(pixel_values)    -> [B, Lv, Dv]  pre_layrnorm(embeddings) = hidden_states[0]
    m.vision_blocks(h, start=0, end=None, attn_hook=None, keep=True)
        runs blocks start..end-1 on h (= hidden_states[start]); returns dict
        {"hidden": output of block end-1, "hidden_states": [h, out_start, ..., out_end-1],
         "attentions": [probs of block start, ...]} (lists only when keep=True).
        attn_hook(block_index, probs[B,H,L,L]) -> probs may replace the softmax probabilities.
    m.vision_head(h_last)                   -> dict {"pooled": post_layernorm(h_last[:, 0]), "embeds": pooled @ Wvᵀ}
    m.vision_forward(pixel_values, attn_hook=None) -> dict with embeddings, hidden_states (Nv+1),
        attentions (Nv), pooled, embeds (projected, NOT normalised)
    m.image_embeds(pixel_values)            -> [B, P] (= get_image_features)
    m.image_embeds_from_hidden(h, layer)    -> [B, P] running blocks layer.. from h = hidden_states[layer]

  Text tower (input_ids: [B, L] int64; BOS/EOS optional — pooling is argmax(ids), first maximum)
    m.token_embeddings(ids)                 -> [B, L, Dt] token-embedding rows only (no positions)
    m.text_encoder_input(token_embeds)      -> [B, L, Dt] token_embeds + positions = hidden_states[0]
    m.text_blocks(h, start=0, end=None, attn_hook=None, keep=True)  (causal mask, same dict as vision)
    m.text_head(h_last, ids)                -> dict {"last_hidden_state": final_layer_norm(h_last),
                                                   "pool_index": argmax(ids, -1), "pooled", "embeds"}
    m.text_forward(ids, token_embeds=None, attn_hook=None) -> dict like vision_forward plus
        last_hidden_state and pool_index
    m.text_embeds(ids)                      -> [B, P] (= get_text_features)
    m.text_embeds_from_token_embeddings(token_embeds, ids) -> [B, P]; e.g. scale rows:
        m.text_embeds_from_token_embeddings(m.token_embeddings(ids) * s[..., None], ids)
    m.text_embeds_from_hidden(h, layer, ids) -> [B, P] running blocks layer.. from hidden_states[layer]

  Token-embedding matrix copies
    m.with_token_embedding(matrix [V, Dt])  -> a new Clip (shallow copy) whose token-embedding
        matrix is ``matrix``; every other weight is shared (not copied)
    m.with_token_rows_scaled(factors)       -> a new Clip whose token-embedding row v is multiplied
        by factors[v]; ``factors`` is a [V] tensor/array or a dict {id: factor}

  Similarities
    cosine(a, b, eps=1e-8)                  -> row-wise cosine of [B, P] (or broadcastable) embeddings
    m.logits(image_embeds, text_embeds)     -> (logits_per_image [Bi, Bt], logits_per_text)
    normalize(x)                            -> x / ||x||_2 along the last axis

Gradients: every function is plain torch and differentiable. For a gradient-based method at
layer k: ``hs = m.vision_forward(px)["hidden_states"]; h = hs[k].detach().requires_grad_();
e = m.image_embeds_from_hidden(h, k); torch.autograd.grad(score(e), h)``. Attention probabilities
returned by *_blocks are graph tensors: call ``.retain_grad()`` on them (or use attn_hook to
substitute a leaf) before ``backward`` to read their gradients.
"""
from __future__ import annotations

import copy
import json
import math
import os
import struct
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

# ----------------------------------------------------------------------------- safetensors I/O

_ST_TO_NP = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}
_NP_TO_ST = {np.dtype(v).newbyteorder("<").str: k for k, v in _ST_TO_NP.items()}


def read_safetensors(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """Parse a .safetensors file: 8-byte LE header length, JSON header, raw LE data."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    meta = header.pop("__metadata__", {}) or {}
    out: Dict[str, np.ndarray] = {}
    for name, info in header.items():
        dt = info["dtype"]
        b0, b1 = info["data_offsets"]
        shape = tuple(info["shape"])
        if dt == "BF16":
            u16 = np.frombuffer(raw, dtype="<u2", count=(b1 - b0) // 2, offset=base + b0)
            arr = (u16.astype(np.uint32) << 16).view(np.float32).reshape(shape)
        else:
            npdt = np.dtype(_ST_TO_NP[dt]).newbyteorder("<")
            count = (b1 - b0) // npdt.itemsize
            arr = np.frombuffer(raw, dtype=npdt, count=count, offset=base + b0).reshape(shape)
        out[name] = arr.copy()
    return out, meta


def write_safetensors(path: str, tensors: Dict[str, object], metadata: Optional[Dict[str, str]] = None) -> None:
    """Write tensors (numpy arrays or torch tensors) as a little-endian .safetensors file."""
    arrays = {}
    for k, v in tensors.items():
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu().numpy()
        a = np.asarray(v)
        a = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<")))
        if a.dtype.str not in _NP_TO_ST and a.dtype != np.bool_:
            raise TypeError(f"{k}: unsupported dtype {a.dtype}")
        arrays[k] = a
    # largest item size first, then by name, so offsets are aligned to item sizes
    order = sorted(arrays, key=lambda k: (-arrays[k].dtype.itemsize, k))
    header: Dict[str, object] = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise TypeError(f"metadata {k} must be a string")
        header["__metadata__"] = dict(metadata)
    off = 0
    for k in order:
        a = arrays[k]
        st = "BOOL" if a.dtype == np.bool_ else _NP_TO_ST[a.dtype.str]
        header[k] = {"dtype": st, "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)  # pad header so data starts 8-aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for k in order:
            f.write(arrays[k].tobytes())


# ----------------------------------------------------------------------------- model


def normalize(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


def cosine(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Row-wise cosine similarity (torch.nn.functional.cosine_similarity semantics)."""
    return F.cosine_similarity(a, b, dim=-1, eps=eps)


def _quick_gelu(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


_ACTS = {"quick_gelu": _quick_gelu, "gelu": F.gelu}

AttnHook = Optional[Callable[[int, torch.Tensor], torch.Tensor]]


class Clip:
    """HF CLIPModel forward with explicit weights (a dict of torch tensors)."""

    def __init__(self, config: dict, weights: Dict[str, torch.Tensor], dtype: torch.dtype):
        self.config = config
        self.vcfg = config["vision_config"]
        self.tcfg = config["text_config"]
        self.w = weights
        self.dtype = dtype
        self.num_vision_layers = int(self.vcfg["num_hidden_layers"])
        self.num_text_layers = int(self.tcfg["num_hidden_layers"])
        self.bos_id = self.tcfg.get("bos_token_id")
        self.eos_id = self.tcfg.get("eos_token_id")

    # --- generic pieces
    def _ln(self, x, prefix, eps):
        return F.layer_norm(x, (x.shape[-1],), self.w[prefix + ".weight"], self.w[prefix + ".bias"], eps)

    def _lin(self, x, prefix, bias=True):
        return F.linear(x, self.w[prefix + ".weight"], self.w.get(prefix + ".bias") if bias else None)

    def _attention(self, x, prefix, heads, causal, block, attn_hook, keep):
        b, l, d = x.shape
        hd = d // heads
        scale = hd ** -0.5
        q = self._lin(x, prefix + ".q_proj") * scale
        k = self._lin(x, prefix + ".k_proj")
        v = self._lin(x, prefix + ".v_proj")
        q = q.view(b, l, heads, hd).transpose(1, 2)  # [B, H, L, hd]
        k = k.view(b, l, heads, hd).transpose(1, 2)
        v = v.view(b, l, heads, hd).transpose(1, 2)
        scores = q @ k.transpose(-1, -2)  # [B, H, L, L]
        if causal:
            mask = torch.triu(torch.ones(l, l, dtype=torch.bool, device=x.device), diagonal=1)
            scores = scores.masked_fill(mask, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        if attn_hook is not None:
            probs = attn_hook(block, probs)
        out = (probs @ v).transpose(1, 2).reshape(b, l, d)
        return self._lin(out, prefix + ".out_proj"), probs

    def _blocks(self, tower, h, start, end, causal, attn_hook, keep):
        cfg = self.vcfg if tower == "vision_model" else self.tcfg
        n = int(cfg["num_hidden_layers"])
        end = n if end is None else end
        if not (0 <= start <= end <= n):
            raise ValueError(f"blocks {start}..{end} outside 0..{n}")
        eps = float(cfg.get("layer_norm_eps", 1e-5))
        heads = int(cfg["num_attention_heads"])
        act = _ACTS[cfg.get("hidden_act", "quick_gelu")]
        hidden_states = [h] if keep else None
        attentions = [] if keep else None
        for i in range(start, end):
            p = f"{tower}.encoder.layers.{i}"
            r = h
            a, probs = self._attention(self._ln(h, p + ".layer_norm1", eps), p + ".self_attn", heads, causal, i, attn_hook, keep)
            h = r + a
            r = h
            h = r + self._lin(act(self._lin(self._ln(h, p + ".layer_norm2", eps), p + ".mlp.fc1")), p + ".mlp.fc2")
            if keep:
                hidden_states.append(h)
                attentions.append(probs)
        return {"hidden": h, "hidden_states": hidden_states, "attentions": attentions}

    # --- vision
    def vision_embeddings(self, pixel_values: torch.Tensor) -> torch.Tensor:
        pixel_values = pixel_values.to(self.dtype)
        ps = int(self.vcfg["patch_size"])
        x = F.conv2d(pixel_values, self.w["vision_model.embeddings.patch_embedding.weight"], stride=ps)
        x = x.flatten(2).transpose(1, 2)  # [B, N, D] row-major patches
        cls = self.w["vision_model.embeddings.class_embedding"].expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)
        return x + self.w["vision_model.embeddings.position_embedding.weight"][: x.shape[1]].unsqueeze(0)

    def vision_encoder_input(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self._ln(self.vision_embeddings(pixel_values), "vision_model.pre_layrnorm", float(self.vcfg.get("layer_norm_eps", 1e-5)))

    def vision_blocks(self, h, start=0, end=None, attn_hook: AttnHook = None, keep=True):
        return self._blocks("vision_model", h, start, end, False, attn_hook, keep)

    def vision_head(self, h_last: torch.Tensor) -> dict:
        pooled = self._ln(h_last[:, 0], "vision_model.post_layernorm", float(self.vcfg.get("layer_norm_eps", 1e-5)))
        return {"pooled": pooled, "embeds": F.linear(pooled, self.w["visual_projection.weight"])}

    def vision_forward(self, pixel_values, attn_hook: AttnHook = None) -> dict:
        emb = self.vision_embeddings(pixel_values)
        h0 = self._ln(emb, "vision_model.pre_layrnorm", float(self.vcfg.get("layer_norm_eps", 1e-5)))
        r = self.vision_blocks(h0, 0, None, attn_hook, True)
        head = self.vision_head(r["hidden"])
        return {"embeddings": emb, "hidden_states": r["hidden_states"], "attentions": r["attentions"], **head}

    def image_embeds(self, pixel_values) -> torch.Tensor:
        h0 = self.vision_encoder_input(pixel_values)
        return self.vision_head(self.vision_blocks(h0, keep=False)["hidden"])["embeds"]

    def image_embeds_from_hidden(self, h, layer: int, attn_hook: AttnHook = None) -> torch.Tensor:
        return self.vision_head(self.vision_blocks(h, layer, None, attn_hook, keep=False)["hidden"])["embeds"]

    # --- text
    def token_embeddings(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(torch.as_tensor(ids, dtype=torch.long), self.w["text_model.embeddings.token_embedding.weight"])

    def text_encoder_input(self, token_embeds: torch.Tensor) -> torch.Tensor:
        l = token_embeds.shape[1]
        return token_embeds.to(self.dtype) + self.w["text_model.embeddings.position_embedding.weight"][:l].unsqueeze(0)

    def text_blocks(self, h, start=0, end=None, attn_hook: AttnHook = None, keep=True):
        return self._blocks("text_model", h, start, end, True, attn_hook, keep)

    def text_head(self, h_last: torch.Tensor, ids) -> dict:
        ids = torch.as_tensor(ids, dtype=torch.long)
        last = self._ln(h_last, "text_model.final_layer_norm", float(self.tcfg.get("layer_norm_eps", 1e-5)))
        # torch.argmax returns the first maximal index (documented since torch 1.7)
        idx = ids.argmax(dim=-1)
        pooled = last[torch.arange(last.shape[0]), idx]
        return {"last_hidden_state": last, "pool_index": idx, "pooled": pooled,
                "embeds": F.linear(pooled, self.w["text_projection.weight"])}

    def text_forward(self, ids, token_embeds=None, attn_hook: AttnHook = None) -> dict:
        ids = torch.as_tensor(ids, dtype=torch.long)
        if token_embeds is None:
            token_embeds = self.token_embeddings(ids)
        h0 = self.text_encoder_input(token_embeds)
        r = self.text_blocks(h0, 0, None, attn_hook, True)
        head = self.text_head(r["hidden"], ids)
        return {"hidden_states": r["hidden_states"], "attentions": r["attentions"], **head}

    def text_embeds_from_token_embeddings(self, token_embeds, ids) -> torch.Tensor:
        h0 = self.text_encoder_input(token_embeds)
        return self.text_head(self.text_blocks(h0, keep=False)["hidden"], ids)["embeds"]

    def text_embeds(self, ids) -> torch.Tensor:
        ids = torch.as_tensor(ids, dtype=torch.long)
        return self.text_embeds_from_token_embeddings(self.token_embeddings(ids), ids)

    def text_embeds_from_hidden(self, h, layer: int, ids, attn_hook: AttnHook = None) -> torch.Tensor:
        return self.text_head(self.text_blocks(h, layer, None, attn_hook, keep=False)["hidden"], ids)["embeds"]

    # --- copies
    def with_token_embedding(self, matrix: torch.Tensor) -> "Clip":
        w = dict(self.w)
        w["text_model.embeddings.token_embedding.weight"] = torch.as_tensor(matrix).to(self.dtype)
        return Clip(self.config, w, self.dtype)

    def with_token_rows_scaled(self, factors) -> "Clip":
        m = self.w["text_model.embeddings.token_embedding.weight"]
        if isinstance(factors, dict):
            f = torch.ones(m.shape[0], dtype=self.dtype)
            for k, v in factors.items():
                f[int(k)] = float(v)
        else:
            f = torch.as_tensor(factors).to(self.dtype)
            if f.shape != (m.shape[0],):
                raise ValueError(f"factors shape {tuple(f.shape)} != ({m.shape[0]},)")
        return self.with_token_embedding(m * f[:, None])

    def to(self, dtype: torch.dtype) -> "Clip":
        w = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in self.w.items()}
        return Clip(copy.deepcopy(self.config), w, dtype)

    # --- similarities
    def logits(self, image_embeds, text_embeds):
        s = self.w["logit_scale"].exp()
        lpi = s * normalize(image_embeds) @ normalize(text_embeds).t()
        return lpi, lpi.t()


def load(folder: str, dtype: torch.dtype = torch.float32) -> Clip:
    """Load a HF CLIP folder (config.json + model.safetensors)."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    arrays, _ = read_safetensors(os.path.join(folder, "model.safetensors"))
    w = {}
    for k, a in arrays.items():
        if k.endswith("position_ids"):
            continue  # buffers HF ignores
        t = torch.from_numpy(np.ascontiguousarray(a))
        w[k] = t.to(dtype) if t.is_floating_point() else t
    return Clip(config, w, dtype)
