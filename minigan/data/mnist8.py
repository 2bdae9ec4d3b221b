"""MNIST in the UCI digits' form (``mnist8``): the same kind of digits written by other people and normalised
another way, so a second domain beside ``digits`` (for translation between the two).

The UCI procedure (Alpaydin & Kaynak 1998, the digits' description): each 28x28 MNIST image is placed in
the middle of a 32x32 field (2 blank pixels on every side), thresholded (a pixel is on when its value
is above 127), and the on-pixels are counted in each of the 8x8 non-overlapping 4x4 blocks, giving
integers 0..16; these are scaled as ``digits`` is, x / 8 - 1, into [-1, 1]: float32 (N, 1, 8, 8).
"""
from __future__ import annotations

import numpy as np

THRESHOLD = 127  # on: a pixel value above it (0..255)


def to_uci_form(pixels: np.ndarray) -> np.ndarray:
    """uint8 (or integer) images (N, 28, 28) in 0..255 -> float32 (N, 1, 8, 8) in [-1, 1], as the module says."""
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[1:] != (28, 28):
        raise ValueError(f"mnist8: expected images (N, 28, 28), got {pixels.shape}")
    field = np.zeros((len(pixels), 32, 32), dtype=np.int64)
    field[:, 2:30, 2:30] = pixels > THRESHOLD
    counts = field.reshape(len(pixels), 8, 4, 8, 4).sum(axis=(2, 4))       # 0..16 per 4x4 block
    return (counts.astype(np.float32) / 8 - 1).reshape(-1, 1, 8, 8)


def from_scaled(images: np.ndarray) -> np.ndarray:
    """MNIST images as minigan loads them (float32 (N, 1, 28, 28), p / 127.5 - 1) back to their 0..255 values."""
    return np.rint((np.asarray(images, dtype=np.float64)[:, 0] + 1) * 127.5).astype(np.uint8)
