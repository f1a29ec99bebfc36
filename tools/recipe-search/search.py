# A PyTorch replica of `pnpm train:tiny` (same architecture, init, loss, optimiser and
# data distribution) used on a GPU to find, in minutes, a training recipe that learns
# shape; the recipe is then run for real by the TypeScript trainer on wasm.
# Usage: python3 search.py NAME key=value ... (see DEFAULTS); writes NAME.json.
import json, math, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULTS = dict(size=224, patch=32, width=96, layers=3, heads=4, twidth=64, tlayers=2, lr=2e-3, warmup=25,
                wd=0.05, batch=32, single=0.5, steps=4000, seconds=400, eval_every=250, seed=0, minfrac=0.05,
                sched='cos', init='ours', flat=0.0)
COLORS = [[220, 30, 30], [245, 135, 20], [245, 220, 30], [30, 165, 55], [40, 210, 230],
          [35, 75, 230], [135, 50, 190], [250, 150, 205], [115, 65, 25], [252, 252, 252]]
NC, NS = len(COLORS), 6
RS = 224
dev = 'cuda' if torch.cuda.is_available() else 'cpu'
MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073], device=dev).view(1, 3, 1, 1)
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711], device=dev).view(1, 3, 1, 1)
STAR = [(0.5 + (0.5 if i % 2 == 0 else 0.2) * math.cos(-math.pi / 2 + i * math.pi / 5),
         0.5 + (0.5 if i % 2 == 0 else 0.2) * math.sin(-math.pi / 2 + i * math.pi / 5)) for i in range(10)]


def pick_objects(rng, n):
    t = (rng.integers(NC), rng.integers(NS))
    objs = [t]
    if n >= 2:
        if rng.random() < 0.5:
            objs.append((t[0], rng.choice([s for s in range(NS) if s != t[1]])))
        else:
            objs.append((rng.choice([c for c in range(NC) if c != t[0]]), t[1]))
    while len(objs) < n:
        o = (rng.integers(NC), rng.integers(NS))
        if o not in objs:
            objs.append(o)
    return objs


def layout(rng, single_frac):
    """One scene's objects: list of (colour, shape, x, y, side)."""
    n = 1 if rng.random() < single_frac else int(rng.integers(2, 5))
    lo, hi, gap = round(0.16 * RS), round(0.32 * RS), 6
    cells, placed = [], []
    for c, s in pick_objects(rng, n):
        for _ in range(500):
            side = int(rng.integers(lo, hi + 1))
            x = int(rng.integers(4, RS - 4 - side + 1))
            y = int(rng.integers(4, RS - 4 - side + 1))
            if any(x < cx + cs + gap and cx < x + side + gap and y < cy + cs + gap and cy < y + side + gap for cx, cy, cs in cells):
                continue
            cells.append((x, y, side))
            placed.append((int(c), int(s), x, y, side))
            break
    return placed


