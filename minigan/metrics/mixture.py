"""The 2-D mixture protocol of PacGAN / VEEGAN: captured modes, high-quality samples, reverse KL.

For samples x_1..x_N and mode means mu_1..mu_K of a mixture whose Gaussians have std s:
- a sample is high quality (HQ) if its distance to the nearest mean is below 3 s;
- a mode is captured if at least one HQ sample is nearest to it;
- q_k is the fraction of ALL samples nearest to mode k, and the reverse KL to the uniform mixture is
  KL(q || 1/K) = sum over q_k > 0 of q_k log(q_k K), between 0 (balanced) and log K (one mode).
Even perfect samples are not all HQ: in 2-D, P(|noise| < 3 s) = 1 - exp(-9/2) ≈ 0.989.

Evaluation runs on the host: it takes NumPy arrays (CuPy ones are copied over with backend.to_numpy).
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import to_numpy
from ..data.toy import toy_means, toy_std

SUMMARY_KEYS = ("modes", "hq_fraction", "rev_kl")


def _as_points(samples) -> np.ndarray:
    """``samples`` as float64 of shape (N, 2), N >= 1, refusing NaN and inf."""
    points = to_numpy(samples)
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] == 0:
        raise ValueError(f"samples must have shape (N, 2) with N >= 1, received shape {points.shape}")
    points = points.astype(np.float64)
    bad = int(np.count_nonzero(~np.isfinite(points).all(axis=1)))
    if bad:
        raise ValueError(f"{bad} of {len(points)} samples contain NaN or inf")
    return points


def evaluate_mixture(samples, means, std: float) -> dict:
    """Score ``samples`` (N, 2) against the mixture with ``means`` (K, 2) and per-Gaussian ``std``.

    Returns a JSON-ready dict: ``modes`` (captured, int), ``num_modes`` (K), ``num_samples`` (N),
    ``hq_fraction`` (in [0, 1]), ``rev_kl`` (float) and ``counts`` (list of K ints: samples nearest
    to each mode, HQ or not).
    """
    points = _as_points(samples)
    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 2 or means.shape[1] != 2 or means.shape[0] == 0:
        raise ValueError(f"means must have shape (K, 2) with K >= 1, received shape {means.shape}")
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}")

    # One pass per mode keeps memory at O(N) whatever K is; strict < sends ties to the lower index.
    nearest = np.zeros(len(points), dtype=np.int64)
    best_sq = np.full(len(points), np.inf)
    for k, mean in enumerate(means):
        sq = ((points - mean) ** 2).sum(axis=1)
        closer = sq < best_sq
        nearest[closer], best_sq[closer] = k, sq[closer]
    hq = best_sq < (3 * std) ** 2

    num_modes = len(means)
    counts = np.bincount(nearest, minlength=num_modes)
    captured = np.count_nonzero(np.bincount(nearest[hq], minlength=num_modes))
    q = counts[counts > 0] / len(points)
    return {
        "modes": int(captured),
        "num_modes": num_modes,
        "num_samples": len(points),
        "hq_fraction": float(hq.mean()),
        "rev_kl": float(np.sum(q * np.log(q * num_modes))),
        "counts": counts.tolist(),
    }


def evaluate_toy(samples, name: str) -> dict:
    """``evaluate_mixture`` against the toy set ``name`` ("ring8" or "grid25")."""
    return evaluate_mixture(samples, toy_means(name), toy_std(name))


def summarize(results) -> dict:
    """Mean and standard error over seeds of ``modes``, ``hq_fraction`` and ``rev_kl``.

    ``results`` is a list of ``evaluate_mixture`` dicts, one per seed. Returns
    ``{"num_seeds": n, key: {"mean": m, "stderr": s}}`` with s = std(ddof=1) / sqrt(n), and s = 0 for n = 1.
    """
    results = list(results)
    if not results:
        raise ValueError("summarize needs at least one result")
    n = len(results)
    summary = {"num_seeds": n}
    for key in SUMMARY_KEYS:
        values = np.array([r[key] for r in results], dtype=np.float64)
        stderr = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
        summary[key] = {"mean": float(values.mean()), "stderr": stderr}
    return summary
