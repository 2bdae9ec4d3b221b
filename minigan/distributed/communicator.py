"""The communicator: what data-parallel training needs from a group of processes, and nothing more.

Every process of a run holds one, with
  rank, size             this process's number in the group (0 .. size - 1) and the group's size
  broadcast(buf)         buf <- rank 0's buf, on every rank (in place)
  allreduce_mean(buf)    buf <- (1 / size) * sum over the ranks of buf, on every rank (in place)
  allgather(buf)         (size, *buf.shape): row r is rank r's buf, on every rank
  abort(status)          end every rank of the group now, with this exit status
A buffer is one array (NumPy or, where the backend is CuPy, CuPy), so each exchange is one message:
callers pack what they send (all of a model's gradients, say) into one buffer first.

``Communicator`` is the group of one process: every exchange returns its input, so the code of a
data-parallel run is the code of a single process run with a group of one (as in ChainerMN, whose
model code does not change when training goes data-parallel). ``MPICommunicator`` (mpi.py),
``NCCLCommunicator`` (nccl.py) and ``ThreadCommunicator`` (simulated.py: ranks as threads of one
process, for lessons and tests) are the groups of several.
"""
from __future__ import annotations

from .. import backend


class Communicator:
    """A group of one process: rank 0 of size 1. Every exchange leaves its buffer as it is."""

    name = "none"
    rank, size = 0, 1

    def broadcast(self, buf):
        """buf <- rank 0's buf, in place; returns buf."""
        return buf

    def allreduce_mean(self, buf):
        """buf <- the mean over the ranks of buf (elementwise), in place; returns buf."""
        return buf

    def allgather(self, buf):
        """A new array (size, *buf.shape) whose row r is rank r's buf."""
        return backend.get_array_module(buf).stack([buf])

    def abort(self, status: int) -> None:
        """End every rank of the group with exit status ``status``."""
        raise SystemExit(status)

    def use_own_gpu(self) -> None:
        """On CuPy: make this rank's GPU the current device (one process: the current one stays)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rank={self.rank}, size={self.size})"
