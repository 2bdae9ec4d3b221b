"""The registry of data sets: every set minigan can train on is one ``DataSet`` entry.

An entry says what kind of data it is, the shape of one sample, how to get the data, and the
``minigan train`` option values that suit it (its defaults; every option not named there takes
the default ``minigan.options`` declares). The built-in entries live in ``sets.py``; a user adds
one with ``register(DataSet(...))``, and ``minigan train --dataset NAME`` then offers it.

This package never imports ``minigan.options`` (which imports it, to list and look up data sets):
that a set's defaults name real options is checked by ``options`` when a run's config is made, and
for every registered set by tests/test_registries.py; ``DataSet`` checks only their shape.

Two kinds:
  "points"  a 2-D Gaussian mixture: ``means`` (K, 2) and ``std`` describe it; batches are drawn
            fresh at every step, and the mixture protocol (modes, high quality, reverse KL)
            evaluates it.
  "images"  a fixed set of images: ``load(data_dir, download, log, **options)`` returns
            ``(images, labels)``, float32 (N, C, H, W) in [-1, 1] and int64 (N,) in 0..num_classes - 1
            (None for an unlabelled set, ``num_classes=0``), in the set's canonical order (the order ``--holdout``
            counts from). ``options`` are the ``minigan train`` options the loader takes (e.g.
            ``image_size``), with their defaults; ``choices`` their allowed values where they are
            few, and ``shape`` is then a function of them. ``groups(data_dir, download, log)``, where
            given, says which images belong together ((N,) int64, numbered in canonical order):
            ``--holdout`` then keeps out whole groups spread over the order (``spread_holdout``), not a
            tail. ``test(data_dir, download, log)``, where given, returns a standard test split
            ``(images, labels)`` (None when this machine lacks it), which ``minigan evaluate`` scores
            against when the run held nothing out. A STACKED set (``stack_of``
            names a single-channel image set) has no images of its own: each sample stacks C
            images of that set, drawn independently, as its C channels (Stacked MNIST: three
            digits, 1,000 modes); ``--holdout`` then splits the images it stacks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import numpy as np

from ..registry import Registry

KINDS = ("points", "images")


@dataclass(frozen=True)
class DataSet:
    name: str
    kind: str
    shape: tuple | Callable                # (C, H, W), or shape(**options) when the loader takes options
    defaults: dict = field(default_factory=dict)
    means: object = None                  # points: float64 (K, 2) mode means
    std: float | None = None              # points: the std of every mode, per coordinate
    load: Callable | None = None          # images: load(data_dir, download, log, **options) -> (images, labels)
    stack_of: str | None = None           # images: the single-channel set whose images it stacks
    options: dict = field(default_factory=dict)   # images: the loader's options and their defaults
    choices: dict = field(default_factory=dict)   # images: allowed values of some of those options
    num_classes: int = 10                 # images: the labels' classes (0: no labels)
    groups: Callable | None = None        # images: groups(data_dir, download, log) -> int64 (N,)
    test: Callable | None = None          # images: test(data_dir, download, log) -> (images, labels) or None
    pairs: str | None = None              # images: sets with the same tag draw the same subjects in the same
                                          # order (image i of one is image i of the other: the two emoji sets)
    description: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"data set {self.name!r}: kind {self.kind!r} is not one of {KINDS}")
        # Which names are options of minigan train is options.py's to say (it imports this package, so
        # asking it here would be an import cycle): it refuses an unknown default when a run is made,
        # and tests/test_registries.py checks every registered set's. Here: the shape of the names only.
        if not isinstance(self.defaults, dict):
            raise ValueError(f"data set {self.name!r}: its defaults must be a dict of option values, "
                             f"got {type(self.defaults).__name__}")
        bad = [k for k in self.defaults if not (isinstance(k, str) and k.isidentifier())]
        if bad:
            raise ValueError(f"data set {self.name!r}: its defaults name {bad[0]!r}, which is not an option "
                             f"name (option names are config keys, with '_' where the flag has '-')")
        if "arch" not in self.defaults:
            raise ValueError(f"data set {self.name!r}: its defaults must name an 'arch' (the architecture "
                             f"that suits it)")
        if self.kind == "points" and (self.means is None or not self.std or tuple(self.shape) != (2,)):
            raise ValueError(f"data set {self.name!r}: a 'points' set needs means (K, 2), a std > 0 and "
                             f"shape (2,)")
        if self.kind == "images" and ((self.load is None) == (self.stack_of is None)
                                      or len(self.sample_shape({})) != 3):
            raise ValueError(f"data set {self.name!r}: an 'images' set needs a load function or a set to "
                             f"stack (one of the two), and a sample shape (C, H, W)")
        if set(self.choices) - set(self.options) or callable(self.shape) != bool(self.options):
            raise ValueError(f"data set {self.name!r}: choices may only restrict its options, and its shape is "
                             f"a function of its options exactly when it has options")

    def loader_options(self, config: dict) -> dict:
        """The loader's options as ``config`` sets them (its defaults where the config has none)."""
        return {k: default if config.get(k) is None else config[k] for k, default in self.options.items()}

    def sample_shape(self, config: dict) -> tuple:
        """The shape of one sample (C, H, W) or (2,) under the options of ``config``."""
        return tuple(self.shape(**self.loader_options(config)) if callable(self.shape) else self.shape)

    def load_images(self, data_dir=None, download: bool = False, log=print, **options):
        """(images, labels) of the set, or of the single-channel set a stacked set stacks."""
        if self.stack_of is None:
            return self.load(data_dir=data_dir, download=download, log=log, **self.loader_options(options))
        base = get(self.stack_of)
        shape = self.sample_shape({})
        if base.kind != "images" or base.sample_shape({}) != (1,) + shape[1:]:
            raise ValueError(f"data set {self.name!r} stacks {base.name!r}, whose samples are {base.shape}; "
                             f"expected single-channel images (1, {shape[1]}, {shape[2]})")
        return base.load_images(data_dir=data_dir, download=download, log=log)

    def held_out(self, fraction: float, count: int, data_dir=None, download: bool = False, log=print):
        """The held-out mask (count,) bool of ``--holdout fraction``: whole groups spread over the canonical
        order where the set has groups (``spread_holdout``), else the last round(fraction * count) images."""
        if self.groups is not None and self.stack_of is None and fraction:
            groups = self.groups(data_dir=data_dir, download=download, log=log)
            if len(groups) != count:
                raise ValueError(f"data set {self.name!r}: {len(groups)} groups for {count} images")
            return spread_holdout(groups, fraction)
        return tail_holdout(fraction, count)


