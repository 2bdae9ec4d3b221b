"""The command line and run folders, on real files: train, sample, resume, bad checkpoints."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from minigan.cli import main

RUN_FILES = {"config.json", "checkpoint.npz", "history.csv", "samples.png", "losses.png", "metrics.json"}
SMALL_DIGITS = ["--dataset", "digits", "--width", "8", "--z-dim", "8", "--batch-size", "16"]


def train(tmp_path, name, *args):
    out = tmp_path / name
    assert main(["train", "--out", str(out), *args]) == 0
    return out


def test_train_ring8_writes_every_file_of_the_run_folder(tmp_path):
    out = train(tmp_path, "ring", "--dataset", "ring8", "--steps", "200", "--log-every", "10", "--checkpoint-every", "100")
    assert RUN_FILES <= {p.name for p in out.iterdir()}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["step"] == 200 and 0 <= metrics["modes"] <= 8 and metrics["num_samples"] == 2500
    history = (out / "history.csv").read_text().splitlines()
    assert history[0].startswith("step,loss_d,loss_g,d_real") and len(history) == 1 + 20
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"] == "ring8" and config["steps"] == 200
    assert (out / "samples.png").read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # atomic writes left nothing behind
    umask = os.umask(0)
    os.umask(umask)
    for name in RUN_FILES:  # as open() would create them, not private like the temporary file
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_sample_writes_float32_arrays(tmp_path):
    ring = train(tmp_path, "ring", "--dataset", "ring8", "--steps", "5")
    assert main(["sample", str(ring), "-n", "100", "--out", str(tmp_path / "pts.npy")]) == 0
    pts = np.load(tmp_path / "pts.npy", allow_pickle=False)
    assert pts.shape == (100, 2) and pts.dtype == np.float32
    digits = train(tmp_path, "digits", *SMALL_DIGITS, "--steps", "5")
    assert main(["sample", str(digits), "-n", "7", "--seed", "3", "--out", str(tmp_path / "img.npy")]) == 0
    img = np.load(tmp_path / "img.npy", allow_pickle=False)
    assert img.shape == (7, 1, 8, 8) and img.dtype == np.float32 and -1 <= img.min() <= img.max() <= 1
    assert main(["sample", str(digits), "-n", "16", "--out", str(tmp_path / "grid.png")]) == 0
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"


def checkpoint_arrays(run):
    with np.load(run / "checkpoint.npz", allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("args", [["--dataset", "ring8", "--pack", "2", "--d-steps", "2"],
                                  ["--dataset", "grid25", "--output-scale", "3", "--r1", "0.5", "--z-categories", "10",
                                   "--z-noise-scale", "0.2"], SMALL_DIGITS],
                         ids=["ring8", "grid25-output-scale-r1-code", "digits-dcgan"])
def test_resume_is_exact(tmp_path, args):
    """A run split in two halves ends with bitwise the parameters, optimiser states and RNG of an unbroken run.

    (A linear schedule spreads its decay over --steps, so raising --steps on resume changes the schedule;
    test_train.py checks that a linear-schedule run resumed to the same total is exact.)"""
    args = [*args, "--lr-schedule", "constant"]
    whole = train(tmp_path, "whole", *args, "--steps", "30", "--log-every", "5")
    half = train(tmp_path, "half", *args, "--steps", "15", "--log-every", "5")
    assert main(["train", "--out", str(half), "--resume", "--steps", "30"]) == 0
    a, b = checkpoint_arrays(whole), checkpoint_arrays(half)
    assert set(a) == set(b)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert int(b["step"]) == 30
    if "--output-scale" in args:  # the options reach config.json and so survive the resume
        config = json.loads((half / "config.json").read_text())
        assert config["output_scale"] == 3.0 and config["r1"] == 0.5
        assert config["z_categories"] == 10 and config["z_noise_scale"] == 0.2
    assert (whole / "history.csv").read_text().splitlines()[1:] != []
    steps = [line.split(",")[0] for line in (half / "history.csv").read_text().splitlines()[1:]]
    assert steps == [str(s) for s in range(5, 31, 5)]
    if "digits" in args:  # image runs also animate the fixed-noise grid, across the resume
        assert (half / "progress.gif").read_bytes()[:6] == b"GIF89a"
        with np.load(half / "frames.npz", allow_pickle=False) as f:
            assert len(f.files) == 30  # 30 steps // 40 frames: a frame every step, 1..30


def test_corrupt_and_pickled_checkpoints_are_refused(tmp_path, capsys):
    run = train(tmp_path, "ring", "--dataset", "ring8", "--steps", "5")
    ckpt = run / "checkpoint.npz"
    good = ckpt.read_bytes()

    ckpt.write_bytes(good[: len(good) // 2])  # truncated
    assert main(["sample", str(run), "--out", str(tmp_path / "x.npy")]) == 2
    assert "not a valid .npz" in capsys.readouterr().err

    arrays = checkpoint_arrays_from_bytes(good, tmp_path)
    arrays["G.0.W"] = np.array([{"evil": 1}], dtype=object)
    np.savez(ckpt, **arrays)  # a pickled object inside an otherwise fine archive
    assert main(["train", "--out", str(run), "--resume", "--steps", "10"]) == 2
    err = capsys.readouterr().err
    assert "pickled Python object" in err and "refusing" in err
    assert not (tmp_path / "x.npy").exists()

    arrays = checkpoint_arrays_from_bytes(good, tmp_path)
    arrays["D.0.W"] = arrays["D.0.W"][:1]
    np.savez(ckpt, **arrays)  # wrong shape
    assert main(["sample", str(run), "--out", str(tmp_path / "x.npy")]) == 2
    assert "does not fit config.json" in capsys.readouterr().err


def checkpoint_arrays_from_bytes(data, tmp_path):
    path = tmp_path / "copy.npz"
    path.write_bytes(data)
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def test_diverging_run_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    """An absurd learning rate blows the weights up to ~1e30: the loss turns NaN, training stops with a
    clear message and the checkpoint on disk stays the last good one."""
    run = train(tmp_path, "boom", "--dataset", "ring8", "--steps", "10", "--checkpoint-every", "5")
    code = main(["train", "--out", str(run), "--resume", "--steps", "40", "--lr-d", "1e30"])
    assert code == 1
    err = capsys.readouterr().err
    assert "loss is nan" in err and "last good checkpoint" in err
    state = checkpoint_arrays(run)
    assert int(state["step"]) == 10
    assert all(np.isfinite(v).all() for v in state.values() if v.dtype.kind == "f")


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "minigan", "--help"], capture_output=True, text=True, check=True)
    assert "train" in out.stdout and "sample" in out.stdout


def test_convd_architecture_trains(tmp_path):
    out = train(tmp_path, "convd", "--dataset", "digits", "--arch", "convd", "--steps", "3", "--z-dim", "8",
                "--frames", "0")
    assert json.loads((out / "config.json").read_text())["arch"] == "convd"
    assert not (out / "progress.gif").exists()


def test_evaluate_image_run_writes_both_columns(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    run = train(tmp_path, "digits", *SMALL_DIGITS, "--steps", "20", "--frames", "0")
    assert main(["evaluate", str(run), "-n", "200"]) == 0
    out = capsys.readouterr().out
    assert "generated" in out and "real (held-out)" in out
    metrics = json.loads((run / "metrics.json").read_text())
    images = metrics["images"]
    assert images["num_samples"] == 200 and metrics["evaluated_step"] == 20
    for column in ("generated", "real"):
        assert set(images[column]) >= {"classes_covered", "frechet_distance", "precision", "recall"}
    # 20 steps of a tiny GAN are far from real digits: the real column must say so
    assert images["real"]["frechet_distance"] < images["generated"]["frechet_distance"]
    assert any((tmp_path / "cache" / "classifiers").iterdir())  # the classifier was cached
    # another classifier seed is another (cached) yardstick: the same samples score a little differently
    assert main(["evaluate", str(run), "-n", "200", "--classifier-seed", "1"]) == 0
    other = json.loads((run / "metrics.json").read_text())["images"]
    assert len(list((tmp_path / "cache" / "classifiers").glob("*.npz"))) == 2
    assert other["generated"]["frechet_distance"] != images["generated"]["frechet_distance"]
    assert other["generated"]["classes_covered"] <= 10


def test_evaluate_toy_run(tmp_path):
    run = train(tmp_path, "ring", "--dataset", "ring8", "--steps", "5")
    assert main(["evaluate", str(run)]) == 0
    assert json.loads((run / "metrics.json").read_text())["mixture"]["num_samples"] == 2500


def test_threads_option_restarts_with_blas_variables_set(tmp_path):
    out = tmp_path / "t"
    result = subprocess.run([sys.executable, "-m", "minigan", "train", "--dataset", "ring8", "--steps", "3",
                             "--threads", "1", "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("run folder:") == 1  # printed once: by the restarted process only
    assert json.loads((out / "metrics.json").read_text())["step"] == 3
