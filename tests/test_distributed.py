"""Data-parallel training (minigan.distributed): the same numbers on P processes as on one.

The MPI tests start ``mpiexec -n 2`` themselves, each with a timeout (a hang fails instead of
blocking the suite), and are skipped with a reason where mpi4py or mpiexec is missing
(``pip install -e ".[mpi]"``). Their ranks run this very file: ``python tests/test_distributed.py
CASE OUT_DIR`` (the ``__main__`` block at the end), and each rank writes what it computed to
OUT_DIR/rank<r>.npz. The same cases also run as two simulated ranks (threads, no MPI needed).
"""
import copy
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minigan
from minigan import backend, data
from minigan.cli import main
from minigan.distributed import Communicator, DataParallel, GradientAverager, run_ranks, synchronise_batchnorm
from minigan.gradcheck import check_layer
from minigan.layers import (BatchNorm1d, BatchNorm2d, Conv2d, Dense, Flatten, LeakyReLU, ReLU, Sequential)
from minigan.train import GAN

HERE = Path(__file__).resolve()
MPIEXEC = shutil.which("mpiexec", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                        os.environ.get("PATH", "")]))
HAVE_MPI4PY = importlib.util.find_spec("mpi4py") is not None
needs_mpi = pytest.mark.skipif(
    not (HAVE_MPI4PY and MPIEXEC),
    reason="mpi4py or mpiexec is missing: pip install -e \".[mpi]\" (mpi4py and MPICH from the package index)")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TIMEOUT = 120  # seconds for one mpiexec run on a loaded 2-core machine; a hang fails here
BATCH = 8      # the global batch of the gradient cases: 4 per rank on 2 ranks


# -- what one rank computes (shared by the simulated and the MPI runs) -----------------------------------
def models():
    """The models of the gradient cases, float64, built from seed 0 (so the same on every rank)."""
    minigan.set_default_dtype("float64")
    backend.seed(0)
    return {
        "dense": Sequential(Dense(3, 5), LeakyReLU(0.2), Dense(5, 4)),
        "dense_bn": Sequential(Dense(3, 5), BatchNorm1d(5), LeakyReLU(0.2), Dense(5, 4)),
        "conv_bn": Sequential(Conv2d(1, 2, 3, padding=1), BatchNorm2d(2), LeakyReLU(0.2), Flatten(),
                              Dense(2 * 4 * 4, 4)),
    }


def inputs(name):
    """The global batch (x, dL/dy of a summed loss) of model ``name``: (BATCH, ...) float64."""
    shape = (BATCH, 1, 4, 4) if name.startswith("conv") else (BATCH, 3)
    return np.random.default_rng(1).normal(2.0, 1.5, shape), np.random.default_rng(2).normal(size=(BATCH, 4))