def tail_holdout(fraction: float, count: int) -> np.ndarray:
    """The held-out mask (count,) bool of the last round(fraction * count) images."""
    mask = np.zeros(count, dtype=bool)
    mask[count - round(fraction * count):] = True
    return mask


def spread_holdout(groups, fraction: float) -> np.ndarray:
    """The held-out mask (N,) bool for images in ``groups`` (int, numbered 0, 1, ... in canonical order):
    group r is held out when floor((r + 1) F) > floor(r F), with F = Fraction(fraction).limit_denominator(1000).
    Exactly floor(R F) of R groups are held out, evenly spread over the order (every 1/F-th at F = 1/k)."""
    f = Fraction(fraction).limit_denominator(1000)
    groups = np.asarray(groups, dtype=np.int64)
    return (groups + 1) * f.numerator // f.denominator > groups * f.numerator // f.denominator  # exact integers


DATASETS = Registry("dataset")


def register(dataset: DataSet, replace: bool = False) -> DataSet:
    """Add ``dataset`` to the registry (``replace=True`` to overwrite an entry of the same name)."""
    return DATASETS.add(dataset.name, dataset, replace)


def unregister(name: str) -> None:
    DATASETS.remove(name)


def names(kind: str | None = None) -> tuple:
    """The registered data set names, of one kind or of all, in registration order."""
    return tuple(n for n, d in DATASETS.items() if kind is None or d.kind == kind)


def get(name: str) -> DataSet:
    """The entry ``name``; ValueError listing the known names if there is none."""
    return DATASETS.find(name)
