"""--spectral-norm wraps every weight layer of D on every architecture; --loss wasserstein warns when nothing
constrains D; 2-D runs with --pack 1 draw game.png."""
import json

import numpy as np
import pytest

from minigan import models
from minigan.cli import main
from minigan.layers import Conv2d, ConvTranspose2d, Dense, SpectralNorm

WEIGHT_LAYERS = (Dense, Conv2d, ConvTranspose2d)


@pytest.mark.parametrize("arch, shape", [("mlp2d", (2,)), ("mlp", (1, 8, 8)), ("dcgan", (1, 8, 8)),
                                         ("convd", (1, 8, 8))])
def test_every_weight_layer_of_d_and_none_of_g_is_wrapped(arch, shape):
    G, D = models.build(arch, shape, 8, 1, spectral_norm=True)
    wrapped = [m for m in D.modules() if isinstance(m, SpectralNorm)]
    bare = [m for m in D.modules() if isinstance(m, WEIGHT_LAYERS)]
    assert wrapped and len(wrapped) == len(bare)  # each weight layer sits inside exactly one wrapper
    assert not any(isinstance(m, SpectralNorm) for m in G.modules())
    for sn in wrapped:  # the wrapped layer's weights stay its trainable parameters
        assert sorted(name.rsplit(".", 1)[-1] for name, _, _ in sn.parameters()) in (["W"], ["W", "b"])


def test_a_spectral_norm_run_trains_resumes_and_samples(tmp_path):
    out = tmp_path / "sn"
    args = ["--dataset", "digits", "--width", "8", "--z-dim", "8", "--batch-size", "16", "--frames", "0",
            "--spectral-norm"]
    assert main(["train", *args, "--steps", "4", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["spectral_norm"] is True
    with np.load(out / "checkpoint.npz", allow_pickle=False) as f:
        assert any(k.startswith("D.") and k.endswith(".u") for k in f.files)
    assert main(["train", "--out", str(out), "--resume", "--steps", "6"]) == 0
    assert main(["train", "--out", str(out), "--resume", "--steps", "8", "--spectral-norm"]) == 0  # unchanged
    assert main(["sample", str(out), "-n", "3", "--out", str(tmp_path / "s.npy")]) == 0


def test_wasserstein_without_a_constraint_warns_once(tmp_path, capsys):
    ring = ["--dataset", "ring8", "--steps", "3", "--loss", "wasserstein"]
    assert main(["train", *ring, "--out", str(tmp_path / "a")]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "1-Lipschitz" in warnings[0] and "--spectral-norm" in warnings[0]
    assert main(["train", *ring, "--spectral-norm", "--out", str(tmp_path / "b")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_game_png_for_2d_runs_with_pack_1_only(tmp_path):
    assert main(["train", "--dataset", "ring8", "--pack", "1", "--steps", "5", "--out", str(tmp_path / "p1")]) == 0
    assert (tmp_path / "p1" / "game.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["train", "--dataset", "ring8", "--steps", "5", "--out", str(tmp_path / "p2")]) == 0  # pack 2
    assert not (tmp_path / "p2" / "game.png").exists()
