"""Data-parallel training of any model family: P processes, one model each, kept identical.

Each rank draws its own real batch of B and its own noise, so together the P ranks see a batch
of P x B. The loss of that global batch is the mean of the ranks' batch means (equal B), so its
gradient is the mean of their gradients:
    dL/dtheta = (1/P) sum_r dL_r/dtheta,    L_r = (1/B) sum_{i in rank r's batch} l_i.
Averaging the gradients after each backward (``GradientAverager``: one allreduce of one packed
buffer per model and step) thus gives every rank the global batch's gradient; they all start from
rank 0's parameters (``DataParallel.start``) and take the same optimiser step, so their models
stay identical without ever being sent again.

BatchNorm is the exception: its output for one sample depends on the batch it came with. Plain
BatchNorm normalises with each rank's own B samples (what P single processes would do);
``synchronise_batchnorm`` makes it use the statistics of all P x B (minigan.layers.norm).
"""
from __future__ import annotations

import hashlib
import json
import signal

import numpy as np

from .. import backend


def rank_generator(seed: int, rank: int) -> np.random.Generator:
    """The host generator of rank ``rank``'s noise and real batches.

    Rank 0 gets the single-process run's, default_rng(seed); rank r > 0 the r-th child stream of
    that seed (SeedSequence(seed, spawn_key=(r,))), independent of every other rank's. The same
    noise on every rank would make P copies of one batch: a batch of B, not of P x B.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(rank,)) if rank else seed)


def synchronise_batchnorm(model, comm) -> int:
    """Make every batch-dependent layer (BatchNorm) in ``model`` take its batch statistics over all
    ranks of ``comm``. Returns how many such layers it found."""
    layers = [m for m in model.modules() if m.batch_dependent]
    for layer in layers:
        layer.comm = comm
    return len(layers)


class GradientAverager:
    """``averager(model)``: every gradient of ``model`` <- its mean over the ranks, in place.

    The gradients are packed into one buffer (allocated once per model, on the gradients' device),
    averaged by one allreduce and unpacked: one message per model and step, whatever the number
    of layers.
    """

    def __init__(self, comm):
        self.comm = comm
        self._packed = {}  # id(model) -> (buffer, [(gradient, its view of the buffer)])

    def _buffer(self, model):
        if id(model) not in self._packed:
            grads = [g for _, _, g in model.parameters()]
            xp = backend.get_array_module(*grads)
            buf = xp.empty(sum(int(g.size) for g in grads), dtype=grads[0].dtype)
            views, start = [], 0
            for g in grads:
                views.append((g, buf[start:start + g.size].reshape(g.shape)))
                start += g.size
            self._packed[id(model)] = buf, views
        return self._packed[id(model)]

    def __call__(self, model) -> None:
        buf, views = self._buffer(model)
        for g, view in views:
            view[...] = g
        self.comm.allreduce_mean(buf)
        for g, view in views:
            g[...] = view


def _gather_texts(comm, text: str) -> list:
    """Every rank's ``text``, in rank order, on every rank (two allgathers of host arrays)."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    longest = int(comm.allgather(np.array([data.size], dtype=np.int64)).max())
    padded = np.zeros(longest, dtype=np.uint8)
    padded[:data.size] = data
    return [bytes(row).rstrip(b"\0").decode("utf-8") for row in comm.allgather(padded)]


def _broadcast_texts(comm, texts: list) -> list:
    """Rank 0's list of texts, on every rank (the others pass anything)."""
    encoded = [t.encode("utf-8") for t in texts] if comm.rank == 0 else []
    shape = np.array([len(encoded), max(map(len, encoded), default=0)], dtype=np.int64)
    comm.broadcast(shape)
    table = np.zeros(tuple(int(n) for n in shape), dtype=np.uint8)
    for i, e in enumerate(encoded):
        table[i, :len(e)] = np.frombuffer(e, dtype=np.uint8)
    if table.size:
        comm.broadcast(table)
    return [bytes(row).rstrip(b"\0").decode("utf-8") for row in table]


class DataParallel:
    """The data-parallel side of one training run of any model family, on the ranks of ``comm``.

    trainer: an ``updater.Updater`` (named ``models``, ``rng``, ``average_gradients``, ``state_dict``).
    Construction (on every rank, after the models are built): each rank its own generator
    (``rank_generator``), every model's gradients averaged after each backward, and with ``sync_bn``
    BatchNorm statistics over all ranks. With a group of one (``Communicator``) nothing changes.
    Every method is a collective: every rank calls it, at the same point of the run.
    """

    def __init__(self, trainer, comm, seed: int, sync_bn: bool = False):
        self.trainer = trainer
        self.comm = comm
        self.writer = comm.rank == 0  # only rank 0 writes the run folder
        if comm.size > 1:
            trainer.rng = rank_generator(seed, comm.rank)
            trainer.average_gradients = GradientAverager(comm)
            if sync_bn:
                for model in trainer.models.values():
                    synchronise_batchnorm(model, comm)

    def start(self, checkpoint: dict | None = None, config: dict | None = None) -> None:
        """Every rank takes rank 0's state: every model and optimiser, the step.

        checkpoint: on rank 0 of a resumed run, the arrays of the checkpoint it restored (others:
        None). Its ``rank_rng_states`` give each rank back the generator it had when it was saved.
        config: the run's options, which must be rank 0's on every rank (ValueError otherwise: a rank
        started with other options, another --steps say, would leave the others waiting for it).
        """
        if self.comm.size == 1:
            return
        if config is not None:
            self._check_same_options(config)
        state = self.trainer.state_dict()
        own_rng = state.pop("rng_state")
        # One buffer for everything: float64 holds float32 values and integer counters exactly.
        flat = np.concatenate([backend.to_numpy(v).astype(np.float64).ravel() for v in state.values()])
        self.comm.broadcast(flat)
        saved = [str(t) for t in checkpoint.get("rank_rng_states", ())] if checkpoint else []
        saved = _broadcast_texts(self.comm, saved)
        if self.comm.rank == 0:
            return
        received, start = {"rng_state": own_rng}, 0
        for key, value in state.items():
            value = backend.to_numpy(value)
            received[key] = flat[start:start + value.size].astype(value.dtype).reshape(value.shape)
            start += value.size
        if self.comm.rank < len(saved):
            received["rng_state"] = saved[self.comm.rank]
        self.trainer.load_state_dict(received)

    def _check_same_options(self, config: dict) -> None:
        digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode("utf-8")).digest()
        own = np.frombuffer(digest, dtype=np.uint8).copy()
        rank0 = self.comm.broadcast(own.copy())
        if not np.array_equal(own, rank0):
            raise ValueError(f"the options of rank {self.comm.rank} differ from rank 0's: expected every process "
                             f"started with the same command line (mpiexec -n {self.comm.size} minigan train ...)")

    def checkpoint_arrays(self) -> dict:
        """What a checkpoint holds beyond ``trainer.state_dict()``: every rank's generator state
        (``rank_rng_states``, so that --resume continues each rank's stream). Empty for one rank."""
        if self.comm.size == 1:
            return {}
        texts = _gather_texts(self.comm, json.dumps(self.trainer.rng.bit_generator.state))
        return {"rank_rng_states": np.array(texts)}

    def agreed_signal(self, signum):
        """The signal every rank stops for after this step: SIGTERM if any rank received one, else
        SIGINT if any did, else None. All ranks stop after the same step, so none is left waiting."""
        if self.comm.size == 1:
            return signum
        flags = np.array([signum == signal.SIGINT, signum == signal.SIGTERM], dtype=np.float64)
        self.comm.allreduce_mean(flags)
        return signal.SIGTERM if flags[1] else signal.SIGINT if flags[0] else None
