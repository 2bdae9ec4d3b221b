"""The group of processes that ``mpiexec -n P`` starts, through mpi4py (the extra ``minigan[mpi]``).

mpi4py is imported here, when a communicator is made, never by ``import minigan``: importing it
starts MPI. On CuPy a buffer lives on the GPU. By default it is staged through the host (copied
to a NumPy array, exchanged, copied back), which works with any MPI; where the MPI library says
it is CUDA-aware (MPIX_Query_cuda_support, in MPICH and Open MPI) the GPU buffer is passed to MPI
directly, after the GPU has finished writing it.
"""
from __future__ import annotations

import ctypes

import numpy as np

from .. import backend
from .communicator import Communicator

INSTALL_HINT = 'pip install "minigan[mpi]" (mpi4py and MPICH from the package index, no system MPI needed)'


class MPIUnavailable(RuntimeError):
    """mpi4py or an MPI library cannot be loaded here; the message says how to install them."""


def load_mpi():
    """mpi4py's MPI module (importing it starts MPI: a process not under mpiexec is a group of one)."""
    try:
        from mpi4py import MPI
    except ImportError as exc:  # mpi4py missing, or its MPI library
        raise MPIUnavailable(f"mpi4py cannot be imported ({exc}): {INSTALL_HINT}") from exc
    except RuntimeError as exc:  # mpi4py present, MPI library not found or not startable
        raise MPIUnavailable(f"mpi4py cannot start MPI ({exc}): {INSTALL_HINT}") from exc
    return MPI


def cuda_aware(MPI) -> bool:
    """Whether the MPI library takes GPU buffers: its MPIX_Query_cuda_support(), False where absent."""
    try:
        return bool(ctypes.CDLL(MPI.__file__).MPIX_Query_cuda_support())
    except (OSError, AttributeError):
        return False


def _on_gpu(buf) -> bool:
    return type(buf).__module__.startswith("cupy")


class MPICommunicator(Communicator):
    """MPI_COMM_WORLD: every process that mpiexec started. Buffers: NumPy, or CuPy (see the module)."""

    name = "mpi"

    def __init__(self):
        self.MPI = load_mpi()
        self.comm = self.MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.cuda_aware = cuda_aware(self.MPI)

    def local_rank(self) -> int:
        """This process's number among the processes on its own machine (to pick its GPU)."""
        return self.comm.Split_type(self.MPI.COMM_TYPE_SHARED).Get_rank()

    def use_own_gpu(self) -> None:
        """Make GPU (local rank mod the GPUs of this machine) current: P processes on a machine, P GPUs."""
        import cupy

        cupy.cuda.Device(self.local_rank() % cupy.cuda.runtime.getDeviceCount()).use()

    def _direct(self, buf) -> bool:
        """Pass buf to MPI as it is: a host array, or a GPU array for a CUDA-aware MPI."""
        if not _on_gpu(buf):
            return True
        if self.cuda_aware:
            backend.get_array_module(buf).cuda.get_current_stream().synchronize()  # buf fully written
            return True
        return False

    def broadcast(self, buf):
        if self._direct(buf):
            self.comm.Bcast(buf, root=0)
        else:
            host = backend.to_numpy(buf)
            self.comm.Bcast(host, root=0)
            buf.set(host)
        return buf

    def allreduce_mean(self, buf):
        if self._direct(buf):
            self.comm.Allreduce(self.MPI.IN_PLACE, buf, op=self.MPI.SUM)
        else:
            host = backend.to_numpy(buf)
            self.comm.Allreduce(self.MPI.IN_PLACE, host, op=self.MPI.SUM)
            buf.set(host)
        buf /= self.size
        return buf

    def allgather(self, buf):
        host = np.ascontiguousarray(backend.to_numpy(buf))
        out = np.empty((self.size,) + host.shape, dtype=host.dtype)
        self.comm.Allgather(host, out)
        return backend.get_array_module(buf).asarray(out)

    def abort(self, status: int) -> None:
        self.comm.Abort(status)
