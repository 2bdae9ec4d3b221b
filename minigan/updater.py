"""What every model family's training step shares (Chainer's Updater): named models and optimisers.

A family (``GAN``, ``Pix2Pix``, ``VAE``, ...) subclasses ``Updater`` and writes ONE method of its
own, ``train_step(*batch) -> dict of figures``: which models run on what, which losses, which
optimiser steps. The rest is here, the same for every family:

  models        name -> Module ("G", "D", ...); every module saved in a checkpoint
  optimizers    name of a model -> its optimiser (a model without one, an average of weights say,
                is saved but not trained)
  rng           the seeded host generator of the step's noise and of the batches the loop draws
  step          the number of finished training steps
  state_dict    everything needed to continue exactly: "<model>.<param>", "<model lower>_opt.<key>",
                "step", "rng_state" (the generator's state as JSON text)
  finish_gradients(name)   after a model's backward: the data-parallel average (a hook set from
                outside by ``minigan.distributed``; the family never knows), then clipping, and the
                gradient norm as a figure

The one training loop (``minigan.loop``) drives any Updater; the family never writes a loop.
"""
from __future__ import annotations

import json
import math

from . import backend
from .optim import clip_grad_norm, grad_norm


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the parameters are left as they were before the bad step."""


class Updater:
    """The shared half of a family's trainer; see the module docstring.

    Subclasses set ``self.models``, ``self.optimizers`` (through ``__init__``) and write
    ``train_step``. clip: the global gradient-norm limit of every model (None: off).
    """

    def __init__(self, models: dict, optimizers: dict, seed: int = 0, clip: float | None = None):
        self.models, self.optimizers = dict(models), dict(optimizers)
        self.clip = clip
        self.rng = backend.rng(seed)
        # Data-parallel training sets it to a function of a model that averages the model's
        # gradients over all processes; it runs after each model's backward, before clipping.
        self.average_gradients = None
        self.step = 0

    def train_step(self, *batch) -> dict:
        """One training step on ``batch`` (what ``draw_batch`` returns); the step's figures as floats."""
        raise NotImplementedError

    def draw_batch(self, sample_real, batch_size: int) -> tuple:
        """The arguments of one ``train_step``, drawn with ``self.rng``: sample_real(rng, n) gives a
        batch, or a tuple of aligned batches (a pair family's inputs and targets)."""
        batch = sample_real(self.rng, batch_size)
        return batch if isinstance(batch, tuple) else (batch,)

    def fit(self, sample_real, steps: int, batch_size: int, on_step=None) -> None:
        """Train until ``self.step == steps`` (no run folder: ``minigan.loop`` adds one).

        sample_real(rng, n) -> a real batch (n, ...) on the active backend, or a tuple of them, drawn
        with ``rng`` (this trainer's generator, so a resumed run draws the same batches).
        on_step(figures) is called after every step."""
        while self.step < steps:
            figures = self.train_step(*self.draw_batch(sample_real, batch_size))
            if on_step is not None:
                on_step(figures)

    def finish_gradients(self, name: str) -> float:
        """Model ``name``'s gradients made final for its optimiser step: averaged over the processes
        (data-parallel), then clipped (``clip``). Returns their global L2 norm before clipping."""
        model = self.models[name]
        if self.average_gradients:
            self.average_gradients(model)
        return clip_grad_norm(model, self.clip) if self.clip else grad_norm(model)

    def check_finite(self, what: str, value: float, advice: str = "try a lower learning rate") -> None:
        """Raise TrainingDiverged (the step not taken) when a loss is NaN or infinite."""
        if not math.isfinite(value):
            raise TrainingDiverged(f"step {self.step + 1}: {what} is {value}; training stopped ({advice})")

    # -- saving --------------------------------------------------------------
    @staticmethod
    def optimizer_key(name: str) -> str:
        return f"{name.lower()}_opt"

    def state_dict(self) -> dict:
        """Every model, every optimiser, the step and the generator's state, as flat named arrays."""
        state = {}
        for name, model in self.models.items():
            state.update({f"{name}.{k}": v for k, v in model.state_dict().items()})
        for name, opt in self.optimizers.items():
            state.update({f"{self.optimizer_key(name)}.{k}": v for k, v in opt.state_dict().items()})
        state["step"] = self.step
        state["rng_state"] = json.dumps(self.rng.bit_generator.state)
        return state

    def load_state_dict(self, state: dict) -> None:
        """The inverse of ``state_dict``; every part is checked by its module or optimiser (names and
        shapes) and a missing step or generator state is refused."""
        def part(prefix):
            return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}

        for key in ("step", "rng_state"):
            if key not in state:
                raise ValueError(f"{type(self).__name__}.load_state_dict: missing key {key!r}")
        for name, model in self.models.items():
            model.load_state_dict(part(f"{name}."))
        for name, opt in self.optimizers.items():
            opt.load_state_dict(part(f"{self.optimizer_key(name)}."))
        self.step = int(state["step"])
        self.rng.bit_generator.state = json.loads(str(state["rng_state"]))
