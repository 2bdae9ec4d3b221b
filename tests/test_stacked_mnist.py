"""Stacked MNIST: samples of three independent digits as channels (1,000 modes), and the mode count
minigan evaluate reports for such a run (modes with a sample, KL of the mode histogram to uniform)."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from minigan import backend, data
from minigan.cli import main
from minigan.data import DataSet
from minigan.metrics import mode_figures, mode_ids
from minigan.datasource import data_source, real_images, split_holdout

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def test_mode_ids_read_the_digits_as_a_number():
    assert mode_ids(np.array([[1, 2, 3], [0, 0, 7], [9, 9, 9]]), 10).tolist() == [123, 7, 999]
    assert mode_ids(np.array([[1, 1]]), 3).tolist() == [4]


def test_mode_figures_count_modes_and_kl_to_uniform():
    assert mode_figures(np.zeros(50, dtype=int), 1000) == {"modes": 1, "kl_to_uniform": math.log(1000)}
    balanced = mode_figures(np.arange(1000).repeat(3), 1000)
    assert balanced["modes"] == 1000 and abs(balanced["kl_to_uniform"]) < 1e-12
    # q = (1/2, 1/4, 1/4, 0) over 4 modes: KL = 1/2 log 2 + 2 * 1/4 log 1
    small = mode_figures(np.array([0, 0, 1, 2]), 4)
    assert small["modes"] == 3 and abs(small["kl_to_uniform"] - 0.5 * math.log(2)) < 1e-12
    with pytest.raises(ValueError, match="mode ids"):
        mode_figures(np.array([0, 4]), 4)


@pytest.mark.skipif(not (SHARED / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason=f"the real MNIST test files are not in {SHARED} (see shared/data/README.md)")
def test_a_stacked_mnist_batch_is_three_training_digits():
    config = {"dataset": "stacked-mnist", "data_dir": str(SHARED), "holdout": 0.2, "batch_size": 64}
    (train, _), (held_out, _) = split_holdout(config, *real_images(config, log=lambda _: None))
    batch = backend.to_numpy(data_source(config, log=lambda _: None)(np.random.default_rng(0), 64))
    assert batch.shape == (64, 3, 28, 28)
    flat_train = {image.tobytes() for image in train.astype(batch.dtype)}
    channels = batch.reshape(64 * 3, 28, 28)
    assert all(c[None].tobytes() in flat_train for c in channels), "every channel is one training digit"
    assert len({c.tobytes() for c in channels}) > 150, "the channels are drawn independently"
    assert not any(c[None].tobytes() in {h.tobytes() for h in held_out[:500]} for c in channels[:30])


@pytest.fixture
def stacked_digits():
    """Stacked 8x8 digits (1,000 modes), registered for one test: its classifier trains in seconds."""
    data.register(DataSet("stacked-digits", "images", (3, 8, 8), stack_of="digits",
                          defaults=dict(arch="dcgan", width=8, z_dim=8, batch_size=16)))
    yield "stacked-digits"
    data.unregister("stacked-digits")


def test_evaluate_counts_the_modes_of_a_stacked_run(stacked_digits, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    assert main(["train", "--dataset", stacked_digits, "--steps", "3", "--frames", "0", "--holdout", "0.3",
                 "--out", str(out)]) == 0
    assert main(["evaluate", str(out), "-n", "3000"]) == 0
    figures = json.loads((out / "metrics.json").read_text())["modes"]
    assert figures["num_modes"] == 1000 and figures["num_samples"] == 3000 and figures["holdout"] == 0.3
    # 3,000 real stacked samples over 1,000 nearly balanced modes cover about 1000 (1 - e^-3) = 950
    assert figures["real"]["modes"] > 850 and figures["real"]["kl_to_uniform"] < 0.3, figures
    # a G trained for 3 steps draws blobs the classifier sends to a few digits
    assert figures["generated"]["modes"] < figures["real"]["modes"] / 2, figures
    assert figures["generated"]["kl_to_uniform"] > figures["real"]["kl_to_uniform"] + 1, figures
    assert figures["classifier_accuracy"] > 0.9


def test_a_stacked_set_must_stack_single_channel_images(stacked_digits):
    data.register(DataSet("stacked-stacked", "images", (3, 8, 8), stack_of="stacked-digits",
                          defaults=dict(arch="dcgan")))
    try:
        with pytest.raises(ValueError, match="expected single-channel images"):
            data.get("stacked-stacked").load_images()
    finally:
        data.unregister("stacked-stacked")
    with pytest.raises(ValueError, match="one of the two"):
        DataSet("neither", "images", (3, 8, 8), defaults=dict(arch="dcgan"))
