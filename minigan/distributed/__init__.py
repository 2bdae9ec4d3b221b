"""Data-parallel training on several processes: MPI through mpi4py (or NCCL on GPUs), as ChainerMN.

    mpiexec -n P minigan train --distributed mpi [--sync-bn] ...

runs P processes; ``--batch-size`` is per process (global batch P x B). The pieces:
  communicator.py   ``Communicator``: rank, size, broadcast, allreduce_mean, allgather, abort (a group
                    of one process); mpi.py ``MPICommunicator``; nccl.py ``NCCLCommunicator``;
                    simulated.py ``ThreadCommunicator`` and ``run_ranks`` (ranks as threads)
  parallel.py       ``DataParallel``: the same start on every rank, each rank its own noise and
                    batches, gradients averaged; ``synchronise_batchnorm``
  processes.py      rank 0 prints; an error on one rank ends every rank
The models and the trainer do not know about any of it: ``GAN.average_gradients`` is the one hook.
"""
from __future__ import annotations

from .communicator import Communicator
from .parallel import DataParallel, GradientAverager, rank_generator, synchronise_batchnorm
from .processes import silence_other_ranks, stop_every_rank
from .simulated import ThreadCommunicator, run_ranks

__all__ = ["Communicator", "DataParallel", "GradientAverager", "ThreadCommunicator", "connect",
           "rank_generator", "run_ranks", "silence_other_ranks", "stop_every_rank", "synchronise_batchnorm"]


def connect(kind: str, gpu: bool = False):
    """The communicator of ``--distributed kind`` (options.DISTRIBUTED): "none" (one process), "mpi", "nccl".

    gpu: the run is on CuPy; each process then uses GPU (local rank mod the GPUs on its machine),
    so that P processes on one machine use P GPUs (nccl always does). Raises OptionError (one
    line) where MPI, or for nccl CuPy's NCCL, cannot be loaded.
    """
    from ..options import DISTRIBUTED, OptionError

    if kind not in DISTRIBUTED:
        raise OptionError(f"--distributed {kind!r}: expected one of {', '.join(DISTRIBUTED)}")
    if kind == "none":
        return Communicator()
    from .mpi import MPICommunicator, MPIUnavailable

    try:
        if kind == "nccl":  # (options.validate has made sure the backend is CuPy)
            from .nccl import NCCLCommunicator

            return NCCLCommunicator()
        comm = MPICommunicator()
    except MPIUnavailable as exc:
        raise OptionError(f"--distributed {kind}: {exc}") from exc
    if gpu:
        comm.use_own_gpu()
    return comm
