"""Data-parallel training against threads: what two processes buy on a CPU.

    python benchmarks/data_parallel.py [--arch mlp|dcgan28] [--batch 64] [--rounds 5] [--iters 20]
    python benchmarks/data_parallel.py --train [--steps 2000] [--rounds 3]

Three ways to use two cores for `minigan bench`'s iteration (float32, batch per process B):
  1 process, 1 BLAS thread                           batch B
  2 processes (mpiexec -n 2), 1 BLAS thread each     batch B each: a global batch of 2B,
                                                     gradients averaged (minigan.distributed)
  1 process, 2 BLAS threads                          batch B
Each configuration runs in fresh processes, ``--iters`` timed iterations after 3 warm-up ones; the
rounds alternate the three so that a busy moment of the machine hits all of them, and the
figures are medians over rounds. Printed: milliseconds per iteration, images per second (the
global batch over the iteration's time), the time the two processes spend averaging gradients,
and the scaling efficiency of two processes, throughput(2 processes) / (2 x throughput(1)).
With ``--train``: the wall time of a whole ``minigan train --dataset ring8 --steps S`` as a user runs it,
with no thread setting: one process with batch 256, against ``mpiexec -n 2 ... --distributed mpi
--batch-size 128`` (the same global batch). Each rank's default BLAS threads are then the cores divided by
the ranks on the machine; before that default, each rank kept BLAS's own (every core), and two ranks on two
cores ran four spinning threads. Rounds alternate the two; medians are printed.
Needs the extra minigan[mpi] (mpi4py, MPICH).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = (("1 process, 1 thread", 1, 1), ("2 processes, 1 thread each", 2, 1), ("1 process, 2 threads", 1, 2))


def worker(arch: str, batch: int, iters: int, distributed: bool) -> None:
    """Time ``iters`` iterations on this process (a rank of mpiexec when ``distributed``); rank 0 prints
    {"ms": per iteration, "comm_ms": of it averaging gradients, "processes": P} as JSON."""
    import numpy as np

    from minigan.bench import minigan_iteration
    from minigan.distributed import Communicator, DataParallel, connect

    comm = connect("mpi") if distributed else Communicator()
    step, gan, _ = minigan_iteration(arch, batch)
    DataParallel(gan, comm, seed=0).start()
    spent = [0.0]
    if gan.average_gradients:
        average = gan.average_gradients

        def timed(model):
            t = time.perf_counter()
            average(model)
            spent[0] += time.perf_counter() - t
        gan.average_gradients = timed
    for _ in range(3):
        step()
    spent[0] = 0.0
    comm.allreduce_mean(np.zeros(1))  # start the clocks together
    t = time.perf_counter()
    for _ in range(iters):
        step()
    seconds = time.perf_counter() - t
    if comm.rank == 0:
        print(json.dumps({"ms": 1e3 * seconds / iters, "comm_ms": 1e3 * spent[0] / iters, "processes": comm.size}))


def run_config(processes: int, threads: int, args) -> dict:
    env = {**os.environ, **{v: str(threads) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--arch", args.arch, "--batch",
               str(args.batch), "--iters", str(args.iters)]
    if processes > 1:
        mpiexec = shutil.which("mpiexec", path=os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]]))
        command = [mpiexec, "-n", str(processes), *command, "--distributed"]
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def train_time(processes: int, steps: int, out: Path) -> float:
    """Seconds of one ``minigan train --dataset ring8`` (the global batch 256) on ``processes`` processes,
    the BLAS threads left to minigan's defaults."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                             "MKL_NUM_THREADS")}
    command = [sys.executable, "-m", "minigan", "train", "--dataset", "ring8", "--steps", str(steps), "--frames",
               "0", "--batch-size", str(256 // processes), "--out", str(out)]
    if processes > 1:
        mpiexec = shutil.which("mpiexec", path=os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]]))
        command = [mpiexec, "-n", str(processes), *command, "--distributed", "mpi"]
    start = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800, check=True)
    return time.perf_counter() - start


def train_rounds(args) -> None:
    import tempfile

    times = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for processes in times:
                times[processes].append(train_time(processes, args.steps, Path(tmp) / f"r{r}-{processes}"))
            print(f"round {r + 1}: 1 process {times[1][-1]:.1f} s, 2 processes {times[2][-1]:.1f} s", flush=True)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"minigan train --dataset ring8 --steps {args.steps}: 1 process (batch 256) {one:.1f} s, "
          f"mpiexec -n 2 (batch 128 each) {two:.1f} s: x{two / one:.2f} the time of one process")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=("mlp", "dcgan28"), default="mlp")
    parser.add_argument("--batch", type=int, default=64, help="batch per process")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--train", action="store_true", help="time whole minigan train runs instead (ring8)")
    parser.add_argument("--steps", type=int, default=2000, help="--train: the steps of each run")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--distributed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.arch, args.batch, args.iters, args.distributed)
        return
    if args.train:
        train_rounds(args)
        return
    print(f"arch {args.arch}, batch {args.batch} per process, {args.rounds} rounds of {args.iters} iterations; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    times = {name: [] for name, _, _ in CONFIGS}
    comm = []
    for r in range(args.rounds):
        for name, processes, threads in CONFIGS:
            result = run_config(processes, threads, args)
            times[name].append(result["ms"])
            if processes > 1:
                comm.append(result["comm_ms"])
        print(f"round {r + 1}: " + ", ".join(f"{n} {t[-1]:.1f} ms" for n, t in times.items()), flush=True)
    base = statistics.median(times[CONFIGS[0][0]])
    rows = []
    for name, processes, _ in CONFIGS:
        ms = statistics.median(times[name])
        rows.append({"config": name, "ms_per_iteration": ms, "images_per_s": processes * args.batch / ms * 1e3,
                     "throughput_vs_1_process": processes * base / ms})
    for row in rows:
        print(f"{row['config']:<28} {row['ms_per_iteration']:7.1f} ms/iteration  {row['images_per_s']:7.0f} "
              f"images/s  x{row['throughput_vs_1_process']:.2f} the throughput of 1 process, 1 thread")
    print(f"2 processes: averaging gradients {statistics.median(comm):.2f} ms of each iteration; scaling "
          f"efficiency {rows[1]['throughput_vs_1_process'] / 2:.0%}; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
