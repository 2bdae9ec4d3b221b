"""2-D Gaussian mixtures (the PacGAN sets ``ring8`` and ``grid25`` are registered in ``sets.py``).

Each sample picks its mode uniformly at random, then adds isotropic Gaussian noise of the
mixture's std. Data code runs on the host, so it uses NumPy directly; the trainer moves batches
to the backend.
"""
from __future__ import annotations

import numpy as np

from . import registry


def ring_means(k: int, radius: float = 1.0) -> np.ndarray:
    """k means evenly spaced on a circle: (r cos 2πj/k, r sin 2πj/k), j = 0..k-1; float64 (k, 2)."""
    angles = 2 * np.pi * np.arange(k) / k
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_means(coords) -> np.ndarray:
    """The means of a square grid, every (x, y) with x, y in ``coords``; float64 (len(coords)**2, 2)."""
    xs, ys = np.meshgrid(np.asarray(coords, dtype=np.float64), np.asarray(coords, dtype=np.float64),
                         indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def _mixture(name: str) -> registry.DataSet:
    if name not in registry.names("points"):
        raise ValueError(f"unknown toy data set {name!r}: expected one of {registry.names('points')}")
    return registry.get(name)


def toy_means(name: str) -> np.ndarray:
    """The mode means of the mixture ``name``: float64 of shape (K, 2)."""
    return np.array(_mixture(name).means, dtype=np.float64)


def toy_std(name: str) -> float:
    """The standard deviation of every Gaussian of the mixture ``name`` (per coordinate)."""
    return _mixture(name).std


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
