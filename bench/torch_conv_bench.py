#!/usr/bin/python3
"""PyTorch CPU mirror of bench/conv-energy.ts (float32): the 3-layer conv energy 1->32->64->64 channels, 3x3 filters,
strides 1/2/2, padding 1, SiLU, linear head 64*7*7 -> 1, on 64x1x28x28 images.
  forward : energy of the batch under torch.no_grad()
  langevin: forward + input gradient (autograd, parameters frozen) + x <- x - g + 0.01 noise
  train   : loss mean E(x+) - mean E(x-) + 0.1 mean(E^2) on 64 + 64 images, backward, Adam(1e-4)
Timing: warm-up 0.3 s, then --reps blocks of >= --block-s seconds; per-iteration wall and process-CPU milliseconds
per block.
Usage: torch_conv_bench.py [--threads 2] [--reps 5] [--block-s 0.5] [--only forward,langevin,train]
Prints one JSON line."""
import argparse, json, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--block-s", type=float, default=0.5)
ap.add_argument("--only", default="forward,langevin,train")
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)


class ConvEnergy(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3, 1, 1)
        self.c2 = nn.Conv2d(32, 64, 3, 2, 1)
        self.c3 = nn.Conv2d(64, 64, 3, 2, 1)
        self.fc = nn.Linear(64 * 7 * 7, 1)

    def forward(self, x):
        h = F.silu(self.c1(x))
        h = F.silu(self.c2(h))
        h = F.silu(self.c3(h))
        return self.fc(h.flatten(1)).squeeze(1)


def bench(fn, warm_s=0.3):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < warm_s:
        fn()
    t0 = time.perf_counter(); it = 0
    while time.perf_counter() - t0 < 0.1:
        fn(); it += 1
    iters = max(1, int(a.block_s / ((time.perf_counter() - t0) / it)))
    ms, cpu = [], []
    for _ in range(a.reps):
        t0 = time.perf_counter(); c0 = time.process_time()
        for _ in range(iters):
            fn()
        ms.append((time.perf_counter() - t0) / iters * 1e3)
        cpu.append((time.process_time() - c0) / iters * 1e3)
    return {"ms_median": round(statistics.median(ms), 3), "ms_all": [round(v, 3) for v in ms],
            "cpu_ms_median": round(statistics.median(cpu), 3), "iters_per_block": iters}


out = {"bench": "torch_conv", "torch": torch.__version__, "threads": torch.get_num_threads(), "results": {}}
R = out["results"]
which = a.only.split(",")
net = ConvEnergy()
x0 = torch.rand(64, 1, 28, 28)
if "forward" in which:
    def fwd():
        with torch.no_grad():
            net(x0).sum().item()
    R["forward"] = bench(fwd)
if "langevin" in which:
    frozen = ConvEnergy()
    for p in frozen.parameters():
        p.requires_grad_(False)
    st = {"x": x0.clone()}
    def lang():
        x = st["x"].requires_grad_(True)
        g, = torch.autograd.grad(frozen(x).sum(), x)
        with torch.no_grad():
            st["x"] = x - g + 0.01 * torch.randn_like(x)
    R["langevin"] = bench(lang)
if "train" in which:
    tnet = ConvEnergy()
    opt = torch.optim.Adam(tnet.parameters(), lr=1e-4)
    xp, xn = torch.rand(64, 1, 28, 28), torch.rand(64, 1, 28, 28)
    def train():
        opt.zero_grad(set_to_none=True)
        ep, en = tnet(xp), tnet(xn)
        loss = ep.mean() - en.mean() + 0.1 * ((ep ** 2).mean() + (en ** 2).mean())
        loss.backward()
        opt.step()
        loss.item()
    R["train"] = bench(train)
print(json.dumps(out))
