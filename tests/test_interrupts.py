"""SIGINT and SIGTERM during `minigan train`, sent to a real subprocess: the step finishes, a checkpoint is
saved, the exit status is 130 / 143 with one line saying how to continue, and --resume finishes the run."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from minigan.cli import main

LONG_RUN = ["--dataset", "ring8", "--steps", "1000000", "--checkpoint-every", "1000000", "--log-every", "50"]


def start_training(out):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "minigan", "train", *LONG_RUN, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not (out / "config.json").exists():  # written just before the first step
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "training did not start within 60 s"
        time.sleep(0.05)
    time.sleep(1.0)  # some steps, but far fewer than the first checkpoint's 1,000,000
    return proc


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_saves_a_checkpoint_that_resume_finishes(tmp_path, signum, status):
    out = tmp_path / "run"
    proc = start_training(out)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert signal.Signals(signum).name in lines[0] and f"minigan train --out {out} --resume" in lines[0]

    with np.load(out / "checkpoint.npz", allow_pickle=False) as f:
        step = int(f["step"])
        assert all(np.isfinite(f[k]).all() for k in f.files if f[k].dtype.kind == "f")
    assert 0 < step < 1_000_000
    assert f"at step {step} of" in lines[0]
    history = (out / "history.csv").read_text().splitlines()
    assert int(history[-1].split(",")[0]) <= step

    assert main(["train", "--out", str(out), "--resume", "--steps", str(step + 20)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["step"] == step + 20 and (out / "samples.png").exists()
