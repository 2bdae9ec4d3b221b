"""The PacGAN 2-D Gaussian mixtures: ``ring8`` and ``grid25``.

- ``ring8``: 8 Gaussians, means (cos 2πk/8, sin 2πk/8) for k = 0..7, std 0.01.
- ``grid25``: 25 Gaussians, means on {-4, -2, 0, 2, 4}², std 0.05.

Each sample picks its mode uniformly at random, then adds isotropic Gaussian noise.
Data code runs on the host, so it uses NumPy directly; the trainer moves batches to the backend.
"""
from __future__ import annotations

import numpy as np

TOY_SETS = ("ring8", "grid25")
_STD = {"ring8": 0.01, "grid25": 0.05}


def _check_name(name: str) -> None:
    if name not in TOY_SETS:
        raise ValueError(f"unknown toy data set {name!r}: expected one of {TOY_SETS}")


def toy_means(name: str) -> np.ndarray:
    """The mode means of the mixture ``name``: float64 of shape (K, 2)."""
    _check_name(name)
    if name == "ring8":
        angles = 2 * np.pi * np.arange(8) / 8
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)
    coords = np.arange(-4.0, 5.0, 2.0)  # -4, -2, 0, 2, 4
    xs, ys = np.meshgrid(coords, coords, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def toy_std(name: str) -> float:
    """The standard deviation of every Gaussian of the mixture ``name`` (per coordinate)."""
    _check_name(name)
    return _STD[name]


def sample_toy(name: str, n: int, rng) -> np.ndarray:
    """``n`` samples of the mixture ``name``: float32 of shape (n, 2).

    ``rng`` is a ``numpy.random.Generator`` (an int seed is accepted too); the same generator state
    gives the same samples.
    """
    means, std = toy_means(name), toy_std(name)
    if int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    rng = np.random.default_rng(rng)  # returns a Generator unchanged
    modes = rng.integers(len(means), size=int(n))
    points = means[modes] + std * rng.standard_normal((int(n), 2))
    return points.astype(np.float32)
