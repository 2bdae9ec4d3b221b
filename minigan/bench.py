"""`minigan bench`: milliseconds per training iteration, beside PyTorch where it is installed.

One iteration: batch 64, float32, D step on a real and a
fake batch (BCE with logits) + G step (non-saturating), Adam(2e-4, (0.5, 0.999)) on both.
minigan runs it through ``GAN.train_step``; PyTorch runs the same networks the way its
DCGAN example does. Rounds alternate between the two so that a slow moment of the
machine hits both; each figure is the median over rounds after a warm-up.

On a CPU the iteration's GEMM work is counted (multiply-adds x 2 of every Dense and
convolution in every pass: D forward 3x, D backward 2x full + 1x input-gradient only,
G forward 1x, G backward 1x) and compared with the machine's measured SGEMM rate.
"""
from __future__ import annotations

import math
import statistics
import time

from . import backend
from .layers import Conv2d, ConvTranspose2d, Dense, no_grad
from .models import build
from .train import GAN

ARCHS = {"mlp": ("mlp", (1, 28, 28)), "dcgan28": ("dcgan", (1, 28, 28))}
Z_DIM = 100


# -- FLOPs ---------------------------------------------------------------------
def forward_flops(model, x) -> int:
    """GEMM FLOPs (2 x multiply-adds) of one forward pass of a Sequential on input x."""
    flops = 0
    with no_grad():  # run for the shapes only, never back-propagated
        for layer in model.layers:
            y = layer(x)
            if isinstance(layer, Dense):
                flops += 2 * x.shape[0] * layer.in_features * layer.out_features
            elif isinstance(layer, Conv2d):
                flops += 2 * y.size * layer.in_ch * layer.k * layer.k
            elif isinstance(layer, ConvTranspose2d):
                flops += 2 * x.size * layer.out_ch * layer.k * layer.k
            x = y
    return flops


def iteration_flops(gan: GAN, batch: int, data_shape) -> int:
    """GEMM FLOPs of one training iteration: 8 D-forward equivalents and 3 G-forward equivalents."""
    xp = backend.xp
    f_g = forward_flops(gan.G, gan.noise(batch))
    f_d = forward_flops(gan.D, xp.zeros((batch,) + tuple(data_shape), dtype=xp.float32))
    return 8 * f_d + 3 * f_g


def gemm_rate() -> float:
    """Measured SGEMM rate of the active backend, FLOP/s (best of a few 1024^3 products)."""
    xp, n = backend.xp, 1024
    a = xp.ones((n, n), dtype=xp.float32)
    b = xp.ones((n, n), dtype=xp.float32)
    best = math.inf
    for _ in range(5):
        backend.synchronize()
        t = time.perf_counter()
        a @ b
        backend.synchronize()
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best


# -- minigan -------------------------------------------------------------------
def minigan_iteration(arch: str, batch: int):
    """(step function, gan, data_shape) for one minigan training iteration of ``arch``."""
    name, data_shape = ARCHS[arch]
    backend.seed(0)
    G, D = build(name, data_shape, Z_DIM)
    gan = GAN(G, D, Z_DIM, loss="nonsaturating", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999))
    real = backend.asarray(backend.rng(1).uniform(-1, 1, (batch,) + data_shape), dtype="float32")

    def step():
        gan.train_step(real)
        backend.synchronize()
    return step, gan, data_shape


