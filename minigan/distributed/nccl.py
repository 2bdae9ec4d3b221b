"""``--distributed nccl``: NCCL through CuPy (cupy.cuda.nccl), one process per GPU, started by mpiexec.

MPI still starts the processes and gives each its rank; rank 0 draws NCCL's unique id and MPI
broadcasts it, so that every process joins the same NCCL communicator. GPU buffers then go
through NCCL on the current CUDA stream (ordered after the kernels that wrote them, no copy to
the host); host buffers (a flag, the generators' states) still go through MPI.
"""
from __future__ import annotations

import numpy as np

from .mpi import MPICommunicator, MPIUnavailable, _on_gpu


class NCCLCommunicator(MPICommunicator):
    """The MPI group, with NCCL for the GPU buffers. Needs CuPy with NCCL, and one GPU per process."""

    name = "nccl"

    def __init__(self):
        super().__init__()
        try:
            import cupy
            from cupy.cuda import nccl
        except ImportError as exc:
            raise MPIUnavailable(f"--distributed nccl needs CuPy with NCCL ({exc}): pip install "
                                 f'"minigan[cuda12]" (or cuda13), then pip install nvidia-nccl-cu12') from exc
        self.cupy, self.nccl = cupy, nccl
        self.use_own_gpu()  # NCCL binds its communicator to the current GPU
        uid = np.zeros(128, dtype=np.int64)  # NCCL_UNIQUE_ID_BYTES chars, sent as integers
        if self.rank == 0:
            uid[:] = nccl.get_unique_id()
        super().broadcast(uid)
        self.nccl_comm = nccl.NcclCommunicator(self.size, tuple(int(v) for v in uid), self.rank)
        self._types = {np.dtype(np.float32): nccl.NCCL_FLOAT32, np.dtype(np.float64): nccl.NCCL_FLOAT64}

    def _stream(self) -> int:
        return self.cupy.cuda.get_current_stream().ptr

    def broadcast(self, buf):
        if not _on_gpu(buf):
            return super().broadcast(buf)
        self.nccl_comm.bcast(buf.data.ptr, buf.size, self._types[buf.dtype], 0, self._stream())
        return buf

    def allreduce_mean(self, buf):
        if not _on_gpu(buf):
            return super().allreduce_mean(buf)
        self.nccl_comm.allReduce(buf.data.ptr, buf.data.ptr, buf.size, self._types[buf.dtype],
                                 self.nccl.NCCL_SUM, self._stream())
        buf /= self.size
        return buf