def gradient_part(comm, name, model, sync):
    """This rank's outputs y, input gradients and averaged parameter gradients for its slice of the
    global batch. The loss is L = mean over the batch of <y_i, g_i>: each rank's own mean over its
    slice, so dL_r/dy = g / (its batch size)."""
    if sync:
        synchronise_batchnorm(model, comm)
    x, g = inputs(name)
    part = slice(comm.rank * BATCH // comm.size, (comm.rank + 1) * BATCH // comm.size)
    y = model(backend.asarray(x[part]))
    model.zero_grad()
    # the rank's dL_r/dx is P times its rows of the global dL/dx (L is the mean of the P losses L_r)
    dx = model.backward(backend.asarray(g[part] / (BATCH // comm.size))) / comm.size
    GradientAverager(comm)(model)
    return {"y": backend.to_numpy(y), "dx": backend.to_numpy(dx),
            **{f"grad.{n}": backend.to_numpy(gr).copy() for n, _, gr in model.parameters()}}


def gradient_cases(comm, built):
    """Every gradient case on this rank, on its copies of the models ``built``:
    {"<model>/<plain|sync>/<array>": array}."""
    out = {}
    for name, model in built.items():
        for sync in (False, True) if name.endswith("bn") else (False,):
            part = gradient_part(comm, name, copy.deepcopy(model), sync)
            out.update({f"{name}/{'sync' if sync else 'plain'}/{k}": v for k, v in part.items()})
    return out


def make_gan():
    """A small GAN with BatchNorm in G, float32, from seed 0."""
    minigan.set_default_dtype("float32")
    backend.seed(0)
    G = Sequential(Dense(4, 16), BatchNorm1d(16), ReLU(), Dense(16, 2))
    D = Sequential(Dense(2, 16), LeakyReLU(0.2), Dense(16, 1))
    return GAN(G, D, z_dim=4, lr_g=1e-3, lr_d=1e-3)


TRAIN_STEPS = 5


def training_part(comm, gan):
    """TRAIN_STEPS data-parallel steps with synchronised BatchNorm; this rank's parameters and figures."""
    parallel = DataParallel(gan, comm, seed=0, sync_bn=True)
    parallel.start()
    first = {k: backend.to_numpy(v).copy() for k, v in gan.state_dict().items() if k.startswith(("G.", "D."))}
    figures = []
    gan.fit(lambda rng, n: backend.asarray(data.sample_toy("ring8", n, rng), dtype="float32"), TRAIN_STEPS, 16,
            on_step=lambda f: figures.append(f["loss_d"]))
    last = {k: backend.to_numpy(v).copy() for k, v in gan.state_dict().items() if k.startswith(("G.", "D."))}
    return {**{f"first/{k}": v for k, v in first.items()}, **{f"last/{k}": v for k, v in last.items()},
            "loss_d": np.array(figures)}


def failing_part(comm, _):
    """Rank 1 fails at its third exchange while rank 0 goes on exchanging (it would wait for ever),
    handled as ``minigan train`` handles an error on a rank."""
    from minigan.cli import report_error
    from minigan.distributed import stop_every_rank

    buf = np.ones(4)
    for i in range(1000):
        try:
            if comm.rank == 1 and i == 3:
                raise ValueError("rank 1 could not read its batch")
            comm.allreduce_mean(buf)
        except BaseException as exc:  # noqa: BLE001
            stop_every_rank(comm, lambda command: report_error(command, exc))
        time.sleep(0.01)
    return {}


# case -> (what is built first, from seed 0: the same on every rank; what each rank does with its copy)
CASES = {"gradients": (models, gradient_cases), "training": (make_gan, training_part),
         "failing": (lambda: None, failing_part)}


def mpi_run(case, out, n=2):
    """Run CASE on ``n`` MPI processes; the ranks' results as a list of dicts."""
    proc = subprocess.run([MPIEXEC, "-n", str(n), sys.executable, str(HERE), case, str(out)], env=ENV,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    results = []
    for r in range(n):
        with np.load(out / f"rank{r}.npz", allow_pickle=False) as f:
            results.append({k: f[k] for k in f.files})
    return results


def simulated_run(case, n=2):
    """Run CASE on ``n`` threads; the ranks' results. What they start from is built once, here (the
    global generator that initialises parameters must not be drawn from by two threads at once)."""
    build, part = CASES[case]
    built = build()
    return run_ranks(lambda comm: part(comm, copy.deepcopy(built)), n)


# -- the full batch in one process, and the checks ------------------------------------------------------
@pytest.fixture
def one_process():
    """The gradient cases on one process with the whole batch (plain BatchNorm, and synchronised over a
    group of one)."""
    previous = backend.default_dtype()
    yield gradient_cases(Communicator(), models())
    minigan.set_default_dtype(previous)


def rel(a, b):
    return float(np.abs(a - b).max() / (np.abs(a).max() + np.abs(b).max()))


def check_gradient_cases(full, ranks):
    """Two ranks with half the batch each against one process with all of it."""
    def joined(key):  # per-sample arrays: the ranks' rows, in rank order
        return np.concatenate([r[key] for r in ranks])

    for key in full:
        model, bn, what = key.split("/")
        got = joined(key) if what in ("y", "dx") else ranks[0][key]
        if what.startswith("grad."):  # averaged: the same on every rank, to the last bit
            assert all(np.array_equal(r[key], ranks[0][key]) for r in ranks), key
        if model == "dense" or bn == "sync":  # the whole batch's numbers (atol: a bias before BatchNorm
            np.testing.assert_allclose(got, full[key], rtol=1e-10, atol=1e-12, err_msg=key)  # gets 0 +- 1e-17)
    for model in ("dense_bn", "conv_bn"):  # plain BatchNorm normalises each half on its own: not the same
        assert rel(joined(f"{model}/plain/y"), full[f"{model}/plain/y"]) > 1e-3
        assert rel(ranks[0][f"{model}/plain/grad.0.W"], full[f"{model}/plain/grad.0.W"]) > 1e-3


def check_training(ranks):
    for key in ranks[0]:
        if key.startswith("last/"):  # trained (every parameter and statistic moved), and alike everywhere
            assert not np.array_equal(ranks[0][key], ranks[0]["first/" + key[5:]]), key
            assert all(np.array_equal(r[key], ranks[0][key]) for r in ranks), f"{key} differs between ranks"
    # every rank drew its own noise and real batches: D's losses differ from rank to rank
    assert not np.allclose(ranks[0]["loss_d"], ranks[1]["loss_d"])


# -- no MPI needed ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer, shape", [(lambda: BatchNorm1d(3), (6, 3)), (lambda: BatchNorm2d(2), (3, 2, 3, 3))],
                         ids=["BatchNorm1d", "BatchNorm2d"])
def test_synchronised_batchnorm_over_one_process_passes_the_gradient_check(float64, layer, shape):
    bn = layer()
    assert synchronise_batchnorm(Sequential(bn), Communicator()) == 1
    x = backend.asarray(backend.rng(3).normal(1.5, 2.0, shape))
    for name, err in check_layer(bn, x).items():
        assert err < 1e-7, (name, err)


def test_two_simulated_ranks_give_the_whole_batch_gradients(one_process):
    check_gradient_cases(one_process, simulated_run("gradients"))


def test_two_simulated_ranks_keep_identical_parameters():
    check_training(simulated_run("training"))


def test_a_simulated_rank_that_fails_releases_the_others():
    def fn(comm):
        if comm.rank == 1:
            raise ValueError("rank 1 failed")
        return comm.allreduce_mean(np.ones(3))  # would wait for rank 1 for ever

    with pytest.raises(ValueError, match="rank 1 failed"):
        run_ranks(fn, 2)


def test_nccl_on_numpy_is_refused_before_anything_is_written(tmp_path, capsys):
    assert main(["train", "--dataset", "ring8", "--distributed", "nccl", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--distributed 'nccl'" in err[0] and "--backend cupy" in err[0]
    assert not (tmp_path / "run").exists()


def test_mpi_without_mpi4py_is_one_line_and_exit_2(tmp_path):
    code = ("import sys; sys.modules['mpi4py'] = None\n"  # as if mpi4py were not installed
            "from minigan.cli import main\n"
            f"sys.exit(main(['train', '--dataset', 'ring8', '--distributed', 'mpi', '--out', {str(tmp_path / 'r')!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=TIMEOUT)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "--distributed mpi" in lines[0] and 'pip install "minigan[mpi]"' in lines[0]
    assert not (tmp_path / "r").exists()


SHORT = ["--dataset", "ring8", "--lr-schedule", "constant", "--batch-size", "32", "--log-every", "5"]


def same_checkpoints(a_dir, b_dir) -> bool:
    with np.load(a_dir / "checkpoint.npz") as a, np.load(b_dir / "checkpoint.npz") as b:
        return a.files == b.files and all(np.array_equal(a[k], b[k]) for k in a.files)


def test_sync_bn_on_one_process_changes_nothing(tmp_path):
    # dcgan has BatchNorm in G and D; on one process its batch is already the whole batch
    run = ["train", "--dataset", "digits", "--arch", "dcgan", "--width", "8", "--z-dim", "8", "--steps", "4",
           "--batch-size", "16", "--frames", "0"]
    assert main([*run, "--out", str(tmp_path / "plain")]) == 0
    assert main([*run, "--sync-bn", "--out", str(tmp_path / "sync")]) == 0
    assert json.loads((tmp_path / "sync" / "config.json").read_text())["sync_bn"] is True
    assert same_checkpoints(tmp_path / "plain", tmp_path / "sync")


# -- on MPI processes -------------------------------------------------------------------------------------
@needs_mpi
def test_two_mpi_processes_give_the_whole_batch_gradients(tmp_path, one_process):
    check_gradient_cases(one_process, mpi_run("gradients", tmp_path))


@needs_mpi
def test_two_mpi_processes_keep_identical_parameters(tmp_path):
    check_training(mpi_run("training", tmp_path))


@needs_mpi
def test_a_failing_rank_ends_every_rank_with_a_nonzero_exit(tmp_path):
    start = time.monotonic()
    proc = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(HERE), "failing", str(tmp_path)], env=ENV,
                          capture_output=True, text=True, timeout=TIMEOUT)
    # (the status is mpiexec's: the aborting rank's 2 as a rule, but it may report the rank it killed)
    assert proc.returncode != 0, proc.stderr
    assert "minigan train (rank 1 of 2): error: rank 1 could not read its batch" in proc.stderr
    assert time.monotonic() - start < 60


def mpi_train(*args, n=2, **kwargs):
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, "-m", "minigan", "train", *args], env=ENV,
                          capture_output=True, text=True, timeout=TIMEOUT, **kwargs)


@needs_mpi
def test_a_rank_started_with_other_options_ends_every_rank(tmp_path):
    run = ["-m", "minigan", "train", "--distributed", "mpi", "--dataset", "ring8", "--out", str(tmp_path / "r")]
    proc = subprocess.run([MPIEXEC, "-n", "1", sys.executable, *run, "--steps", "30", ":",
                           "-n", "1", sys.executable, *run, "--steps", "40"], env=ENV, capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert proc.returncode != 0, proc.stderr
    assert "(rank 1 of 2): error: the options of rank 1 differ from rank 0's" in proc.stderr
    assert not (tmp_path / "r").exists()


@needs_mpi
@pytest.mark.parametrize("bad_ranks", ["one", "both"])
def test_a_usage_error_before_mpi_starts_ends_the_job_with_one_line(tmp_path, bad_ranks):
    # The other rank is already waiting in MPI's start-up for the failing one: never a hang.
    run = [sys.executable, "-m", "minigan", "train", "--distributed", "mpi", "--dataset", "ring8", "--out",
           str(tmp_path / "r")]
    first = run + (["--no-such-option"] if bad_ranks == "both" else [])
    start = time.monotonic()
    proc = subprocess.run([MPIEXEC, "-n", "1", *first, ":", "-n", "1", *run, "--no-such-option"], env=ENV,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode != 0, proc.stderr
    # One line to say it (MPICH's proxies now and then forward an aborted rank's last line twice: the
    # same line), beside MPI's own report of the abort.
    said = {line for line in proc.stderr.splitlines() if not line.startswith("Abort(")}
    assert said == {"minigan: error: unrecognized arguments: --no-such-option (see minigan --help)"}, proc.stderr
    assert time.monotonic() - start < 60
    assert not (tmp_path / "r").exists()


MPI_SHORT = ["--distributed", "mpi", *SHORT]


@needs_mpi
def test_pix2pix_trains_on_two_mpi_processes_and_resumes_exactly(tmp_path):
    pix2pix = ["--model", "pix2pix", "--distributed", "mpi", "--batch-size", "16", "--width", "4", "--frames", "0",
               "--checkpoint-every", "1000"]
    assert mpi_train(*pix2pix, "--steps", "6", "--out", str(tmp_path / "a")).returncode == 0
    resumed = mpi_train("--out", str(tmp_path / "a"), "--resume", "--steps", "10")
    assert resumed.returncode == 0, resumed.stderr
    assert mpi_train(*pix2pix, "--steps", "10", "--out", str(tmp_path / "b")).returncode == 0
    assert same_checkpoints(tmp_path / "a", tmp_path / "b")


@needs_mpi
def test_one_mpi_process_trains_exactly_as_no_mpi(tmp_path):
    assert mpi_train(*MPI_SHORT, "--steps", "10", "--out", str(tmp_path / "mpi"), n=1).returncode == 0
    assert main(["train", *SHORT, "--steps", "10", "--out", str(tmp_path / "alone")]) == 0
    assert same_checkpoints(tmp_path / "alone", tmp_path / "mpi")


@needs_mpi
def test_a_stopped_two_process_run_resumes_exactly_and_one_process_samples_it(tmp_path):
    stopped, unbroken = tmp_path / "stopped", tmp_path / "unbroken"
    proc = subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, "-m", "minigan", "train", *MPI_SHORT, "--steps",
                             "1000000", "--checkpoint-every", "1000000", "--out", str(stopped)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TIMEOUT
    while not (stopped / "config.json").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "training did not start in time"
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)  # mpiexec passes it on to every rank
    stdout, stderr = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 143, stderr
    assert stdout.count("run folder:") == 1  # rank 0 alone prints
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and f"mpiexec -n 2 minigan train --out {stopped} --resume" in lines[0], stderr
    with np.load(stopped / "checkpoint.npz", allow_pickle=False) as f:
        step, states = int(f["step"]), f["rank_rng_states"]
    assert 0 < step < 1_000_000 and len(states) == 2 and states[0] != states[1]

    total = str(step + 10)
    assert mpi_train("--out", str(stopped), "--resume", "--steps", total).returncode == 0
    assert mpi_train(*MPI_SHORT, "--steps", total, "--out", str(unbroken)).returncode == 0
    assert same_checkpoints(stopped, unbroken)
    assert main(["sample", str(stopped), "-n", "50", "--out", str(tmp_path / "points.npy")]) == 0
    points = np.load(tmp_path / "points.npy")
    assert points.shape == (50, 2) and points.dtype == np.float32 and np.isfinite(points).all()


@needs_mpi
def test_the_lesson_runs_on_two_mpi_processes(tmp_path):
    lesson = HERE.parent.parent / "lessons" / "22_data_parallel.py"
    proc = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(lesson), "--quick", "--out", str(tmp_path)],
                          env=ENV, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 ranks: MPI processes" in proc.stdout and "checks passed" in proc.stdout
    assert proc.stdout.count("checks passed") == 1  # rank 1 prints nothing
    assert {p.name for p in tmp_path.iterdir()} == {"gradient_noise.png", "batchnorm_four_models.png"}


if __name__ == "__main__":  # one rank of an MPI test: python tests/test_distributed.py CASE OUT_DIR
    from minigan.distributed import connect

    case, out = sys.argv[1], Path(sys.argv[2])
    comm = connect("mpi")
    build, part = CASES[case]
    result = part(comm, build())
    np.savez(out / f"rank{comm.rank}.npz", **result)