# -- PyTorch -------------------------------------------------------------------
def torch_models(arch: str, channels: int = 1):
    """PyTorch's (G, D) for the benchmark architecture ``arch``, layer for layer as minigan's
    (``channels``: the images' channels; the networks are written for 28x28)."""
    from torch import nn

    if arch == "mlp":
        def block(i, o):
            return [nn.Linear(i, o), nn.LeakyReLU(0.2), nn.BatchNorm1d(o)]
        G = nn.Sequential(*block(Z_DIM, 256), *block(256, 512), *block(512, 1024), nn.Linear(1024, 784), nn.Tanh(),
                          nn.Unflatten(1, (1, 28, 28)))
        D = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256),
                          nn.LeakyReLU(0.2), nn.Linear(256, 1))
        return G, D
    G = nn.Sequential(nn.Linear(Z_DIM, 6272, bias=False), nn.BatchNorm1d(6272), nn.ReLU(),
                      nn.Unflatten(1, (128, 7, 7)),
                      nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, channels, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(channels, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(128), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(6272, 1))
    return G, D


def torch_iteration(arch: str, batch: int, device: str):
    """One PyTorch training iteration of the same networks, as its DCGAN example writes it."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    G, D = torch_models(arch)
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(batch, 1, 28, 28, device=device) * 2 - 1
    ones = torch.ones(batch, 1, device=device)
    zeros = torch.zeros(batch, 1, device=device)

    def step():
        D.zero_grad()
        bce(D(real), ones).backward()
        fake = G(torch.randn(batch, Z_DIM, device=device))
        bce(D(fake.detach()), zeros).backward()
        opt_d.step()
        G.zero_grad()
        bce(D(fake), ones).backward()
        opt_g.step()
        if device == "cuda":
            torch.cuda.synchronize()
    return step


def _time_per_call(step, calls: int) -> float:
    t = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - t) / calls


def bench_arch(arch: str, batch: int, threads: int | None, rounds: int = 7, calls: int = 5) -> dict:
    """Time one architecture: minigan (and PyTorch where importable) in alternating rounds."""
    step, gan, data_shape = minigan_iteration(arch, batch)
    torch_step = None
    try:
        import torch
        if threads:
            torch.set_num_threads(threads)
        device = "cuda" if backend.name == "cupy" else "cpu"
        torch_step = torch_iteration(arch, batch, device)
    except ImportError:
        pass
    for _ in range(3):  # warm-up: allocations, BLAS threads, caches
        step()
        if torch_step:
            torch_step()
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(_time_per_call(step, calls))
        if torch_step:
            theirs.append(_time_per_call(torch_step, calls))
    result = {"arch": arch, "backend": backend.name, "batch": batch, "threads": threads,
              "minigan_ms": 1e3 * statistics.median(ours)}
    if torch_step:
        result["torch_ms"] = 1e3 * statistics.median(theirs)
        result["ratio"] = result["minigan_ms"] / result["torch_ms"]
    if backend.name == "numpy":
        flops = iteration_flops(gan, batch, data_shape)
        rate = gemm_rate()
        result.update(gflop=flops / 1e9, gemm_gflops=rate / 1e9,
                      gemm_floor_ms=1e3 * flops / rate,
                      fraction_of_gemm_rate=flops / rate / (result["minigan_ms"] / 1e3))
    return result


# VmHWM (this process image's peak RSS) rather than ru_maxrss, which a child inherits from its parent.
_MEMORY_PROBE = """
import sys
from minigan import bench
arch, batch, framework = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if framework == "torch":
    step = bench.torch_iteration(arch, batch, "cpu")
else:
    step = bench.minigan_iteration(arch, batch)[0]
def kb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))
before = kb("VmRSS")
for _ in range(5):
    step()
print(before * 1024, kb("VmHWM") * 1024)
"""


def peak_memory(arch: str, batch: int, framework: str) -> dict:
    """Peak resident memory (MB) of 5 training iterations in a fresh process, and how much of it the
    iterations added over the process after import and model building (Linux: /proc/self/status)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, arch, str(batch), framework],
                         capture_output=True, text=True, check=True).stdout.split()
    before, peak = int(out[-2]), int(out[-1])
    return {"peak_mb": peak / 2**20, "training_mb": (peak - before) / 2**20}


def format_row(r: dict) -> str:
    text = f"{r['arch']:8s} {r['backend']:5s} batch {r['batch']}: minigan {r['minigan_ms']:8.2f} ms"
    if "torch_ms" in r:
        text += f" | PyTorch {r['torch_ms']:8.2f} ms | ratio {r['ratio']:.2f}x"
    if "gflop" in r:
        text += (f" | {r['gflop']:.2f} GFLOP, GEMM floor {r['gemm_floor_ms']:.1f} ms "
                 f"({100 * r['fraction_of_gemm_rate']:.0f}% of {r['gemm_gflops']:.0f} GFLOP/s)")
    for who in ("minigan", "torch"):
        if f"{who}_memory" in r:
            m = r[f"{who}_memory"]
            text += f"\n         {who} memory: peak {m['peak_mb']:.0f} MB, of which the iterations added {m['training_mb']:.0f} MB"
    return text
