"""Model families: what ``minigan train --model NAME`` trains, one registry entry each.

A family is the part of a training run that differs from model to model; everything else (the run
folder, checkpoints, history, frames, signals, the NaN stop, --resume, --distributed) is the one
loop's, ``minigan.loop``. An entry gives:
  build(config, arguments, arch_options)   the trainer, an ``updater.Updater`` (named models and
                          optimisers and the family's ``train_step``), its initial weights drawn from
                          config["seed"]; arguments: the trainer's keywords, arch_options: the
                          architecture's (``minigan.options`` reads both off the config)
  batches(config, log)    sample_real(rng, n): a training batch, or a tuple of aligned batches,
                          drawn with the trainer's generator (so a resumed run draws the same ones)
  frame(trainer, config)  the fixed picture of the run as it trains (progress.gif's frames), a
                          grid image, or None (2-D points draw no frames)
  finish(trainer, config, run_dir)   the end-of-run files (samples.png, ...) and the metrics dict
  fields                  the figures ``train_step`` returns, in history.csv's column order
  shown                   progress-bar label -> figure
  check(trainer, config)  refusals that need the built models (a BatchNorm fed one sample)
  defaults                option values that suit the family (gan takes the data set's instead)
The options a family takes are rows of ``minigan.options`` that name it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..registry import Registry


@dataclass(frozen=True)
class Family:
    name: str
    build: Callable
    batches: Callable
    frame: Callable
    finish: Callable
    fields: tuple
    shown: dict = field(default_factory=dict)
    check: Callable | None = None
    defaults: dict = field(default_factory=dict)
    description: str = ""

    @property
    def history_fields(self) -> tuple:
        """history.csv's columns: the step, the family's figures, the seconds since the start."""
        return ("step", *self.fields, "seconds")


FAMILIES = Registry("model family")


def register(family: Family, replace: bool = False) -> Family:
    return FAMILIES.add(family.name, family, replace)


def get(name: str) -> Family:
    return FAMILIES.find(name)


def names() -> tuple:
    return tuple(FAMILIES)


from . import cyclegan, gan, pix2pix, vae  # noqa: E402,F401  (the built-in families register themselves)
