"""``--distributed nccl``: NCCL through CuPy (cupy.cuda.nccl), one process per GPU, started by mpiexec.

MPI still starts the processes and gives each its rank. Once a process knows its GPU
(``use_own_gpu``), rank 0 draws NCCL's unique id, MPI broadcasts it, and every process joins the
same NCCL communicator on its GPU. GPU buffers then go through NCCL on the current CUDA stream
(ordered after the kernels that wrote them, no copy to the host); host buffers (a flag, the
generators' states) still go through MPI.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from .mpi import MPICommunicator, _on_gpu

NCCL_HINT = ("CuPy with NCCL is needed: pip install \"minigan[cuda12]\" (or cuda13), and NCCL, an optional "
             "CuPy library (see CuPy's installation guide)")


class NCCLCommunicator(MPICommunicator):
    """The MPI group, with NCCL for the GPU buffers once ``use_own_gpu`` has run. One GPU per process."""

    name = "nccl"
    nccl_comm = None

    def use_own_gpu(self) -> None:
        """Pick this rank's GPU, then join the NCCL communicator on it (NCCL binds to the current GPU)."""
        super().use_own_gpu()
        if self.nccl_comm is not None:
            return
        try:
            from cupy.cuda import nccl
        except ImportError as exc:
            raise backend.BackendUnavailable(f"--distributed nccl: {NCCL_HINT} ({exc})") from exc
        uid = np.zeros(128, dtype=np.int64)  # NCCL_UNIQUE_ID_BYTES chars, sent as integers
        if self.rank == 0:
            uid[:] = nccl.get_unique_id()
        super().broadcast(uid)
        self.nccl = nccl
        self.nccl_comm = nccl.NcclCommunicator(self.size, tuple(int(v) for v in uid), self.rank)
        self._types = {np.dtype(np.float32): nccl.NCCL_FLOAT32, np.dtype(np.float64): nccl.NCCL_FLOAT64}

    def _stream(self, buf) -> int:
        if self.nccl_comm is None:
            raise RuntimeError("NCCLCommunicator: call use_own_gpu() before exchanging GPU buffers")
        return backend.get_array_module(buf).cuda.get_current_stream().ptr

    def broadcast(self, buf):
        if not _on_gpu(buf):
            return super().broadcast(buf)
        stream = self._stream(buf)
        self.nccl_comm.bcast(buf.data.ptr, buf.size, self._types[buf.dtype], 0, stream)
        return buf

    def allreduce_mean(self, buf):
        if not _on_gpu(buf):
            return super().allreduce_mean(buf)
        stream = self._stream(buf)
        self.nccl_comm.allReduce(buf.data.ptr, buf.data.ptr, buf.size, self._types[buf.dtype],
                                 self.nccl.NCCL_SUM, stream)
        buf /= self.size
        return buf
