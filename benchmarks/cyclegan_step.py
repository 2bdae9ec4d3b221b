"""One CycleGAN training step, minigan beside PyTorch on the same networks, in one process, alternating.

The networks and batch of ``minigan train --model cyclegan`` on 32-pixel emoji (its defaults): two ResNet
generators (width 32, two downs, 6 residual blocks) and two PatchGAN discriminators (2 layers), batch 1,
float32. PyTorch's twins are built layer for layer (``torch_twin``) and take minigan's initial weights,
and their outputs are checked equal to minigan's (float64, 1e-9) before any timing. One step, on both
sides, is the authors' ``optimize_parameters``: the generators' forward (each applied three times), L_G's
backward through D's input only, Adam on G and F, then D_A and D_B on the same fakes through the pools.

Rounds alternate minigan, PyTorch, minigan, ... so that a slow moment of the machine hits both; each
figure is the median over rounds of the mean over ``--calls`` steps, after a warm-up. ``--profile`` adds
where minigan's time goes: the functions taking the most time over the calls (cProfile, own time).

    python benchmarks/cyclegan_step.py [--size 32] [--width 32] [--batch 1] [--threads 2] [--profile]
"""
from __future__ import annotations

import argparse
import statistics

import numpy as np

from minigan import backend, layers
from minigan.bench import time_per_call
from minigan.cyclegan import CycleGAN
from minigan.cyclegan_models import patch_discriminator, resnet_generator, sizes_for


def minigan_models(size: int, width: int, seed: int = 0):
    sizes = sizes_for(size)
    with backend.seeded(seed):
        G, F = (resnet_generator(3, width, sizes["downs"], sizes["blocks"]) for _ in range(2))
        D_A, D_B = (patch_discriminator(3, width, sizes["layers"]) for _ in range(2))
    return G, F, D_A, D_B


def torch_twin(module):
    """A torch.nn module (float64) computing what the minigan ``module`` computes, with its weights copied."""
    import torch
    from torch import nn

    def conv(m, cls):
        t = cls(m.in_ch, m.out_ch, m.k, m.stride, m.padding, bias="b" in m.params, dtype=torch.float64,
                **({"output_padding": m.output_padding} if cls is nn.ConvTranspose2d else {}))
        with torch.no_grad():
            for name, theirs in (("W", t.weight), ("b", t.bias)):
                if name in m.params:
                    theirs.copy_(torch.from_numpy(backend.to_numpy(m.params[name]).astype(np.float64)))
        return t

    class Add(nn.Module):
        def __init__(self, block):
            super().__init__()
            self.block = block

        def forward(self, x):
            return x + self.block(x)

    if isinstance(module, layers.Sequential):
        return nn.Sequential(*[torch_twin(m) for m in module.layers])
    if isinstance(module, layers.Residual):
        return Add(torch_twin(module.block))
    if isinstance(module, layers.ConvTranspose2d):
        return conv(module, nn.ConvTranspose2d)
    if isinstance(module, layers.Conv2d):
        return conv(module, nn.Conv2d)
    if isinstance(module, layers.InstanceNorm2d):
        return nn.InstanceNorm2d(module.num_features, eps=module.eps, affine=False)
    if isinstance(module, layers.ReflectionPad2d):
        return nn.ReflectionPad2d(module.padding)
    if isinstance(module, layers.LeakyReLU):
        return nn.LeakyReLU(module.negative_slope)
    simple = {layers.ReLU: nn.ReLU, layers.Tanh: nn.Tanh}
    return simple[type(module)]()


def check_twins(size: int, width: int) -> float:
    """The largest |minigan - PyTorch| over the four networks' outputs on one input, in float64."""
    import torch

    with backend.using_dtype("float64"):
        x = np.random.default_rng(1).uniform(-1, 1, (2, 3, size, size))
        worst = 0.0
        for m in minigan_models(size, width):
            t = torch_twin(m)
            with layers.no_grad():
                ours = backend.to_numpy(m(backend.asarray(x, dtype="float64")))
            with torch.no_grad():
                theirs = t(torch.from_numpy(x)).numpy()
            worst = max(worst, float(np.abs(ours - theirs).max()))
        return worst


