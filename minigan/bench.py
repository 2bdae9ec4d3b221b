"""`minigan bench`: milliseconds per training iteration, beside PyTorch where it is installed.

Networks (``ARCHS``): mlp and dcgan28 on 1x28x28 images, dcgan32 and dcgan64 (PyTorch's DCGAN
example's networks, no biases) on 3x32x32 and 3x64x64. One iteration: batch 64, float32, D step
on a real and a fake batch (BCE with logits) + G step (non-saturating), Adam(2e-4, (0.5, 0.999))
on both.
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

# benchmark name -> (minigan architecture, data shape). dcgan32 and dcgan64 are PyTorch's DCGAN example's
# networks on RGB images (3 and 4 stride-2 stages, no biases); `minigan bench` with no --arch times the
# first two only (the larger ones take seconds per iteration on a CPU).
ARCHS = {"mlp": ("mlp", (1, 28, 28)), "dcgan28": ("dcgan", (1, 28, 28)),
         "dcgan32": ("dcgan32", (3, 32, 32)), "dcgan64": ("dcgan64", (3, 64, 64))}
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
def torch_mlp(data_shape, z_dim: int = Z_DIM):
    """PyTorch twin of ``minigan.models.mlp``, layer for layer (PyTorch's default initialisation)."""
    from torch import nn

    n = math.prod(data_shape)

    def block(i, o):
        return [nn.Linear(i, o), nn.LeakyReLU(0.2), nn.BatchNorm1d(o)]
    G = nn.Sequential(*block(z_dim, 256), *block(256, 512), *block(512, 1024), nn.Linear(1024, n), nn.Tanh(),
                      nn.Unflatten(1, tuple(data_shape)))
    D = nn.Sequential(nn.Flatten(), nn.Linear(n, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256),
                      nn.LeakyReLU(0.2), nn.Linear(256, 1))
    return G, D


def torch_dcgan(data_shape, z_dim: int = Z_DIM, width: int = 64):
    """PyTorch twin of ``minigan.models.dcgan``, layer for layer: k = ``dcgan_stages(H, W)`` stages, G's
    Dense projection (no bias) -> BN1d, D's Flatten -> Dense logit; biases where minigan has them (D's
    first convolution, G's last transposed convolution, D's Dense)."""
    from torch import nn

    from .models import dcgan_stages

    C, H, W = data_shape
    k = dcgan_stages(H, W)
    h, w, top = H >> k, W >> k, width << (k - 1)
    g_layers = [nn.Linear(z_dim, top * h * w, bias=False), nn.BatchNorm1d(top * h * w), nn.ReLU(),
                nn.Unflatten(1, (top, h, w))]
    for i in range(k - 1, 0, -1):
        g_layers += [nn.ConvTranspose2d(width << i, width << (i - 1), 4, 2, 1, bias=False),
                     nn.BatchNorm2d(width << (i - 1)), nn.ReLU()]
    G = nn.Sequential(*g_layers, nn.ConvTranspose2d(width, C, 4, 2, 1), nn.Tanh())
    d_layers = [nn.Conv2d(C, width, 4, 2, 1), nn.LeakyReLU(0.2)]
    for i in range(1, k):
        d_layers += [nn.Conv2d(width << (i - 1), width << i, 4, 2, 1, bias=False), nn.BatchNorm2d(width << i),
                     nn.LeakyReLU(0.2)]
    D = nn.Sequential(*d_layers, nn.Flatten(), nn.Linear(top * h * w, 1))
    return G, D


def torch_pytorch_dcgan(data_shape, z_dim: int = Z_DIM, width: int = 64):
    """PyTorch's DCGAN example's networks (pytorch/examples, dcgan/main.py) for (C, S, S) images, the twin
    of ``minigan.models.pytorch_dcgan`` (dcgan32, dcgan64): no biases, G from z as (z, 1, 1), D ending in
    a 4x4 convolution to one logit, flattened to (N, 1)."""
    from torch import nn

    C, S, _ = data_shape
    k = (S // 4).bit_length() - 1
    top = width << (k - 1)
    g_layers = [nn.Unflatten(1, (z_dim, 1, 1)), nn.ConvTranspose2d(z_dim, top, 4, 1, 0, bias=False),
                nn.BatchNorm2d(top), nn.ReLU()]
    for i in range(k - 1, 0, -1):
        g_layers += [nn.ConvTranspose2d(width << i, width << (i - 1), 4, 2, 1, bias=False),
                     nn.BatchNorm2d(width << (i - 1)), nn.ReLU()]
    G = nn.Sequential(*g_layers, nn.ConvTranspose2d(width, C, 4, 2, 1, bias=False), nn.Tanh())
    d_layers = [nn.Conv2d(C, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
    for i in range(1, k):
        d_layers += [nn.Conv2d(width << (i - 1), width << i, 4, 2, 1, bias=False), nn.BatchNorm2d(width << i),
                     nn.LeakyReLU(0.2)]
    D = nn.Sequential(*d_layers, nn.Conv2d(top, 1, 4, 1, 0, bias=False), nn.Flatten())
    return G, D


# minigan architecture (or benchmark) name -> its PyTorch twin's builder (data_shape, z_dim[, width])
TORCH_TWINS = {"mlp": torch_mlp, "dcgan": torch_dcgan, "dcgan28": torch_dcgan,
               "dcgan32": torch_pytorch_dcgan, "dcgan64": torch_pytorch_dcgan}


def torch_models(arch: str, data_shape=None, z_dim: int = Z_DIM, **options):
    """PyTorch's (G, D) for ``arch`` (a benchmark name of ``ARCHS`` or a minigan architecture of
    ``TORCH_TWINS``), layer for layer as minigan's; data_shape defaults to the benchmark's
    (``ARCHS[arch]``); options: the architecture's (width)."""
    if data_shape is None:
        data_shape = ARCHS[arch][1]
    if arch not in TORCH_TWINS:
        raise ValueError(f"arch {arch!r}: no PyTorch twin (expected one of {', '.join(TORCH_TWINS)})")
    return TORCH_TWINS[arch](tuple(data_shape), z_dim, **options)


def torch_iteration(arch: str, batch: int, device: str):
    """One PyTorch training iteration of the same networks, as its DCGAN example writes it."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    data_shape = ARCHS[arch][1]
    G, D = torch_models(arch, data_shape)
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(batch, *data_shape, device=device) * 2 - 1
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


def time_per_call(step, calls: int) -> float:
    """Seconds per call of ``step()``, the mean over ``calls`` calls in a row."""
    t = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - t) / calls


def bench_arch(arch: str, batch: int, threads: int | None, rounds: int = 7, calls: int = 5,
               warmup: int = 3) -> dict:
    """Time one architecture: minigan (and PyTorch where importable) in alternating rounds of ``calls``
    iterations each, after ``warmup`` untimed iterations of each."""
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
    for _ in range(warmup):  # allocations, BLAS threads, caches
        step()
        if torch_step:
            torch_step()
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(time_per_call(step, calls))
        if torch_step:
            theirs.append(time_per_call(torch_step, calls))
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
