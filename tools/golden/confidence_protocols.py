"""Golden confidence drop / increase under four protocols, on a fixture CLIP.

usage: /usr/bin/python3 tools/golden/confidence_protocols.py [FIXTURE_DIR] [OUT_FILE]
  defaults: ../shared/fixtures/clip-tiny (beside the repository), packages/eval/test/golden/confidence.safetensors

Written from the semantics of the evaluation scripts (see PROTOCOLS.md for every rule with its
file:line@commit), not from the harness's TypeScript. Protocols:
  m2ib       YingWANGG/M2IB scripts/eval.py get_metrics + pytorch-grad-cam DropInConfidence /
             IncreaseInConfidence. Image: the [224,224] map reaches the metric without a batch
             axis, so cams[0] is the map's TOP ROW [224], broadcast over the normalised
             [3,224,224] pixels (column j of every row is scaled by map[0, j]). Text: BOS/EOS
             stripped before both passes; tokens with score > np.percentile(scores, 50) keep
             their id, the others become id 0; pooling = argmax(ids).
             drop = max(0, Y−O)·100, increase = 100·1[O > Y] (float32 numpy arithmetic).
  m2ib_full  the same with the whole map (imageMask: full). Text identical to m2ib (stored again).
  nib        LMBTough/NIB scripts/eval.py get_metrics_vt. Image: map with a batch axis, the whole
             map × normalised pixels. Text: BOS/EOS stripped for both passes; a deep copy of the
             model whose token-embedding row of each caption id is multiplied by that token's
             score, in caption order (a repeated id's row is multiplied once per occurrence, so
             every occurrence sees the product); Y = original model, O = the copy, same ids.
             drop/increase as m2ib.
  corrected  Grad-CAM++ definition as the harness documents it: image map ⊙ image in PIXEL space
             (un-normalise with the CLIP mean/std, multiply, re-normalise); text token embeddings
             scaled per position by the scores with BOS/EOS at 1; Y = clean pair with BOS/EOS.
             drop = max(0, Y−O)/Y·100 (NaN if Y ≤ 0), increase = 100·1[O > Y].
Similarity everywhere: torch.nn.CosineSimilarity(dim=1, eps=1e-8) of projected (not normalised)
embeddings (get_image_features / get_text_features), float32 model, as in both scripts.
Tensor names and shapes: PROTOCOLS.md, section "out/confidence.safetensors".
"""
from __future__ import annotations

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clip_torch as ct  # noqa: E402

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
EXTRA_CAPTION = [998, 500, 600, 500, 700, 999]
N_IMAGE_MAPS = 21
N_TEXT_PER_CAPTION = 14
FRAGILE = 1e-5  # |O − Y| below this: increase (a step function) is not a stable golden value
SCORE_DTYPE = np.float32  # the scripts' np.float32(scores); the float64 cross-check sets float64

# ----------------------------------------------------------------------------- similarity


def cos_target(features: torch.Tensor):
    """The scripts' CosSimilarity target: nn.CosineSimilarity() (dim=1, eps=1e-8)
    applied to ONE output row [P] against features [1, P] -> [1]."""
    cos = torch.nn.CosineSimilarity()

    def target(model_output):
        return cos(model_output, features)

    return target


def perturbation_confidence(input_tensor, cams, targets, model1, model2, perturbation):
    """Generic form of pytorch-grad-cam's PerturbationConfidenceMetric.__call__ (return_diff)
    and of NIB's two-model copy: Y from model1(input), O from model2(perturbed input), each
    score through the target of the same index; result = float32(O) − float32(Y), shape [B, 1].
    Returns (result, Y, O)."""
    with torch.no_grad():
        outputs = model1(input_tensor)
        y = SCORE_DTYPE([t(o).cpu().numpy() for t, o in zip(targets, outputs)])
        pert = []
        for i in range(input_tensor.size(0)):
            cam = cams[i]  # first axis of whatever the caller passed
            pert.append(perturbation(input_tensor[i, ...].cpu(), torch.from_numpy(cam)).unsqueeze(0))
        pert = torch.cat(pert)
        outputs2 = model2(pert)
        o = SCORE_DTYPE([t(out).cpu().numpy() for t, out in zip(targets, outputs2)])
    return o - y, y, o


