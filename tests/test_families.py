"""Every model family through the one loop: `minigan train --model gan|pix2pix|vae|cyclegan` in real subprocesses,
stopped by SIGTERM and resumed, equal to an unbroken run; the run folder's refusals (a run there already,
another training holding it); the commands on each family's run (sample, evaluate, inpaint, translate)."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from minigan.cli import main, threads_per_rank
from minigan.runfolder import RunLock

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TIMEOUT = 180
# (a constant learning rate: a decay over the run's last steps depends on --steps, which these tests raise)
SMALL = {"gan": ["--width", "4", "--z-dim", "8", "--lr-schedule", "constant"], "pix2pix": ["--width", "4"],
         "vae": ["--hidden", "16"],
         "cyclegan": ["--to", "digits", "--width", "4", "--blocks", "1", "--pool", "5", "--decay-steps", "0"]}


def train_args(model, *more):
    return ["train", "--model", model, "--dataset", "digits", "--batch-size", "16", "--log-every", "3",
            "--frames", "4", *SMALL[model], *more]


def minigan(*args):
    return subprocess.run([sys.executable, "-m", "minigan", *args], env=ENV, capture_output=True, text=True,
                          timeout=TIMEOUT)


def same_checkpoints(a_dir, b_dir) -> bool:
    with np.load(a_dir / "checkpoint.npz") as a, np.load(b_dir / "checkpoint.npz") as b:
        return sorted(a.files) == sorted(b.files) and all(np.array_equal(a[k], b[k]) for k in a.files)


@pytest.mark.parametrize("model", ["gan", "pix2pix", "vae", "cyclegan"])
def test_a_run_stopped_by_sigterm_resumes_to_the_unbroken_run(tmp_path, model):
    stopped, unbroken = tmp_path / "stopped", tmp_path / "unbroken"
    proc = subprocess.Popen([sys.executable, "-m", "minigan", *train_args(model, "--steps", "1000000",
                                                                          "--checkpoint-every", "1000000"),
                             "--out", str(stopped)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + TIMEOUT
    while not (stopped / "config.json").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "training did not start in time"
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 143, stderr
    assert f"minigan train --out {stopped} --resume" in stderr and "Traceback" not in stderr
    with np.load(stopped / "checkpoint.npz", allow_pickle=False) as f:
        step = int(f["step"])
    assert 0 < step < 1_000_000

    total = str(step + 7)
    resumed = minigan("train", "--out", str(stopped), "--resume", "--steps", total)
    assert resumed.returncode == 0, resumed.stderr
    straight = minigan(*train_args(model, "--steps", total, "--checkpoint-every", "1000000"), "--out", str(unbroken))
    assert straight.returncode == 0, straight.stderr
    assert same_checkpoints(stopped, unbroken)
    header = (stopped / "history.csv").read_text().splitlines()[0]
    assert header == (unbroken / "history.csv").read_text().splitlines()[0]
    assert json.loads((stopped / "config.json").read_text())["model"] == model
    for name in ("samples.png", "losses.png", "progress.gif", "metrics.json"):
        assert (stopped / name).is_file(), name


def test_a_folder_holding_a_run_is_refused_without_resume_and_nothing_changes(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_args("vae", "--steps", "3", "--out", str(out))) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    capsys.readouterr()
    assert main(train_args("vae", "--steps", "6", "--out", str(out))) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds a run already" in err[0] and "--resume" in err[0]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_a_second_training_of_a_held_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    with RunLock(out):  # as a first training holds it
        assert main(train_args("vae", "--steps", "3", "--out", str(out))) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another minigan train is writing this run folder" in err[0]
    assert not (out / "config.json").exists()
    assert main(train_args("vae", "--steps", "3", "--out", str(out))) == 0  # released: now it trains


def test_a_lock_is_released_when_its_holder_dies(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    code = f"from minigan.runfolder import RunLock; import os; RunLock({str(out)!r}).__enter__(); os._exit(3)"
    assert subprocess.run([sys.executable, "-c", code], timeout=TIMEOUT).returncode == 3
    with RunLock(out):  # not refused: the dead holder's lock went with its process
        pass


@pytest.mark.parametrize("given, expected", [(["--model", "vae", "--pack", "2"], "--model vae does not take --pack"),
                                             (["--model", "pix2pix", "--dataset", "ring8"], "takes images"),
                                             (["--model", "pix2pix", "--task", "colour"], "invalid choice"),
                                             (["--model", "vae", "--lr-g", "0.1"], "does not take --lr-g")])
def test_a_family_refuses_what_it_does_not_take_before_writing(tmp_path, capsys, given, expected):
    assert main(["train", *given, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (tmp_path / "r").exists()


def test_clip_and_data_dir_can_be_cleared_on_resume(tmp_path):
    out = tmp_path / "run"
    assert main(train_args("gan", "--steps", "3", "--clip", "1.5", "--data-dir", str(tmp_path), "--out",
                           str(out))) == 0
    assert json.loads((out / "config.json").read_text())["clip"] == 1.5
    assert main(["train", "--out", str(out), "--resume", "--steps", "6", "--clip", "none", "--data-dir",
                 "none"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["clip"] is None and config["data_dir"] is None


def test_a_distributed_rank_gets_the_cores_divided_by_the_ranks_on_its_machine(monkeypatch):
    class Args:
        distributed, resume, out = "mpi", False, None

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setenv("PMI_SIZE", "4")  # as mpiexec -n 4 sets it, two of them on this machine
    monkeypatch.setenv("MPI_LOCALNRANKS", "2")
    assert threads_per_rank(Args) == 4
    monkeypatch.setenv("MPI_LOCALNRANKS", "16")
    assert threads_per_rank(Args) == 1
    monkeypatch.delenv("MPI_LOCALNRANKS")
    assert threads_per_rank(Args) == 2  # (no count of this machine's processes: all 4 taken as local)
    Args.distributed = "none"
    assert threads_per_rank(Args) is None
    Args.distributed = "mpi"
    monkeypatch.delenv("PMI_SIZE")
    assert threads_per_rank(Args) is None  # not started by mpiexec


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("p2p") / "run"
    assert main(train_args("pix2pix", "--steps", "40", "--holdout", "0.3", "--out", str(out))) == 0
    return out


def test_pix2pix_evaluates_beside_the_baselines(pix2pix_run):
    assert main(["evaluate", str(pix2pix_run), "--backend", "numpy"]) == 0
    figures = json.loads((pix2pix_run / "metrics.json").read_text())["restoration"]
    assert figures["task"] == "inpaint" and figures["num_images"] == round(0.3 * 1797)
    for name in ("pix2pix", "nearest training image", "background fill", "clean"):
        assert 0 <= figures[name]["accuracy"] <= 1 and figures[name]["masked_mse"] >= 0
    assert figures["clean"]["masked_mse"] == 0
    assert figures["background fill"]["masked_mse"] > 0


def test_inpaint_and_translate_with_a_pix2pix_run_keep_the_visible_pixels(pix2pix_run, tmp_path):
    from minigan.data import load_digits
    from minigan.inpaint import named_mask

    images = load_digits()[0][:5]
    np.save(tmp_path / "in.npy", images)
    assert main(["inpaint", str(pix2pix_run), "--images", str(tmp_path / "in.npy"), "--mask", "bottom", "--out",
                 str(tmp_path / "out.npy")]) == 0
    assert main(["translate", str(pix2pix_run), "--images", str(tmp_path / "in.npy"), "--out",
                 str(tmp_path / "tr.npy")]) == 0
    restored, translated = np.load(tmp_path / "out.npy"), np.load(tmp_path / "tr.npy")
    visible = np.broadcast_to(named_mask("bottom", images.shape[1:]), images.shape) > 0
    assert restored.shape == images.shape and restored.dtype == np.float32
    np.testing.assert_array_equal(restored[visible], images[visible])
    np.testing.assert_array_equal(restored, translated)  # the run's own mask is "bottom"
    assert not np.array_equal(restored[~visible], images[~visible])


def test_sample_refuses_a_pix2pix_run_with_one_line(pix2pix_run, tmp_path, capsys):
    assert main(["sample", str(pix2pix_run), "-n", "4", "--out", str(tmp_path / "s.npy")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "minigan translate" in err[0]
    assert not (tmp_path / "s.npy").exists()


def test_a_vae_run_samples_and_evaluates_like_a_gan(tmp_path):
    out = tmp_path / "run"
    assert main(train_args("vae", "--steps", "20", "--holdout", "0.2", "--out", str(out))) == 0
    assert main(["sample", str(out), "-n", "9", "--backend", "numpy", "--out", str(tmp_path / "s.npy")]) == 0
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (9, 1, 8, 8) and samples.dtype == np.float32 and np.abs(samples).max() <= 1
    assert main(["evaluate", str(out), "-n", "100"]) == 0
    figures = json.loads((out / "metrics.json").read_text())["images"]
    assert "generated" in figures and "real" in figures and "nearest_train_distance" in figures["generated"]


@pytest.mark.parametrize("given", [
    {"model": "gan", "width": 4}, {"model": "gan", "width": 4, "g_noise": "fresh"},
    {"model": "gan", "width": 4, "d_steps": 3},
    {"model": "gan", "width": 4, "d_steps": 2, "g_noise": "fresh", "augment": "translation,cutout", "ema": 0.9},
    {"model": "gan", "arch": "convd", "r1": 1.0, "pack": 2}, {"model": "gan", "width": 4, "spectral_norm": True},
    {"model": "pix2pix", "width": 4}, {"model": "pix2pix", "width": 4, "task": "superres"},
    {"model": "vae", "hidden": 16}, {"model": "cyclegan", "to": "digits", "width": 4, "blocks": 1}],
    ids=lambda g: ",".join(f"{k}={v}" for k, v in g.items()))
def test_a_training_step_leaves_no_forward_waiting_for_its_backward(given):
    # Every forward a step makes is back-propagated or made under no_grad: nothing piles up in the layers.
    from minigan import families, options
    from minigan.run import build_trainer

    config = options.validate(options.make_config({"dataset": "digits", "batch_size": 8, **given}))
    family = families.get(config["model"])
    trainer = build_trainer(config)
    sample_real = family.batches(config)
    for _ in range(2):
        trainer.train_step(*trainer.draw_batch(sample_real, 8))
    assert {name: model.pending() for name, model in trainer.models.items()} == dict.fromkeys(trainer.models, 0)
    assert family.frame(trainer, config) is not None
    assert all(model.pending() == 0 for model in trainer.models.values())


def test_a_superres_run_evaluates_beside_nearest_and_bilinear_enlarging(tmp_path):
    out = tmp_path / "run"
    assert main(train_args("pix2pix", "--task", "superres", "--steps", "10", "--holdout", "0.3", "--out",
                           str(out))) == 0
    assert main(["evaluate", str(out)]) == 0
    figures = json.loads((out / "metrics.json").read_text())["restoration"]
    assert figures["task"] == "superres"
    assert figures["clean"]["masked_mse"] == 0
    assert figures["bilinear enlarging"]["masked_mse"] > 0 and figures["nearest enlarging"]["masked_mse"] > 0
    assert figures["pix2pix"]["masked_mse"] > 0
