"""`minigan bench`: it runs, reports a positive time, and counts the iteration's GEMM FLOPs right; its
networks are the ones it names, and its PyTorch twins are minigan's networks layer for layer."""
import json

import numpy as np
import pytest

from minigan import backend, bench
from minigan.cli import build_parser, main
from minigan.models import build


def test_bench_mlp_json_and_flop_count(capsys):
    assert main(["bench", "--arch", "mlp", "--rounds", "1", "--backend", "numpy", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["arch"] == "mlp" and result["minigan_ms"] > 0
    n = 64  # 2 x multiply-adds of every Dense, per forward pass
    f_g = 2 * n * (100 * 256 + 256 * 512 + 512 * 1024 + 1024 * 784)
    f_d = 2 * n * (784 * 512 + 512 * 256 + 256 * 1)
    assert abs(result["gflop"] - (8 * f_d + 3 * f_g) / 1e9) < 1e-9
    assert 0 < result["fraction_of_gemm_rate"] and result["gemm_floor_ms"] > 0
    if "torch_ms" in result:
        assert abs(result["ratio"] - result["minigan_ms"] / result["torch_ms"]) < 1e-9


def test_bench_dcgan32_rgb_iteration_and_flop_count():
    """One timed iteration of batch 4 on 3x32x32; its FLOPs are the convolutions' multiply-adds x 2."""
    with backend.using("numpy"):
        result = bench.bench_arch("dcgan32", batch=4, threads=None, rounds=1, calls=1, warmup=0)
    assert result["arch"] == "dcgan32" and result["minigan_ms"] > 0
    n = 4  # per image: output elements x input channels x 16 (conv), input elements x output channels x 16 (convT)
    f_g = 2 * n * 16 * (100 * 256 + 256 * 4 * 4 * 128 + 128 * 8 * 8 * 64 + 64 * 16 * 16 * 3)
    f_d = 2 * n * 16 * (64 * 16 * 16 * 3 + 128 * 8 * 8 * 64 + 256 * 4 * 4 * 128 + 1 * 256)
    assert abs(result["gflop"] - (8 * f_d + 3 * f_g) / 1e9) < 1e-9
    if "torch_ms" in result:
        assert result["torch_ms"] > 0


def test_cli_bench_offers_every_benchmark_network_and_defaults_to_the_28x28_pair():
    parser = build_parser()
    for arch in bench.ARCHS:
        assert parser.parse_args(["bench", "--arch", arch]).arch == arch
    assert parser.parse_args(["bench"]).arch == "grey"
    assert main(["bench", "--arch", "dcgan128"]) == 2


@pytest.mark.parametrize("arch, shape, g_params, d_params", [
    ("dcgan32", (3, 32, 32), 1_068_928, 663_296),
    ("dcgan64", (3, 64, 64), 3_576_704, 2_765_568),   # PyTorch's DCGAN example's counts (nz 100, ngf = ndf = 64)
])
def test_rgb_benchmark_networks_are_pytorchs_dcgan(arch, shape, g_params, d_params):
    name, data_shape = bench.ARCHS[arch]
    assert data_shape == shape
    with backend.using("numpy"):
        G, D = build(name, data_shape, bench.Z_DIM)
        assert G.num_parameters() == g_params and D.num_parameters() == d_params
        assert not any(p.endswith(".b") for p, _, _ in G.parameters())  # no biases, as the example
        assert not any(p.endswith(".b") for p, _, _ in D.parameters())
        fake = G(backend.asarray(np.random.default_rng(0).normal(size=(2, bench.Z_DIM)), dtype="float32"))
        assert tuple(fake.shape) == (2,) + shape and tuple(D(fake).shape) == (2, 1)


def _copy_into(model, twin):
    """Copy minigan's parameters into the PyTorch twin, in order (Dense W is (in, out), Linear's (out, in))."""
    import torch

    ours = [backend.to_numpy(p) for _, p, _ in model.parameters()]
    theirs = list(twin.parameters())
    assert len(ours) == len(theirs)
    with torch.no_grad():
        for a, t in zip(ours, theirs):
            a = a.T if a.ndim == 2 else a
            assert a.shape == tuple(t.shape)
            t.copy_(torch.from_numpy(np.ascontiguousarray(a)))


@pytest.mark.parametrize("arch, shape, options", [
    ("mlp", (1, 28, 28), {}),
    ("dcgan28", (1, 28, 28), {}),
    ("dcgan32", (3, 32, 32), {}),
    ("dcgan64", (3, 64, 64), {"width": 8}),
    ("dcgan", (3, 32, 32), {"width": 8}),      # 3 stages, as benchmarks/pytorch_dcgan.py builds it
    ("dcgan", (1, 8, 8), {"width": 4}),        # 2 stages from 2x2
])
def test_torch_twins_compute_what_minigans_networks_compute(float64, arch, shape, options):
    torch = pytest.importorskip("torch")
    name = bench.ARCHS[arch][0] if arch in bench.ARCHS else arch
    with backend.using("numpy"):
        backend.seed(0)
        G, D = build(name, shape, bench.Z_DIM, **options)
        tG, tD = bench.torch_models(arch, shape, bench.Z_DIM, **options)
        tG, tD = tG.double(), tD.double()
        _copy_into(G, tG)
        _copy_into(D, tD)
        z = np.random.default_rng(1).normal(size=(4, bench.Z_DIM))
        fake = G(backend.asarray(z))        # training mode: BatchNorm on the batch's statistics
        t_fake = tG(torch.from_numpy(z))
        np.testing.assert_allclose(backend.to_numpy(fake), t_fake.detach().numpy(), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(backend.to_numpy(D(fake)), tD(t_fake).detach().numpy(), rtol=1e-9, atol=1e-9)
