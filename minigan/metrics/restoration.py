"""Restoration scored: the fills that need no GAN (the baselines) and the two figures every restoration gets.

For images (N, C, H, W) in [-1, 1] and a mask broadcasting to them (1 = visible, 0 = hidden):
  background_fill         the hidden pixels set to -1 (the digits' background)
  nearest_neighbour_fill  the hidden pixels of the TRAINING image nearest on the visible ones
  score                   the classifier's accuracy on the restorations, and the mean squared error over
                          the hidden pixels
All host-side NumPy (float64 sums), as the rest of ``minigan.metrics``.
"""
from __future__ import annotations

import numpy as np


def background_fill(images, mask, value: float = -1.0):
    """The hidden pixels (mask 0) set to ``value``; images (N, C, H, W), mask broadcastable to them."""
    return np.where(mask > 0, images, np.float32(value)).astype(np.float32)


def nearest_neighbour_fill(images, mask, train, batch: int = 256):
    """The hidden pixels of each image from the training image nearest on its VISIBLE pixels:
    argmin_t sum_j m_ij (x_ij - t_j)^2, expanded as |m x|^2 - 2 (m x) . t + m . t^2 (one matrix product
    each, per-image masks allowed). images (N, C, H, W), mask broadcastable, train (T, C, H, W)."""
    mask = np.broadcast_to(mask, images.shape).astype(np.float64)
    t = train.reshape(len(train), -1).astype(np.float64)
    out = np.empty_like(images, dtype=np.float32)
    for a in range(0, len(images), batch):
        m = mask[a:a + batch].reshape(-1, t.shape[1])
        mx = m * images[a:a + batch].reshape(-1, t.shape[1])
        dist = (mx * mx).sum(1, keepdims=True) - 2 * mx @ t.T + m @ (t * t).T
        nearest = train[dist.argmin(axis=1)]
        out[a:a + batch] = np.where(mask[a:a + batch] > 0, images[a:a + batch], nearest)
    return out


def score(restored, clean, labels, mask, classifier) -> dict:
    """accuracy: the share of restorations the classifier reads as the true label; masked_mse: the
    mean of (restored - clean)^2 over the hidden pixels (mask 0) of every image."""
    hidden = np.broadcast_to(mask, clean.shape) == 0
    accuracy = float((classifier.predict_proba(restored).argmax(axis=1) == labels).mean())
    error = ((restored.astype(np.float64) - clean) ** 2)[hidden]
    return {"accuracy": accuracy, "masked_mse": float(error.mean()) if error.size else 0.0}
