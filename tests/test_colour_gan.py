"""DCGAN depth from the image side, the conditional GAN (LabelPlanes, --conditional, sample --label), and the
options of the colour data sets, refused before anything is written."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from minigan import backend
from minigan.gradcheck import check_layer
from minigan.layers import Concat, ConvTranspose2d, Dense, Flatten, LabelPlanes, Reshape, Sequential, Tanh
from minigan.models import build
from minigan.train import GAN

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def minigan(*args):
    return subprocess.run([sys.executable, "-m", "minigan", *args], env=ENV, capture_output=True, text=True,
                          timeout=180)


@pytest.mark.parametrize("shape, stages, start", [((1, 8, 8), 2, 2), ((1, 28, 28), 2, 7), ((3, 16, 16), 2, 4),
                                                  ((3, 32, 32), 3, 4), ((3, 64, 64), 4, 4)])
def test_dcgan_takes_its_number_of_stages_from_the_image_side(shape, stages, start):
    G, D = build("dcgan", shape, 16, width=8)
    convt = [m for m in G.layers if isinstance(m, ConvTranspose2d)]
    assert len(convt) == stages
    assert [m.out_ch for m in convt[:-1]] == [8 << i for i in reversed(range(stages - 1))]  # widths halving
    assert G.layers[3].shape == (8 << (stages - 1), start, start)
    x = G(backend.asarray(np.zeros((2, 16)), dtype="float32"))
    assert x.shape == (2,) + shape and D(x).shape == (2, 1)


@pytest.mark.parametrize("arch", ["dcgan32", "dcgan64"])
def test_the_benchmark_networks_refuse_another_size(arch):
    with pytest.raises(ValueError, match="use --arch dcgan"):
        build(arch, (3, 48, 48), 100)


def test_label_planes_backward_matches_central_differences():
    with backend.using_dtype("float64"):
        errors = check_layer(LabelPlanes(3, 2, 5), np.random.default_rng(0).standard_normal((4, 7)))
    assert max(errors.values()) < 1e-7


def tiny_conditional_gan(k=3):
    """G: [z, one-hot] (N, 4 + k) -> image (N, 1, 2, 2) beside its k label planes; D judges (N, 1 + k, 2, 2)."""
    with backend.seeded(0):
        G = Concat(Sequential(Dense(4 + k, 4), Tanh(), Reshape(1, 2, 2)),
                   LabelPlanes(k, 2, 2))
        D = Sequential(Flatten(), Dense((1 + k) * 4, 1))
    return GAN(G, D, 4, num_classes=k)


def test_a_conditional_gan_draws_the_labels_it_is_asked_for_whatever_the_batch():
    gan = tiny_conditional_gan()
    same = gan.sample(10, seed=3, batch_size=3), gan.sample(10, seed=3)
    assert np.array_equal(*same) and same[0].shape == (10, 1, 2, 2)          # label planes dropped
    by_label = [gan.sample(4, seed=1, labels=k) for k in range(3)]
    assert not np.allclose(by_label[0], by_label[1]) and not np.allclose(by_label[1], by_label[2])
    with pytest.raises(ValueError, match="0..2"):
        gan.sample(2, labels=3)


def test_a_conditional_gans_fakes_take_the_real_batchs_labels():
    gan = tiny_conditional_gan()
    labels = np.array([2, 0, 2, 2, 1])
    planes = np.eye(3)[labels][:, :, None, None] * np.ones((1, 1, 2, 2))
    real = backend.asarray(np.concatenate([np.zeros((5, 1, 2, 2)), planes], axis=1), dtype="float32")
    assert backend.to_numpy(gan._labels_of(real)).tolist() == labels.tolist()
    codes = backend.to_numpy(gan.noise(5, labels=gan._labels_of(real)))[:, 4:]
    assert np.array_equal(codes.argmax(axis=1), labels) and np.array_equal(codes.sum(axis=1), np.ones(5))


def test_a_conditional_step_trains_d_on_images_with_their_labels():
    gan = tiny_conditional_gan()
    planes = np.eye(3)[np.arange(6) % 3][:, :, None, None] * np.ones((1, 1, 2, 2))
    real = np.concatenate([np.ones((6, 1, 2, 2)), planes], axis=1).astype("float32")
    figures = gan.train_step(real)
    assert np.isfinite(figures["loss_d"]) and gan.G.pending() == 0 and gan.D.pending() == 0


def test_conditional_digits_train_resume_and_sample_a_label(tmp_path):
    args = ["--dataset", "digits", "--conditional", "--width", "4", "--z-dim", "8", "--batch-size", "16",
            "--lr-schedule", "constant", "--frames", "2", "--log-every", "2"]
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert minigan("train", *args, "--steps", "6", "--out", str(whole)).returncode == 0
    assert minigan("train", *args, "--steps", "3", "--out", str(split)).returncode == 0
    assert minigan("train", "--steps", "6", "--resume", "--out", str(split)).returncode == 0
    with np.load(whole / "checkpoint.npz") as a, np.load(split / "checkpoint.npz") as b:
        assert sorted(a.files) == sorted(b.files) and all(np.array_equal(a[k], b[k]) for k in a.files)
    out = tmp_path / "sevens.npy"
    done = minigan("sample", str(whole), "-n", "5", "--label", "7", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert np.load(out).shape == (5, 1, 8, 8)
    refused = minigan("sample", str(whole), "-n", "5", "--label", "10", "--out", str(tmp_path / "x.npy"))
    assert refused.returncode == 2 and "0..9" in refused.stderr and not (tmp_path / "x.npy").exists()
    evaluated = minigan("evaluate", str(whole), "-n", "200")
    assert evaluated.returncode == 0 and "label accuracy" in evaluated.stdout, evaluated.stderr
    accuracy = json.loads((whole / "metrics.json").read_text())["images"]["generated"]["label_accuracy"]
    assert 0 <= accuracy <= 1


def test_label_on_an_unconditional_run_is_refused(tmp_path):
    run = tmp_path / "run"
    assert minigan("train", "--width", "4", "--z-dim", "8", "--steps", "2", "--frames", "0",
                   "--out", str(run)).returncode == 0
    done = minigan("sample", str(run), "--label", "1", "--out", str(tmp_path / "x.npy"))
    assert done.returncode == 2 and "--conditional" in done.stderr and len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("args, words", [
    (["--dataset", "digits", "--image-size", "16"], "--image-size 16: expected no value"),
    (["--dataset", "emoji-google", "--image-size", "48"], "one of 16, 32, 64"),
    (["--dataset", "folder", "--channels", "2"], "one of 1, 3"),
    (["--dataset", "folder", "--conditional"], "not a set of labelled images"),
    (["--dataset", "ring8", "--conditional"], "not a set of labelled images"),
    (["--dataset", "digits", "--conditional", "--augment", "translation"], "label channels"),
    (["--dataset", "emoji-google", "--image-size", "16", "--arch", "dcgan32"], "use --arch dcgan"),
])
def test_colour_options_are_refused_before_anything_is_written(tmp_path, args, words):
    done = minigan("train", *args, "--out", str(tmp_path / "run"))
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "run").exists()