def multiply(input_tensor, cam):
    return input_tensor * cam


def drop_in_confidence(diff):
    return np.maximum(-diff, 0)


def increase_in_confidence(diff):
    return np.float32(diff > 0)


def script_values(diff):
    """[0][0]*100 as both scripts do (numpy float32 arithmetic)."""
    return drop_in_confidence(diff)[0][0] * 100, increase_in_confidence(diff)[0][0] * 100


def _f(x):
    return SCORE_DTYPE(x)


def corrected_values(y: float, o: float):
    y = float(y)
    o = float(o)
    loss = max(0.0, y - o)
    drop = loss / y * 100.0 if y > 0 else float("nan")
    return SCORE_DTYPE(drop), SCORE_DTYPE(100.0 if o > y else 0.0)


# ----------------------------------------------------------------------------- deterministic inputs

IMAGE_MAP_NAMES = [
    "uniform_noise", "vertical_gradient", "horizontal_gradient", "diagonal_gradient", "radial",
    "sinusoid", "blob_centre", "blob_offcentre", "two_blobs", "blob_at_top", "top_row_constant",
    "constant_rows", "ones", "zeros", "checkerboard32", "box", "upsampled7x7_a", "upsampled7x7_b",
    "sparse_noise4", "rows_equal_top_row", "inverted_blob",
]
# maps whose every row equals the top row: top-row and full protocols must agree exactly
ROWS_EQUAL_TOP = ["horizontal_gradient", "ones", "zeros", "rows_equal_top_row"]


def _blob(s, cy, cx, sigma):
    y, x = np.mgrid[0:s, 0:s].astype(np.float64)
    return np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma ** 2))


def _minmax(a):
    return (a - a.min()) / (a.max() - a.min())