def render(scenes, gen, flat=0.0):
    """Renders scene layouts into [B, 3, RS, RS] in [0, 1] on the device, as the TS generator paints them."""
    B = len(scenes)
    ys, xs = torch.meshgrid(torch.arange(RS, device=dev, dtype=torch.float32),
                            torch.arange(RS, device=dev, dtype=torch.float32), indexing='ij')
    period = torch.randint(10, 29, (B, 1, 1), device=dev, generator=gen).float()
    ang = torch.rand((B, 1, 1), device=dev, generator=gen) * math.pi
    tint = torch.randint(-6, 7, (B, 3, 1, 1), device=dev, generator=gen).float()
    stripe = 18 * torch.sin(2 * math.pi * (xs * torch.cos(ang) + ys * torch.sin(ang)) / period)
    noise = torch.randint(-10, 11, (B, RS, RS), device=dev, generator=gen).float()
    img = torch.clamp(torch.round(128 + (stripe + noise).unsqueeze(1) + tint), 88, 168)
    if flat > 0:  # a fraction of scenes on a plain grey background
        img = torch.where(torch.rand((B, 1, 1, 1), device=dev, generator=gen) < flat, torch.full_like(img, 128.0), img)
    objs = [(b, *o) for b, sc in enumerate(scenes) for o in sc]
    if objs:
        o = torch.tensor(objs, device=dev, dtype=torch.float32)
        bi, col, shp, x0, y0, side = [o[:, k].view(-1, 1, 1) for k in range(6)]
        i, j = xs - x0, ys - y0
        inbox = (i >= 0) & (i < side) & (j >= 0) & (j < side)
        u, v = (i + 0.5) / side, (j + 0.5) / side
        circle = (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25
        square = torch.ones_like(circle)
        triangle = (u - 0.5).abs() <= v / 2
        diamond = (u - 0.5).abs() + (v - 0.5).abs() <= 0.5
        cross = ((u - 0.5).abs() <= 1 / 6) | ((v - 0.5).abs() <= 1 / 6)
        star = torch.zeros_like(circle)
        for a in range(10):
            (xi, yi), (xj, yj) = STAR[a], STAR[a - 1]
            if yj == yi:
                continue
            cond = ((yi > v) != (yj > v)) & (u < (xj - xi) * (v - yi) / (yj - yi) + xi)
            star = star ^ cond
        allm = torch.stack([circle, square, triangle, diamond, cross, star], 0)  # [6, N, RS, RS]
        m = allm.gather(0, shp.long().view(1, -1, 1, 1).expand(1, -1, RS, RS))[0] & inbox
        rgb = torch.tensor(COLORS, device=dev, dtype=torch.float32)[col.long().view(-1)]  # [N, 3]
        cover = torch.zeros(B, RS, RS, device=dev).index_add_(0, bi.long().view(-1), m.float())
        paint = torch.zeros(B, 3, RS, RS, device=dev).index_add_(0, bi.long().view(-1), m.float().unsqueeze(1) * rgb.view(-1, 3, 1, 1))
        img = torch.where(cover.unsqueeze(1) > 0, paint, img)
    return img / 255


def preprocess(img, size):
    if size != RS:
        img = F.interpolate(img, size=(size, size), mode='bicubic', align_corners=False, antialias=True).clamp(0, 1)
    return (img - MEAN) / STD


def qgelu(x):
    return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(s, d, h):
        super().__init__()
        s.h = h
        s.ln1, s.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        s.q, s.k, s.v, s.o = (nn.Linear(d, d) for _ in range(4))
        s.fc1, s.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(s, x, causal=False):
        B, T, D = x.shape
        y = s.ln1(x)
        q, k, v = (f(y).view(B, T, s.h, D // s.h).transpose(1, 2) for f in (s.q, s.k, s.v))
        att = q @ k.transpose(-1, -2) / math.sqrt(D // s.h)
        if causal:
            att = att.masked_fill(torch.ones(T, T, device=x.device, dtype=torch.bool).triu(1), float('-inf'))
        a = att.softmax(-1) @ v
        x = x + s.o(a.transpose(1, 2).reshape(B, T, D))
        return x + s.fc2(qgelu(s.fc1(s.ln2(x))))


class Clip(nn.Module):
    def __init__(s, c):
        super().__init__()
        d, td, g = c['width'], c['twidth'], c['size'] // c['patch']
        s.patch = nn.Conv2d(3, d, c['patch'], c['patch'], bias=False)
        s.cls = nn.Parameter(torch.randn(d) * d ** -0.5)
        s.vpos = nn.Parameter(torch.zeros(g * g + 1, d))
        s.pre, s.post = nn.LayerNorm(d), nn.LayerNorm(d)
        s.vblocks = nn.ModuleList(Block(d, c['heads']) for _ in range(c['layers']))
        s.vproj = nn.Linear(d, 64, bias=False)
        s.tok = nn.Embedding(20, td)
        s.tpos = nn.Parameter(torch.zeros(77, td))
        s.tblocks = nn.ModuleList(Block(td, 4) for _ in range(c['tlayers']))
        s.tfinal = nn.LayerNorm(td)
        s.tproj = nn.Linear(td, 64, bias=False)
        s.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        for n, p in s.named_parameters():  # as initWeights: LN 1/0, biases 0, cls N(0, d^-1/2), rest N(0, .02)
            if n in ('cls', 'logit_scale'):
                continue
            if isinstance(dict(s.named_modules()).get(n.rsplit('.', 1)[0]), nn.LayerNorm):
                nn.init.ones_(p) if n.endswith('weight') else nn.init.zeros_(p)
            elif n.endswith('bias'):
                nn.init.zeros_(p)
            else:
                nn.init.normal_(p, 0, 0.02)
        if c['init'] == 'hf':  # Hugging Face CLIPPreTrainedModel._init_weights (factor 1)
            for blocks, dd in ((s.vblocks, d), (s.tblocks, td)):
                ins = dd ** -0.5 * (2 * len(blocks)) ** -0.5
                for b in blocks:
                    for l in (b.q, b.k, b.v, b.fc2):
                        nn.init.normal_(l.weight, 0, ins)
                    nn.init.normal_(b.o.weight, 0, dd ** -0.5)
                    nn.init.normal_(b.fc1.weight, 0, (2 * dd) ** -0.5)
            nn.init.normal_(s.vproj.weight, 0, d ** -0.5)
            nn.init.normal_(s.tproj.weight, 0, td ** -0.5)

    def image(s, px):
        x = s.patch(px).flatten(2).transpose(1, 2)
        x = torch.cat([s.cls.expand(x.shape[0], 1, -1), x], 1) + s.vpos
        x = s.pre(x)
        for b in s.vblocks:
            x = b(x)
        return s.vproj(s.post(x[:, 0]))

    def text(s, ids):
        x = s.tok(ids) + s.tpos[: ids.shape[1]]
        for b in s.tblocks:
            x = b(x, causal=True)
        return s.tproj(s.tfinal(x)[:, -1])  # every caption is BOS a colour shape EOS: EOS last


CAPTION_IDS = torch.tensor([[0, 2 if c in (1,) else 1, 3 + c, 13 + s, 19] for c in range(NC) for s in range(NS)], device=dev)


def positives(scenes):
    p = torch.zeros(len(scenes), NC * NS, device=dev)
    for b, sc in enumerate(scenes):
        for c, s, *_ in sc:
            p[b, c * NS + s] = 1
    return p


def clip_loss(img, txt, ls, pos):
    logits = F.normalize(img, dim=-1) @ F.normalize(txt, dim=-1).T * ls.clamp(max=math.log(100)).exp()
    li = -(pos / pos.sum(1, keepdim=True) * F.log_softmax(logits, 1)).sum(1).mean()
    pt = pos.T
    cnt = pt.sum(1, keepdim=True)
    valid = (cnt > 0).float().view(-1)
    per = -(pt / cnt.clamp(min=1) * F.log_softmax(logits.T, 1)).sum(1)
    lt = (per * valid).sum() / valid.sum()
    return (li + lt) / 2


@torch.no_grad()
def evaluate(model, c, scenes, pix):
    sims = torch.cat([F.normalize(model.image(preprocess(pix[i:i + 100], c['size'])), dim=-1) for i in range(0, len(pix), 100)]) \
        @ F.normalize(model.text(CAPTION_IDS), dim=-1).T
    r = dict(top1=0, color=0, shape=0)
    for b, sc in enumerate(scenes):
        row = sims[b].clone()
        tgt = sc[0][0] * NS + sc[0][1]
        for cc, ss, *_ in sc[1:]:
            row[cc * NS + ss] = -9
        best = int(row.argmax())
        r['top1'] += best == tgt
        r['color'] += best // NS == sc[0][0]
        r['shape'] += best % NS == sc[0][1]
    return {k: round(v / len(scenes), 4) for k, v in r.items()}


def main():
    name = sys.argv[1]
    c = dict(DEFAULTS)
    for kv in sys.argv[2:]:
        k, v = kv.split('=')
        c[k] = type(DEFAULTS[k])(v) if not isinstance(DEFAULTS[k], bool) else v == '1'
    torch.manual_seed(c['seed'])
    gen = torch.Generator(device=dev).manual_seed(c['seed'] + 7)
    rng = np.random.default_rng(c['seed'])
    erng = np.random.default_rng(1000003)
    multi = [layout(erng, 0.0) for _ in range(400)]
    single = [layout(erng, 1.0) for _ in range(400)]
    egen = torch.Generator(device=dev).manual_seed(99)
    mpix = torch.cat([render(multi[i:i + 50], egen) for i in range(0, 400, 50)])
    spix = torch.cat([render(single[i:i + 50], egen) for i in range(0, 400, 50)])
    model = Clip(c).to(dev)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and n not in ('tok.weight', 'vpos', 'tpos')]
    rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and n not in ('tok.weight', 'vpos', 'tpos'))]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': c['wd']}, {'params': rest, 'weight_decay': 0}],
                            lr=c['lr'], betas=(0.9, 0.98), eps=1e-6)
    hist, t0, ema = [], time.time(), None
    for step in range(c['steps']):
        if step < c['warmup']:
            lr = c['lr'] * (step + 1) / c['warmup']
        elif c['sched'] == 'const':
            lr = c['lr']
        else:
            p = min(1, (step - c['warmup']) / max(1, c['steps'] - c['warmup']))
            lr = c['lr'] * (c['minfrac'] + (1 - c['minfrac']) * 0.5 * (1 + math.cos(math.pi * p)))
        for gp in opt.param_groups:
            gp['lr'] = lr
        scenes = [layout(rng, c['single']) for _ in range(c['batch'])]
        px = preprocess(render(scenes, gen, c['flat']), c['size'])
        loss = clip_loss(model.image(px), model.text(CAPTION_IDS), model.logit_scale, positives(scenes))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        done = step + 1 == c['steps'] or time.time() - t0 > c['seconds']
        if (step + 1) % c['eval_every'] == 0 or done:
            model.eval()
            h = dict(step=step + 1, loss=round(ema, 4), t=round(time.time() - t0, 1),
                     multi=evaluate(model, c, multi, mpix), single=evaluate(model, c, single, spix))
            model.train()
            hist.append(h)
            print(name, json.dumps(h), flush=True)
            with open(f'{name}.json', 'w') as f:
                json.dump(dict(name=name, config=c, history=hist), f)
        if done:
            break


if __name__ == '__main__':
    main()
