#!/usr/bin/env python3
"""PyTorch twin of the AdaMSS network, written from ../shared/spec/adamss.md §2-3.

It mirrors crates/adamss-model parameter for parameter (same names, same shapes, same
initialisation rules) and serves three purposes:

* `count`     prints the parameter counts (the paper's segmentation model: 18,438,878);
* `reference` writes tests/data/model/*: random weights (safetensors, our parameter names),
              random inputs, eval-mode outputs and one training step's gradients, which the
              Rust tests in tests/it/model.rs must reproduce;
* `bench`     times forward / forward+backward of blocks and of the whole network, for the
              side-by-side figures in docs/benchmarks.md (CPU here, CUDA on a GPU machine).

Run with the project venv: `.venv/bin/python tools/adamss_twin.py reference`.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ENC_DEPTHS = (2, 3, 3, 4, 4)
DEC_DEPTHS = (4, 3, 3, 2)


def fused_widths(c):
    return tuple(c * m for m in (1, 2, 4, 8, 16))


def single_widths(c):
    """PET/CT branch widths: C/2·(1, 2, 4, 8, 16) — 8 … 128 at the paper's C = 16."""
    return tuple(max(c // 2, 1) * m for m in (1, 2, 4, 8, 16))


class CNA(nn.Module):
    """Conv3d k^3 (bias, same padding) -> BatchNorm3d -> ReLU."""

    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, k, padding=k // 2, bias=True)
        self.bn = nn.BatchNorm3d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class ResBlock(nn.Module):
    def __init__(self, cin, cout, n):
        super().__init__()
        self.conv = CNA(cin, cout, 3)
        self.shortcut = CNA(cin, cout, 1)
        self.extra = nn.ModuleList([CNA(cout, cout, 3) for _ in range(n - 1)])

    def forward(self, x):
        y = self.conv(x) + self.shortcut(x)
        for m in self.extra:
            y = y + m(y)
        return y


class FusionGate(nn.Module):
    def __init__(self, c_single, c):
        super().__init__()
        self.pc = CNA(2 * c_single, c, 3)
        self.a = nn.Conv3d(2 * c, c, 1)
        self.b = nn.Conv3d(2 * c, c, 1)
        nn.init.zeros_(self.a.weight)
        nn.init.zeros_(self.b.weight)

    def forward(self, fuse, p, c):
        pc = self.pc(torch.cat([p, c], 1))
        z = torch.cat([fuse, pc], 1)
        w = torch.sigmoid(self.a(z) - self.b(z))
        return w * fuse + (1 - w) * pc, w


class Encoder(nn.Module):
    """One plain encoder branch: maxpool (not level 1) then ResBlock."""

    def __init__(self, cin, widths):
        super().__init__()
        self.levels = nn.ModuleList()
        for i, (w, n) in enumerate(zip(widths, ENC_DEPTHS)):
            self.levels.append(ResBlock(cin if i == 0 else widths[i - 1], w, n))

    def forward(self, x):
        out = []
        for i, m in enumerate(self.levels):
            if i > 0:
                x = F.max_pool3d(x, 2)
            x = m(x)
            out.append(x)
        return out


class AdaFusionEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        fw = fused_widths(c)
        sw = single_widths(c)
        self.pet = Encoder(1, sw)
        self.ct = Encoder(1, sw)
        self.fused = Encoder(2, fw)
        self.gates = nn.ModuleList([FusionGate(s, f) for s, f in zip(sw, fw)])

    def forward(self, pet, ct):
        ps = self.pet(pet)
        cs = self.ct(ct)
        x = torch.cat([pet, ct], 1)
        feats, ws = [], []
        for i, (m, g) in enumerate(zip(self.fused.levels, self.gates)):
            if i > 0:
                x = F.max_pool3d(x, 2)
            x = m(x)
            x, w = g(x, ps[i], cs[i])
            feats.append(x)
            ws.append(w)
        return feats, ws


class Conv1Bn(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, 1)
        self.bn = nn.BatchNorm3d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class AttentionGate(nn.Module):
    def __init__(self, c_skip, c_g):
        super().__init__()
        self.theta = Conv1Bn(c_g, c_skip)
        self.phi = Conv1Bn(c_skip, c_skip)
        self.psi = Conv1Bn(c_skip, 1)

    def forward(self, x, g):
        th = self.theta(g)
        ph = F.avg_pool3d(self.phi(x), 2)
        a = torch.sigmoid(self.psi(F.relu(th + ph)))
        a = F.interpolate(a, scale_factor=2, mode="trilinear", align_corners=True)
        return x * a, a


class DecoderLevel(nn.Module):
    def __init__(self, c_skip, c_g, n):
        super().__init__()
        self.attention = AttentionGate(c_skip, c_g)
        self.block = ResBlock(c_skip + c_g, c_skip, n)

    def forward(self, skip, g):
        s, a = self.attention(skip, g)
        up = F.interpolate(g, scale_factor=2, mode="nearest")
        return self.block(torch.cat([s, up], 1)), a


class AdaFocusDecoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        fw = fused_widths(c)
        self.levels = nn.ModuleList(
            [DecoderLevel(fw[3 - i], fw[4 - i], n) for i, n in enumerate(DEC_DEPTHS)]
        )

    def forward(self, feats):
        g = feats[4]
        outs, atts = [], []
        for i, m in enumerate(self.levels):
            g, a = m(feats[3 - i], g)
            outs.append(g)
            atts.append(a)
        return outs, atts


class SurvivalHead(nn.Module):
    def __init__(self, c, extra, outputs, dropout):
        super().__init__()
        self.fc1 = nn.Linear(15 * c + extra, 8 * c)
        self.fc2 = nn.Linear(8 * c, outputs)
        self.p = dropout

    def forward(self, v):
        v = F.dropout(v, self.p, self.training)
        v = F.relu(self.fc1(v))
        v = F.dropout(v, self.p, self.training)
        return self.fc2(v)


class AdaMss(nn.Module):
    def __init__(self, c=16, extra=0, outputs=1, dropout=0.5):
        super().__init__()
        self.encoder = AdaFusionEncoder(c)
        self.decoder = AdaFocusDecoder(c)
        self.seg_head = nn.Conv3d(c, 2, 1)
        self.surv_head = SurvivalHead(c, extra, outputs, dropout)

    def forward(self, pet, ct, extra=None):
        feats, _ = self.encoder(pet, ct)
        outs, _ = self.decoder(feats)
        seg = self.seg_head(outs[-1])
        v = torch.cat([o.mean(dim=(2, 3, 4)) for o in outs], 1)
        if extra is not None:
            v = torch.cat([v, extra], 1)
        return seg, self.surv_head(v), v


# ----------------------------------------------------------------------------------- losses
def dice_loss(logits, target):
    p = torch.sigmoid(logits)
    dims = tuple(range(2, p.dim()))
    inter = (p * target).sum(dims)
    denom = (p + target).sum(dims).clamp_min(1e-5)
    return (-2 * inter / denom).mean(0).sum()


def focal_loss(logits, target, alpha=0.25, gamma=2.0):
    p = torch.sigmoid(logits).clamp(1e-5, 1 - 1e-5)
    l = -alpha * target * (1 - p) ** gamma * torch.log(p) - (1 - alpha) * (1 - target) * p**gamma * torch.log(1 - p)
    return l.mean(dim=tuple(i for i in range(p.dim()) if i != 1)).sum()


def cox_breslow_mean(eta, time, event):
    eta = eta.double().reshape(-1)
    n = eta.shape[0]
    at_risk = (time.reshape(1, n) >= time.reshape(n, 1)).double()  # [i, j]: j in R(t_i)
    lse = torch.logsumexp(eta.reshape(1, n) + torch.log(at_risk), 1)
    d = event.double()
    if d.sum() == 0:
        return eta.sum() * 0
    return ((lse - eta) * d).sum() / d.sum()


# ------------------------------------------------------------------------------ utilities
def set_random_bn_stats(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm3d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) * 0.5 + 0.75)


def round_to_f32(model):
    """Rounds every parameter and buffer to float32 values (kept in float64), so that the
    float32 files hold exactly what both implementations compute with."""
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(t.float().double())


def f32(t):
    return t.float().double()


def export_state(model, path):
    from safetensors.torch import save_file

    sd = {k: v.detach().float().contiguous() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    save_file(sd, path)


def count(args):
    m = AdaMss(c=16)
    seg = sum(p.numel() for n, p in m.named_parameters() if not n.startswith("surv_head"))
    head = sum(p.numel() for n, p in m.named_parameters() if n.startswith("surv_head"))
    print(json.dumps({"segmentation_model": seg, "survival_head_cox": head}))


CASES = (("c2_s16", 2, 16, 3, 3), ("c2_s32", 2, 32, 2, 0))


def reference(args):
    out = args.out
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(20261126)
    gen = torch.Generator().manual_seed(7)
    cases = {}
    # Small widths keep the committed files small (float32, ~1 MiB a case); the topology is
    # the paper's. Computation is in float64 on float32-representable values.
    for name, c, size, batch, extra in CASES:
        model = AdaMss(c=c, extra=extra, outputs=1, dropout=0.0).double()
        set_random_bn_stats(model, gen)
        round_to_f32(model)
        export_state(model, os.path.join(out, f"{name}.weights.safetensors"))
        pet = f32(torch.randn(batch, 1, size, size, size, generator=gen, dtype=torch.float64))
        ct = f32(torch.randn(batch, 1, size, size, size, generator=gen, dtype=torch.float64))
        ex = f32(torch.randn(batch, extra, generator=gen, dtype=torch.float64)) if extra else None
        tgt = (torch.rand(batch, 2, size, size, size, generator=gen) > 0.7).double()
        model.eval()
        with torch.no_grad():
            seg, risk, v = model(pet, ct, ex)
            feats, ws = model.encoder(pet, ct)
            _, atts = model.decoder(feats)
        tensors = {"pet": pet, "ct": ct, "target": tgt, "eval.seg": seg, "eval.risk": risk, "eval.features": v}
        for i, w in enumerate(ws):
            tensors[f"eval.gate{i}"] = w
        for i, a in enumerate(atts):
            tensors[f"eval.attention{i}"] = a
        if ex is not None:
            tensors["extra"] = ex
        # One training step (train mode: batch statistics), seg + Cox loss.
        model.train()
        model.zero_grad()
        time_ = torch.tensor([5.0, 3.0, 3.0, 8.0][:batch], dtype=torch.float64)
        event = torch.tensor([1.0, 1.0, 0.0, 1.0][:batch], dtype=torch.float64)
        seg, risk, _ = model(pet, ct, ex)
        loss = dice_loss(seg, tgt) + focal_loss(seg, tgt) + cox_breslow_mean(risk, time_, event)
        loss.backward()
        tensors["train.loss"] = loss.detach().reshape(1)
        tensors["time"] = time_
        tensors["event"] = event
        for n, p in model.named_parameters():
            tensors[f"grad.{n}"] = p.grad.detach().clone()
        from safetensors.torch import save_file

        save_file({k: v.float().contiguous() for k, v in tensors.items()}, os.path.join(out, f"{name}.io.safetensors"))
        cases[name] = {"c": c, "size": size, "batch": batch, "extra": extra}
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
    print("wrote", out)


# ---------------------------------------------------------------------------------- bench
def median_time(fn, device, warmup, iters):
    for _ in range(warmup):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def tune_malloc():
    """What `adamss_model::cpu::tune_allocator` does: raise glibc's mmap/trim thresholds."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return libc.mallopt(M_MMAP_THRESHOLD, 1 << 30) == 1 and libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1


def bench(args):
    if args.tune_malloc:
        assert tune_malloc()
    device = torch.device(args.device)
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    rows = []
    c = args.width
    for size in args.sizes:
        b = args.batch
        shp = (b, c, size, size, size)
        fg = FusionGate(8, c).to(device)
        rb = ResBlock(c, c, 3).to(device)
        ag = AttentionGate(c, 2 * c).to(device)
        lvl = ResBlock(c, 2 * c, 3).to(device)
        net = AdaMss(c=c).to(device)
        x8 = torch.randn(b, 8, size, size, size, device=device)
        xc = torch.randn(*shp, device=device)
        g = torch.randn(b, 2 * c, size // 2, size // 2, size // 2, device=device)
        pet = torch.randn(b, 1, size, size, size, device=device)
        ct = torch.randn(b, 1, size, size, size, device=device)
        blocks = {
            "fusion_gate": (fg, lambda: fg(xc, x8, x8)[0]),
            "res_block": (rb, lambda: rb(xc)),
            "attention_gate": (ag, lambda: ag(xc, g)[0]),
            "encoder_level": (lvl, lambda: lvl(F.max_pool3d(xc, 2))),
            "adamss": (net, lambda: net(pet, ct)[0]),
        }
        if args.only_network:
            blocks = {"adamss": blocks["adamss"]}
        for name, (m, f) in blocks.items():
            m.train()
            with torch.no_grad():
                t_fwd = median_time(f, device, args.warmup, args.iters)

            def step():
                m.zero_grad(set_to_none=True)
                f().float().mean().backward()

            t_step = median_time(step, device, args.warmup, args.iters)
            rows.append({"impl": "pytorch" + ("+mallopt" if args.tune_malloc else ""), "block": name, "size": size, "batch": b, "width": c,
                         "forward_s": t_fwd, "forward_backward_s": t_step})
            print(json.dumps(rows[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


def train_step_bench(args):
    """Whole-network training step (Adam) at paper size, fp32 or bf16 autocast."""
    device = torch.device(args.device)
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    net = AdaMss(c=args.width).to(device).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    b, s = args.batch, args.size
    pet = torch.randn(b, 1, s, s, s, device=device)
    ct = torch.randn(b, 1, s, s, s, device=device)
    tgt = (torch.rand(b, 2, s, s, s, device=device) > 0.9).float()
    rows = []
    for precision in args.precisions:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()

        amp = dict(device_type=device.type, dtype=torch.bfloat16, enabled=(precision == "bf16"))

        def forward():
            with torch.no_grad(), torch.autocast(**amp):
                net(pet, ct)

        def loss_backward():
            opt.zero_grad(set_to_none=True)
            with torch.autocast(**amp):
                seg, _, _ = net(pet, ct)
            seg = seg.float()
            loss = dice_loss(seg, tgt) + focal_loss(seg, tgt)
            loss.backward()

        def step():
            loss_backward()
            opt.step()

        t_fwd = median_time(forward, device, args.warmup, args.iters)
        t_fb = median_time(loss_backward, device, args.warmup, args.iters)
        t = median_time(step, device, args.warmup, args.iters)
        mem = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
        rows.append({"impl": "pytorch", "precision": precision, "size": s, "batch": b, "width": args.width,
                     "device": args.device, "step_s": t, "forward_s": t_fwd, "forward_backward_s": t_fb,
                     "max_mem_gib": mem})
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("count")
    r = sub.add_parser("reference")
    r.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "model"))
    b = sub.add_parser("bench")
    b.add_argument("--device", default="cpu")
    b.add_argument("--sizes", type=int, nargs="+", default=[32, 48])
    b.add_argument("--batch", type=int, default=1)
    b.add_argument("--width", type=int, default=16)
    b.add_argument("--warmup", type=int, default=2)
    b.add_argument("--iters", type=int, default=10)
    b.add_argument("--only-network", action="store_true")
    b.add_argument("--tune-malloc", action="store_true", help="raise glibc's mmap/trim thresholds first, as our binary does")
    b.add_argument("--json")
    t = sub.add_parser("train-step")
    t.add_argument("--device", default="cuda")
    t.add_argument("--size", type=int, default=112)
    t.add_argument("--batch", type=int, default=2)
    t.add_argument("--width", type=int, default=16)
    t.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    t.add_argument("--warmup", type=int, default=5)
    t.add_argument("--iters", type=int, default=20)
    t.add_argument("--json")
    a = ap.parse_args()
    {"count": count, "reference": reference, "bench": bench, "train-step": train_step_bench}[a.cmd](a)


if __name__ == "__main__":
    main()