def image_maps(case: int, s: int) -> np.ndarray:
    rng = np.random.default_rng(1000 + case)
    y, x = np.mgrid[0:s, 0:s].astype(np.float64)
    maps = {}
    maps["uniform_noise"] = rng.random((s, s))
    maps["vertical_gradient"] = y / (s - 1)  # top row all 0
    maps["horizontal_gradient"] = x / (s - 1)  # every row identical
    maps["diagonal_gradient"] = (x + y) / (2 * (s - 1))
    r = np.sqrt((y - (s - 1) / 2) ** 2 + (x - (s - 1) / 2) ** 2)
    maps["radial"] = 1 - r / r.max()
    maps["sinusoid"] = 0.5 + 0.5 * np.sin(x / (17 + 3 * case)) * np.cos(y / 23)
    maps["blob_centre"] = _blob(s, s / 2, s / 2, 30)
    maps["blob_offcentre"] = _blob(s, 60 + 40 * case, 150 - 30 * case, 25)
    maps["two_blobs"] = np.clip(_blob(s, 50, 60, 20) + 0.7 * _blob(s, 170, 160, 35), 0, 1)
    maps["blob_at_top"] = _blob(s, 8, 100 + 20 * case, 28)
    m = rng.random((s, s))
    m[0, :] = 0.5
    maps["top_row_constant"] = m
    maps["constant_rows"] = np.repeat(rng.random((s, 1)), s, axis=1)
    maps["ones"] = np.ones((s, s))
    maps["zeros"] = np.zeros((s, s))
    maps["checkerboard32"] = (((y // 32) + (x // 32)) % 2).astype(np.float64)
    b = np.zeros((s, s))
    b[40 + 10 * case:130 + 10 * case, 70:190] = 1
    maps["box"] = b
    for k, name in enumerate(["upsampled7x7_a", "upsampled7x7_b"]):
        g = torch.from_numpy(rng.random((1, 1, 7, 7))).float()
        up = F.interpolate(g, size=s, mode="bilinear", align_corners=False)[0, 0].double().numpy()
        maps[name] = _minmax(up)
    maps["sparse_noise4"] = rng.random((s, s)) ** 4
    maps["rows_equal_top_row"] = np.repeat(rng.random((1, s)), s, axis=0)
    maps["inverted_blob"] = 1 - _blob(s, 120, 90 + 30 * case, 40)
    # 8-bit maps (value k/255): the golden file stores them as U8, a quarter of the size, and the
    # protocols are computed on exactly those values.
    out = (np.round(np.stack([maps[n] for n in IMAGE_MAP_NAMES]) * 255) / 255).astype(np.float32)
    assert out.shape == (N_IMAGE_MAPS, s, s) and out.min() >= 0 and out.max() <= 1
    return out


TEXT_SCORE_NAMES = [
    "uniform_a", "uniform_b", "all_equal_half", "all_ones", "all_zeros", "one_hot_first",
    "one_hot_last", "one_hot_pooled", "ties_three_levels", "ramp_up", "ramp_down", "minmax_random",
    "two_levels", "zero_at_pooled",
]


def text_scores(caption_ids, seed: int) -> np.ndarray:
    """14 score vectors over the caption tokens (BOS/EOS excluded). 'pooled' = the position of
    the largest caption id (where the scripts' stripped caption is pooled)."""
    rng = np.random.default_rng(seed)
    cap = np.asarray(caption_ids[1:-1])
    n = len(cap)
    pooled = int(np.argmax(cap))
    out = {}
    out["uniform_a"] = rng.random(n)
    out["uniform_b"] = rng.random(n)
    out["all_equal_half"] = np.full(n, 0.5)
    out["all_ones"] = np.ones(n)
    out["all_zeros"] = np.zeros(n)
    for name, pos in (("one_hot_first", 0), ("one_hot_last", n - 1), ("one_hot_pooled", pooled)):
        v = np.zeros(n)
        v[pos] = 1
        out[name] = v
    out["ties_three_levels"] = rng.choice([0.2, 0.5, 0.8], size=n)
    out["ramp_up"] = np.arange(n) / max(n - 1, 1)
    out["ramp_down"] = 1 - np.arange(n) / max(n - 1, 1)
    out["minmax_random"] = _minmax(rng.random(n))
    v = np.zeros(n)
    v[: n // 2] = 1
    out["two_levels"] = v
    v = rng.random(n)
    v[pooled] = 0
    out["zero_at_pooled"] = v
    return np.stack([out[k] for k in TEXT_SCORE_NAMES]).astype(np.float32)


# ----------------------------------------------------------------------------- protocols


class Extractors:
    """ImageFeatureExtractor / TextFeatureExtractor equivalents over clip_torch."""

    def __init__(self, model: ct.Clip):
        self.m = model

    def image(self, x):
        return self.m.image_embeds(x)

    def text(self, ids):
        return self.m.text_embeds(ids)


def image_protocols(m: ct.Clip, px: torch.Tensor, vmap: np.ndarray, text_feat: torch.Tensor):
    """px [1,3,S,S] normalised, vmap [S,S] float32, text_feat [1,P] (full caption, BOS…EOS).
    Returns {proto: (Y, O, drop, increase)}."""
    ex = Extractors(m)
    tgt = [cos_target(text_feat)]
    res = {}
    # m2ib: the map WITHOUT a batch axis -> cams[0] = vmap[0] (top row, [S])
    d, y, o = perturbation_confidence(px, vmap, tgt, ex.image, ex.image, multiply)
    res["m2ib"] = (y[0][0], o[0][0], *script_values(d))
    # m2ib with imageMask=full: the whole map
    d, y, o = perturbation_confidence(px, vmap[None], tgt, ex.image, ex.image, multiply)
    res["m2ib_full"] = (y[0][0], o[0][0], *script_values(d))
    # nib: metric_evaluation does vmap = np.expand_dims(vmap, 0) -> cams[0] = whole map
    d, y, o = perturbation_confidence(px, np.expand_dims(vmap, axis=0), tgt, ex.image, ex.image, multiply)
    res["nib"] = (y[0][0], o[0][0], *script_values(d))
    # corrected: map ⊙ image in pixel space
    mean = torch.tensor(CLIP_MEAN, dtype=px.dtype).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, dtype=px.dtype).view(1, 3, 1, 1)
    mp = torch.from_numpy(vmap).to(px.dtype)
    with torch.no_grad():
        pert = ((px * std + mean) * mp - mean) / std
        yv = float(ct.cosine(m.image_embeds(px), text_feat)[0])
        ov = float(ct.cosine(m.image_embeds(pert), text_feat)[0])
    res["corrected"] = (_f(yv), _f(ov), *corrected_values(_f(yv), _f(ov)))
    return res


def m2ib_text_mask(scores: np.ndarray) -> np.ndarray:
    """get_metrics: tmap > np.percentile(tmap, 50) (strictly above; over the stripped scores)."""
    t = np.expand_dims(scores, axis=0)
    return t > np.percentile(t, 50)


def nib_clone(m: ct.Clip, stripped_ids, scores: np.ndarray) -> ct.Clip:
    """get_metrics_vt: copy of the model; for idx, i in enumerate(text_id[0]):
    W[i] = W[i] * tmap[0][idx] (sequential, in place, so a repeated id multiplies twice)."""
    W = m.w["text_model.embeddings.token_embedding.weight"].clone()
    with torch.no_grad():
        for idx, i in enumerate(stripped_ids):
            W[int(i)] = W[int(i)] * scores[idx]
    return m.with_token_embedding(W)


def text_protocols(m: ct.Clip, ids: list, scores: np.ndarray, image_feat: torch.Tensor):
    """ids = BOS … EOS (python list), scores over ids[1:-1] (float32), image_feat [1, P].
    Returns ({proto: (Y, O, drop, increase)}, m2ib masked ids, nib per-position factor)."""
    ex = Extractors(m)
    tgt = [cos_target(image_feat)]
    full = torch.tensor([ids])
    stripped = full[:, 1:-1]
    res = {}
    # m2ib: stripped ids × bool mask (long * bool -> long: removed tokens become id 0)
    mask = m2ib_text_mask(scores)
    d, y, o = perturbation_confidence(stripped, mask, tgt, ex.text, ex.text, multiply)
    res["m2ib"] = (y[0][0], o[0][0], *script_values(d))
    masked_ids = (stripped[0] * torch.from_numpy(mask[0])).numpy()
    res["m2ib_full"] = res["m2ib"]
    # nib: cams = ones (int), model2 = the row-scaled copy
    clone = nib_clone(m, stripped[0].tolist(), scores)
    temp = np.ones_like(np.expand_dims(scores, 0)).astype(int)
    d, y, o = perturbation_confidence(stripped, temp, tgt, ex.text, Extractors(clone).text, multiply)
    res["nib"] = (y[0][0], o[0][0], *script_values(d))
    factor = np.ones(len(scores), dtype=np.float64)
    for idx, i in enumerate(stripped[0].tolist()):
        factor[idx] = np.prod([float(scores[j]) for j, k in enumerate(stripped[0].tolist()) if k == i])
    # corrected: per-position scaling, BOS/EOS at 1, Y = clean full caption
    scales = torch.ones(1, len(ids), dtype=m.dtype)
    scales[0, 1:-1] = torch.from_numpy(scores).to(m.dtype)
    with torch.no_grad():
        yv = float(ct.cosine(m.text_embeds(full), image_feat)[0])
        ov = float(ct.cosine(m.text_embeds_from_token_embeddings(m.token_embeddings(full) * scales[..., None], full), image_feat)[0])
    res["corrected"] = (_f(yv), _f(ov), *corrected_values(_f(yv), _f(ov)))
    return res, masked_ids, factor.astype(np.float32)


def evaluate(m: ct.Clip, px_all: torch.Tensor, captions, maps: np.ndarray, score_rows):
    """All protocols for every (image case, map, caption) and every (score vector, image case).
    score_rows: list of (caption index, scores). Returns img, txt dicts {proto: {Y,O,drop,increase}},
    the m2ib masked ids and the nib per-position factors (lists, one per score row)."""
    n_img, n_cap = px_all.shape[0], len(captions)
    with torch.no_grad():
        image_embeds = m.image_embeds(px_all)
        text_embeds = torch.cat([m.text_embeds(torch.tensor([c])) for c in captions])
    px_all = px_all.to(m.dtype)
    img = {p: {k: np.zeros((n_img, N_IMAGE_MAPS, n_cap), dtype=SCORE_DTYPE) for k in ("Y", "O", "drop", "increase")} for p in PROTOCOLS}
    for i in range(n_img):
        px = px_all[i:i + 1]
        for j in range(N_IMAGE_MAPS):
            for k in range(n_cap):
                r = image_protocols(m, px, maps[i, j], text_embeds[k:k + 1])
                for p in PROTOCOLS:
                    for q, v in zip(("Y", "O", "drop", "increase"), r[p]):
                        img[p][q][i, j, k] = v
    n_txt = len(score_rows)
    txt = {p: {k: np.zeros((n_txt, n_img), dtype=SCORE_DTYPE) for k in ("Y", "O", "drop", "increase")} for p in PROTOCOLS}
    masked, factors = [], []
    for row, (k, v) in enumerate(score_rows):
        for i in range(n_img):
            r, mids, fac = text_protocols(m, captions[k], v, image_embeds[i:i + 1])
            for p in PROTOCOLS:
                for q, val in zip(("Y", "O", "drop", "increase"), r[p]):
                    txt[p][q][row, i] = val
        masked.append(mids)
        factors.append(fac)
    return img, txt, masked, factors


# ----------------------------------------------------------------------------- main

PROTOCOLS = ["m2ib", "m2ib_full", "nib", "corrected"]


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "fixtures", "clip-tiny")
    out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "packages", "eval", "test", "golden", "confidence.safetensors")
    torch.manual_seed(0)
    m = ct.load(folder, torch.float32)
    s = int(m.vcfg["image_size"])
    cases, _ = ct.read_safetensors(os.path.join(folder, "cases.safetensors"))
    px_all = torch.from_numpy(cases["pixel_values"])
    in_ids = cases["input_ids"]
    eos = int(m.eos_id)
    row0 = in_ids[0].tolist()
    row1 = in_ids[1].tolist()
    captions = [row0, row1[: row1.index(eos) + 1], list(EXTRA_CAPTION)]
    for c in captions:
        assert c[0] == m.bos_id and c[-1] == eos and all(i < min(m.bos_id, eos) for i in c[1:-1]), c
    n_img, n_cap = px_all.shape[0], len(captions)

    with torch.no_grad():
        image_embeds = m.image_embeds(px_all)  # [2, P]
        text_embeds = torch.cat([m.text_embeds(torch.tensor([c])) for c in captions])  # [3, P]
        text_embeds_stripped = torch.cat([m.text_embeds(torch.tensor([c[1:-1]])) for c in captions])
        clean_cos = torch.stack([ct.cosine(image_embeds[i:i + 1], text_embeds) for i in range(n_img)])  # [2, 3]
        clean_cos_stripped = torch.stack([ct.cosine(image_embeds[i:i + 1], text_embeds_stripped) for i in range(n_img)])

    t = {}
    t["captions.ids_padded"] = np.full((n_cap, max(map(len, captions))), -1, dtype=np.int64)
    for k, c in enumerate(captions):
        t[f"captions.{k}.ids"] = np.asarray(c, dtype=np.int64)
        t["captions.ids_padded"][k, : len(c)] = c
    t["captions.length"] = np.asarray([len(c) for c in captions], dtype=np.int64)
    t["clean.image_embeds"] = image_embeds.numpy()
    t["clean.text_embeds"] = text_embeds.numpy()
    t["clean.text_embeds_stripped"] = text_embeds_stripped.numpy()
    t["clean.cos"] = clean_cos.numpy()
    t["clean.cos_stripped"] = clean_cos_stripped.numpy()

    # ---- image side: maps [2, 21, S, S]; results [2 cases, 21 maps, 3 captions]
    maps = np.stack([image_maps(i, s) for i in range(n_img)])
    t["image.maps_u8"] = np.round(maps * 255).astype(np.uint8)
    # ---- text side: 42 score vectors (14 per caption); results [42, 2 image cases]
    n_txt = N_TEXT_PER_CAPTION * n_cap
    lmax = max(len(c) - 2 for c in captions)
    scores_pad = np.full((n_txt, lmax), np.nan, dtype=np.float32)
    t_caption = np.zeros(n_txt, dtype=np.int64)
    t_length = np.zeros(n_txt, dtype=np.int64)
    masked = np.full((n_txt, lmax), -1, dtype=np.int64)
    nib_factor = np.full((n_txt, lmax), np.nan, dtype=np.float32)
    score_rows = []
    for k, c in enumerate(captions):
        for v in text_scores(c, 2000 + k):
            score_rows.append((k, v))
    img, txt, masked_l, factor_l = evaluate(m, px_all, captions, maps, score_rows)
    for row, (k, v) in enumerate(score_rows):
        n = len(v)
        scores_pad[row, :n] = v
        t_caption[row] = k
        t_length[row] = n
        masked[row, :n] = masked_l[row]
        nib_factor[row, :n] = factor_l[row]
    for p in PROTOCOLS:
        for q, v in img[p].items():
            t[f"image.{p}.{q}"] = v
        t[f"image.{p}.fragile"] = (np.abs(img[p]["O"] - img[p]["Y"]) < FRAGILE).astype(np.float32)

    t["text.scores"] = scores_pad
    t["text.caption"] = t_caption
    t["text.length"] = t_length
    t["text.m2ib.masked_ids"] = masked
    t["text.nib.position_factor"] = nib_factor
    for p in PROTOCOLS:
        for q, v in txt[p].items():
            t[f"text.{p}.{q}"] = v
        t[f"text.{p}.fragile"] = (np.abs(txt[p]["O"] - txt[p]["Y"]) < FRAGILE).astype(np.float32)

    # ---- self-checks
    fails = []
    for name in ROWS_EQUAL_TOP:
        j = IMAGE_MAP_NAMES.index(name)
        for q in ("O", "drop", "increase"):
            if not np.array_equal(img["m2ib"][q][:, j], img["m2ib_full"][q][:, j]):
                fails.append(f"top-row vs full differ for {name} ({q})")
    for q in ("Y", "O", "drop", "increase"):
        if not np.array_equal(img["m2ib_full"][q], img["nib"][q]):
            fails.append(f"m2ib_full and nib image sides differ ({q})")
    j1 = IMAGE_MAP_NAMES.index("ones")
    if not (np.array_equal(img["m2ib_full"]["O"][:, j1], img["m2ib_full"]["Y"][:, j1])):
        fails.append("all-ones map changes the m2ib_full score")
    if np.abs(img["corrected"]["O"][:, j1] - img["corrected"]["Y"][:, j1]).max() > 1e-5:
        fails.append("all-ones map changes the corrected score by > 1e-5")
    if not np.allclose(img["m2ib"]["Y"], np.broadcast_to(clean_cos.numpy()[:, None, :], img["m2ib"]["Y"].shape), atol=0):
        fails.append("image Y != clean cosine")
    i_ones = TEXT_SCORE_NAMES.index("all_ones")
    i_half = TEXT_SCORE_NAMES.index("all_equal_half")
    for k in range(n_cap):
        r1 = k * N_TEXT_PER_CAPTION + i_ones
        if not np.array_equal(txt["nib"]["O"][r1], txt["nib"]["Y"][r1]):
            fails.append(f"nib text with all-ones scores changes the score (caption {k})")
        if np.abs(txt["corrected"]["O"][r1] - txt["corrected"]["Y"][r1]).max() > 1e-6:
            fails.append(f"corrected text with all-ones scores changes the score (caption {k})")
        rh = k * N_TEXT_PER_CAPTION + i_half
        if (masked[rh, : t_length[rh]] != 0).any():
            fails.append(f"m2ib median rule keeps a token of an all-equal vector (caption {k})")
        if not np.allclose(txt["m2ib"]["Y"][r1], clean_cos_stripped.numpy()[:, k], atol=1e-7):
            fails.append(f"m2ib text Y != stripped clean cosine (caption {k})")
    for side, res in (("image", img), ("text", txt)):
        for p in ("m2ib", "m2ib_full", "nib"):
            dd = np.maximum(0, res[p]["Y"].astype(np.float64) - res[p]["O"]) * 100
            if np.abs(dd - res[p]["drop"]).max() > 1e-4:
                fails.append(f"{side} {p}: drop != max(0, Y-O)*100")
    # a repeated id: caption 2 has id 500 at stripped positions 0 and 2 -> both factors = s0*s2
    for r in range(2 * N_TEXT_PER_CAPTION, 3 * N_TEXT_PER_CAPTION):
        f = nib_factor[r]
        sc = scores_pad[r]
        if not (np.isclose(f[0], sc[0] * sc[2]) and np.isclose(f[2], sc[0] * sc[2])):
            fails.append(f"nib factor of the repeated id wrong in row {r}")

    # ---- float64 cross-check of the same computation (for test tolerances; not stored as data)
    global SCORE_DTYPE
    SCORE_DTYPE = np.float64
    img64, txt64, _, _ = evaluate(m.to(torch.float64), px_all.double(), captions, maps, score_rows)
    SCORE_DTYPE = np.float32
    f64 = {}
    for side, r32, r64 in (("image", img, img64), ("text", txt, txt64)):
        for p in PROTOCOLS:
            ok = t[f"{side}.{p}.fragile"] == 0
            dy = float(np.abs(r32[p]["Y"] - r64[p]["Y"]).max())
            do = float(np.abs(r32[p]["O"] - r64[p]["O"]).max())
            dd = float(np.nanmax(np.abs(r32[p]["drop"] - r64[p]["drop"])))
            flips = int(((r32[p]["increase"] != r64[p]["increase"]) & ok).sum())
            flips_fragile = int(((r32[p]["increase"] != r64[p]["increase"]) & ~ok).sum())
            f64[f"{side}.{p}"] = f"maxdY={dy:.2e} maxdO={do:.2e} maxd_drop={dd:.2e} increase_flips_nonfragile={flips} increase_flips_fragile={flips_fragile}"
            if flips:
                fails.append(f"{side} {p}: increase flips between float32 and float64 outside the fragile set")

    meta = {
        "generator": "tools/golden/confidence_protocols.py (clip_torch, torch %s, numpy %s)" % (torch.__version__, np.__version__),
        "fixture": os.path.abspath(folder),
        "dtype": "float32 model and cosines (as the scripts); drop/increase: numpy float32 for m2ib/m2ib_full/nib, float64 then float32 for corrected",
        "protocols": ",".join(PROTOCOLS),
        "protocol.m2ib": "YingWANGG/M2IB scripts/eval.py@ce4d7a0effc61c6b8eacaf7b2ee02691b8bc7145 get_metrics + pytorch-grad-cam metrics (blobs 813ffc7, bd4bf8a; grad_cam==1.4.6): image cams[0] = TOP ROW of the [S,S] map broadcast over the normalised [3,S,S] pixels; text BOS/EOS stripped for Y and O, keep score > np.percentile(scores,50) else id 0; drop=max(0,Y-O)*100, increase=100*[O>Y]",
        "protocol.m2ib_full": "as m2ib but the whole map multiplies the normalised pixels (imageMask: full); text identical to m2ib",
        "protocol.nib": "LMBTough/NIB scripts/eval.py@d4d1138b887e038d926e813c7ead3ddb8d19177c get_metrics_vt: image whole map x normalised pixels; text BOS/EOS stripped for Y and O, O from a model copy whose token-embedding row of each caption id is multiplied by its score in caption order (repeated id: product); drop=max(0,Y-O)*100, increase=100*[O>Y]",
        "protocol.corrected": "map (.) image in pixel space (un-normalise with image_mean/image_std, multiply, re-normalise); text token embeddings scaled per position, BOS/EOS at 1; Y = clean full pair; drop=max(0,Y-O)/Y*100 (NaN if Y<=0), increase=100*[O>Y]",
        "similarity": "torch.nn.CosineSimilarity(dim=1, eps=1e-8) of projected embeddings (get_*_features), not logits",
        "image_mean": ",".join(map(repr, CLIP_MEAN)),
        "image_std": ",".join(map(repr, CLIP_STD)),
        "image.map_names": ",".join(IMAGE_MAP_NAMES),
        "image.rows_equal_top_row_maps": ",".join(ROWS_EQUAL_TOP),
        "image.result_axes": "[image case, map, caption]",
        "text.score_names": ",".join(TEXT_SCORE_NAMES),
        "text.result_axes": "[score vector, image case]",
        "text.score_vector_order": "caption-major: row = caption*14 + score_name index",
        "captions": "0 = cases input_ids[0]; 1 = cases input_ids[1] cut after its first EOS; 2 = hand-made with a repeated id",
        "fragile_threshold": repr(FRAGILE),
        **{f"float64_vs_float32.{k}": v for k, v in f64.items()},
        "self_check": "passed" if not fails else "FAILED: " + "; ".join(fails),
    }
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    ct.write_safetensors(out_path, t, meta)

    # read back and report
    back, bmeta = ct.read_safetensors(out_path)
    assert set(back) == set(t) and all(np.array_equal(back[k], t[k], equal_nan=True) for k in t), "safetensors round trip"
    print(f"wrote {out_path} ({os.path.getsize(out_path) / 1e6:.1f} MB, {len(t)} tensors)")
    print("clean cos [image case x caption]:\n", np.round(clean_cos.numpy(), 5))
    print("clean cos stripped:\n", np.round(clean_cos_stripped.numpy(), 5))
    for side, res in (("image", img), ("text", txt)):
        for p in PROTOCOLS:
            d, inc = res[p]["drop"], res[p]["increase"]
            print(f"  {side:5s} {p:10s} mean drop {np.nanmean(d):8.3f}  mean increase {inc.mean():6.1f}  NaN drops {int(np.isnan(d).sum())}  fragile {int(t[f'{side}.{p}.fragile'].sum())}")
    j_top = IMAGE_MAP_NAMES.index("vertical_gradient")
    print(f"  vertical_gradient (top row 0): m2ib O {img['m2ib']['O'][:, j_top, 0]} vs full O {img['m2ib_full']['O'][:, j_top, 0]}")
    for k, v in f64.items():
        print(f"  float32 vs float64 {k:16s} {v}")
    if fails:
        print("SELF-CHECK FAILED:\n  " + "\n  ".join(fails))
        sys.exit(1)
    print("self-checks passed")


if __name__ == "__main__":
    main()
