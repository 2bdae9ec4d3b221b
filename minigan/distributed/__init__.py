"""Data-parallel training on several processes: MPI through mpi4py (or NCCL on GPUs), as ChainerMN.

    mpiexec -n P minigan train --distributed mpi [--sync-bn] ...

runs P processes; ``--batch-size`` is per process (global batch P x B). The pieces:
  communicator.py   ``Communicator``: rank, size, broadcast, allreduce_mean, allgather, abort (a group
                    of one process); mpi.py ``MPICommunicator``; nccl.py ``NCCLCommunicator``;
                    simulated.py ``ThreadCommunicator`` and ``run_ranks`` (ranks as threads)
  parallel.py       ``DataParallel``: the same start on every rank, each rank its own noise and
                    batches, gradients averaged; ``synchronise_batchnorm``
  processes.py      rank 0 prints; an error on one rank ends every rank, also before it joined the group
The models and the families do not know about any of it: ``Updater.average_gradients`` is the one hook.
"""
from __future__ import annotations

from .communicator import Communicator
from .parallel import DataParallel, GradientAverager, rank_generator, synchronise_batchnorm
from .processes import end_unjoined_job, launched_size, silence_other_ranks, stop_every_rank
from .simulated import ThreadCommunicator, run_ranks

__all__ = ["Communicator", "DataParallel", "GradientAverager", "KINDS", "ThreadCommunicator", "connect",
           "end_unjoined_job", "joined", "launched_size", "rank_generator", "run_ranks", "silence_other_ranks",
           "stop_every_rank", "synchronise_batchnorm"]


KINDS = ("none", "mpi", "nccl")  # --distributed: one process, or the communicators of this package
_joined = None  # the group this process joined: MPI starts once per process


def connect(kind: str):
    """The communicator of ``--distributed kind`` (``KINDS``): "none" (one process), "mpi",
    "nccl". The group of several is joined once; asking again for the same kind returns it.
    Raises OptionError (one line) where MPI cannot be loaded (nccl: CuPy's NCCL is loaded by
    ``use_own_gpu``, once the options are known to be right).
    """
    global _joined
    from ..errors import OptionError

    if kind not in KINDS:
        raise OptionError(f"--distributed {kind!r}: expected one of {', '.join(KINDS)}")
    if kind == "none":
        return Communicator()
    if _joined is not None and _joined.name == kind:
        return _joined
    from .mpi import MPICommunicator, MPIUnavailable

    try:
        if kind == "nccl":
            from .nccl import NCCLCommunicator

            _joined = NCCLCommunicator()
        else:
            _joined = MPICommunicator()
    except MPIUnavailable as exc:
        raise OptionError(f"--distributed {kind}: {exc}") from exc
    return _joined


def joined():
    """The group ``connect`` joined, or a group of one (this process alone)."""
    return _joined or Communicator()
