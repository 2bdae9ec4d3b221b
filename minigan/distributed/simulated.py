"""Ranks as threads of one process: data-parallel training without MPI, for lessons and tests.

``run_ranks(fn, size)`` runs fn(comm) once per rank, each in its own thread with its own
``ThreadCommunicator``, and returns the ranks' results in rank order. An exchange waits until
every rank has handed in its buffer (a barrier), then each rank computes the same result from
the same buffers in the same (rank) order, so all ranks agree to the last bit, as MPI's
reductions do. A rank that raises breaks the barrier, so the others stop instead of waiting.
"""
from __future__ import annotations

import threading

from .. import backend
from .communicator import Communicator


class _Group:
    """What the ranks of one simulated group share: a barrier and one slot per rank."""

    def __init__(self, size: int):
        self.size = size
        self.barrier = threading.Barrier(size)
        self.slots = [None] * size


class ThreadCommunicator(Communicator):
    """Rank ``rank`` of a group of threads (see ``run_ranks``)."""

    name = "threads"

    def __init__(self, group: _Group, rank: int):
        self.group, self.rank, self.size = group, rank, group.size

    def _exchange(self, buf) -> list:
        """Every rank's buf (copies), in rank order, once every rank has handed in its own."""
        group = self.group
        group.slots[self.rank] = buf.copy()
        group.barrier.wait()
        values = list(group.slots)
        group.barrier.wait()  # nobody overwrites a slot before everyone has read them all
        return values

    def broadcast(self, buf):
        buf[...] = self._exchange(buf)[0]
        return buf

    def allreduce_mean(self, buf):
        values = self._exchange(buf)
        total = values[0].copy()  # (the slots are shared: each rank sums into its own array)
        for v in values[1:]:  # the same order on every rank: the same sum to the last bit
            total += v
        total /= self.size
        buf[...] = total
        return buf

    def allgather(self, buf):
        return backend.get_array_module(buf).stack(self._exchange(buf))

    def abort(self, status: int) -> None:
        self.group.barrier.abort()  # the other ranks' waits raise BrokenBarrierError
        raise SystemExit(status)


def run_ranks(fn, size: int = 2) -> list:
    """[fn(comm_0), ..., fn(comm_{size-1})], each call in its own thread with its own rank.

    The first error of the lowest rank that raised is raised again here, after every thread
    has ended (the others are released from their barrier by it).
    """
    if size < 1:
        raise ValueError(f"run_ranks: size must be >= 1, got {size}")
    group = _Group(size)
    results, errors = [None] * size, [None] * size

    def body(rank):
        try:
            results[rank] = fn(ThreadCommunicator(group, rank))
        except BaseException as exc:  # noqa: BLE001 (handed to the caller below)
            errors[rank] = exc
            group.barrier.abort()

    threads = [threading.Thread(target=body, args=(r,), name=f"rank {r}") for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    broken = [e for e in errors if e is not None and not isinstance(e, threading.BrokenBarrierError)]
    if broken or any(errors):
        raise (broken or [e for e in errors if e is not None])[0]
    return results
