#!/usr/bin/python3
"""PyTorch CPU mirror of bench/conv-energy.ts (float32): the 3-layer conv energy 1->32->64->64 channels, 3x3 filters,
strides 1/2/2, padding 1, SiLU, linear head 64*7*7 -> 1, on 64x1x28x28 images.
  forward : energy of the batch under torch.no_grad()
  langevin: forward + input gradient (autograd, parameters frozen) + x <- x - g + 0.01 noise
  train   : loss mean E(x+) - mean E(x-) + 0.1 mean(E^2) on 64 + 64 images, backward, Adam(1e-4)
  unet    : one score-sde training step of bench/unet-score.ts (`ebm train score --sde vp --arch unet`, batch 128):
            the U-Net of src/diffusion/scoreNets.ts (base 16, time embedding 32; 3x3 convs 1->16, 16->32 stride 2,
            32->32 stride 2, nearest 2x upsampling + skip concatenations 64->32 and 48->16, each block
            silu(conv + bias + per-channel linear projection of the embedding), output conv 16->1), VP-SDE
            (beta 0.1..20), mixed log-sigma/uniform times, preconditioned score net(c_in z, tau(t))/sigma - c_in^2 z,
            sigma^2-weighted DSM loss, backward, Adam(1e-3), global gradient norm, parameter EMA 0.999
Timing: warm-up 0.3 s, then --reps blocks of >= --block-s seconds; per-iteration wall and process-CPU milliseconds
per block.
Usage: torch_conv_bench.py [--threads 2] [--reps 5] [--block-s 0.5] [--only forward,langevin,train,unet]
Prints one JSON line."""
import argparse, json, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--block-s", type=float, default=0.5)
ap.add_argument("--only", default="forward,langevin,train,unet")
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


class UNet(nn.Module):
    """initUNet/applyUNet of src/diffusion/scoreNets.ts (28x28, base c, embedding width e)."""
    def __init__(self, C=1, c=16, e=32):
        super().__init__()
        spec = [("enc1", C, c), ("enc2", c, 2 * c), ("enc3", 2 * c, 2 * c), ("dec2", 4 * c, 2 * c), ("dec1", 3 * c, c)]
        self.conv = nn.ModuleDict({n: nn.Conv2d(i, o, 3, 1, 1) for n, i, o in spec})
        self.temb = nn.ParameterDict({n: nn.Parameter(torch.empty(e, o).uniform_(-(6 / (e + o)) ** 0.5, (6 / (e + o)) ** 0.5)) for n, i, o in spec})
        self.out = nn.Conv2d(c, C, 3, 1, 1)
        with torch.no_grad():
            for n, i, o in spec:
                nn.init.normal_(self.conv[n].weight, std=(2 / (9 * i)) ** 0.5); nn.init.zeros_(self.conv[n].bias)
            nn.init.normal_(self.out.weight, std=0.01 * (2 / (9 * c)) ** 0.5); nn.init.zeros_(self.out.bias)
        k = e // 2
        self.register_buffer("freq", torch.exp(torch.log(torch.tensor(100.0, dtype=torch.float64)) * torch.arange(k, dtype=torch.float64) / (k - 1)).float())

    def forward(self, x, tau):
        n = x.shape[0]
        arg = tau[:, None] * self.freq[None, :]
        emb = torch.cat([torch.sin(arg), torch.cos(arg)], 1)
        def block(name, h, stride):
            y = F.conv2d(h, self.conv[name].weight, self.conv[name].bias, stride=stride, padding=1)
            return F.silu(y + (emb @ self.temb[name]).reshape(n, -1, 1, 1))
        up = lambda h: F.interpolate(h, scale_factor=2, mode="nearest")
        h1 = block("enc1", x, 1)
        h2 = block("enc2", h1, 2)
        h3 = block("enc3", h2, 2)
        u2 = block("dec2", torch.cat([up(h3), h2], 1), 1)
        u1 = block("dec1", torch.cat([up(u2), h1], 1), 1)
        return self.out(u1)


def vp(bmin=0.1, bmax=20.0):
    B = lambda t: bmin * t + 0.5 * t * t * (bmax - bmin)
    return (lambda t: torch.exp(-0.5 * B(t))), (lambda t: torch.sqrt(-torch.expm1(-B(t))))


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
if "unet" in which:
    # src/models/scoreSde (loss.ts logSigmaDSM, score.ts scoreFn, train.ts scoreSdeTrainStep) with eps 1e-3.
    mean_coef, std = vp()
    eps_t, n = 1e-3, 128
    unet = UNet()
    ema = [p.detach().clone() for p in unet.parameters()]
    uopt = torch.optim.Adam(unet.parameters(), lr=1e-3)
    z0 = torch.rand(n, 1, 28, 28) * 2 - 1
    one = torch.ones((), dtype=torch.float64)
    a_ls, b_ls = torch.log(std(eps_t * one)), torch.log(std(one))
    def unet_train():
        u = torch.rand(2 * n, dtype=torch.float64)
        target = torch.exp(a_ls + (b_ls - a_ls) * u[:n])
        lo, hi = torch.full((n,), eps_t, dtype=torch.float64), torch.ones(n, dtype=torch.float64)
        for _ in range(60):  # t with sigma(t) = target, by bisection as timeOfStd does
            mid = 0.5 * (lo + hi); below = std(mid) < target
            lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
        t = torch.where(u[n:] < 0.5, eps_t + (1 - eps_t) * u[:n], 0.5 * (lo + hi))
        m, s = mean_coef(t), std(t)
        cin2 = 1 / (m * m * 0.25 + s * s)
        tau = 0.5 * ((t - eps_t) / (1 - eps_t) + (torch.log(s) - a_ls) / (b_ls - a_ls))
        col = lambda v: v.float().reshape(n, 1, 1, 1)
        e = torch.randn(n, 1, 28, 28)
        xt = col(m) * z0 + col(s) * e
        uopt.zero_grad(set_to_none=True)
        out = unet(xt * col(torch.sqrt(cin2)), tau.float())
        sc = out * col(1 / s) - xt * col(cin2)
        loss = ((sc + e / col(s)) * col(s)).square().sum() * (0.5 / n)
        loss.backward()
        lv = loss.item()
        uopt.step()
        gnorm = torch.sqrt(sum(p.grad.square().sum() for p in unet.parameters())).item()
        with torch.no_grad():
            for q, p in zip(ema, unet.parameters()):
                q.mul_(0.999).add_(p, alpha=0.001)
        return lv, gnorm
    R["unet"] = bench(unet_train)
print(json.dumps(out))