class TorchPool:
    """The authors' ImagePool, as ``minigan.cyclegan.ImagePool`` (on torch tensors)."""

    def __init__(self, size: int, rng):
        self.size, self.images, self.rng = size, [], rng

    def query(self, images):
        import torch

        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.detach().clone())
                out.append(image)
            elif self.rng.random() < 0.5:
                k = int(self.rng.integers(0, self.size))
                out.append(self.images[k])
                self.images[k] = image.detach().clone()
            else:
                out.append(image)
        return torch.stack(out)


def torch_step(G, F, D_A, D_B, pool_size: int = 50, lam: float = 10.0, lam_id: float = 5.0):
    """step(a, b): the authors' optimize_parameters on the torch networks."""
    import itertools

    import torch

    opt_g = torch.optim.Adam(itertools.chain(G.parameters(), F.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(itertools.chain(D_A.parameters(), D_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(0)
    pools = TorchPool(pool_size, rng), TorchPool(pool_size, rng)
    mse, l1 = torch.nn.MSELoss(), torch.nn.L1Loss()

    def gan(logits, target: float):
        return mse(logits, torch.full_like(logits, target))

    def step(a, b):
        fake_b, fake_a = G(a), F(b)
        rec_a, rec_b = F(fake_b), G(fake_a)
        for p in itertools.chain(D_A.parameters(), D_B.parameters()):
            p.requires_grad_(False)
        opt_g.zero_grad()
        loss_g = (gan(D_B(fake_b), 1) + gan(D_A(fake_a), 1) + lam * (l1(rec_a, a) + l1(rec_b, b))
                  + lam_id * (l1(G(b), b) + l1(F(a), a)))
        loss_g.backward()
        opt_g.step()
        for p in itertools.chain(D_A.parameters(), D_B.parameters()):
            p.requires_grad_(True)
        opt_d.zero_grad()
        for D, real, fake, pool in ((D_A, a, fake_a, pools[0]), (D_B, b, fake_b, pools[1])):
            loss_d = (gan(D(real), 1) + gan(D(pool.query(fake.detach())), 0)) / 2
            loss_d.backward()
        opt_d.step()
    return step


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32, help="image side (default 32, the emoji default's)")
    parser.add_argument("--width", type=int, default=32, help="the networks' width (default 32)")
    parser.add_argument("--batch", type=int, default=1, help="batch size (default 1, the authors')")
    parser.add_argument("--threads", type=int, default=None, help="BLAS and PyTorch threads")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="where minigan's time goes (cProfile)")
    args = parser.parse_args(argv)
    import torch

    if args.threads:  # (BLAS reads its thread count at start: set OMP_NUM_THREADS etc. to the same)
        torch.set_num_threads(args.threads)
    models = minigan_models(args.size, args.width)
    print(f"twins' largest output difference in float64: {check_twins(args.size, args.width):.2e}")
    twins = [torch_twin(m).float() for m in models]
    ours = CycleGAN(*models)
    rng = np.random.default_rng(0)
    a, b = (rng.uniform(-1, 1, (args.batch, 3, args.size, args.size)).astype(np.float32) for _ in range(2))
    a_dev, b_dev = backend.asarray(a), backend.asarray(b)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    theirs = torch_step(*twins)
    steps = {"minigan": lambda: ours.train_step(a_dev, b_dev), "pytorch": lambda: theirs(ta, tb)}
    for step in steps.values():
        time_per_call(step, 2)  # warm-up
    times = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            times[name].append(time_per_call(step, args.calls))
    ms = {name: 1000 * statistics.median(t) for name, t in times.items()}
    print(f"CycleGAN step, {args.size}x{args.size} RGB, width {args.width}, batch {args.batch}, threads "
          f"{args.threads or 'default'}: minigan {ms['minigan']:.1f} ms, PyTorch {ms['pytorch']:.1f} ms, "
          f"ratio {ms['minigan'] / ms['pytorch']:.2f}x")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(time_per_call, steps["minigan"], args.calls)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(14)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
