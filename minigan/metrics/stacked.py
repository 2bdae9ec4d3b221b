"""The mode count of Stacked MNIST (Metz et al. 2017; VEEGAN; PacGAN's Table 2).

A sample of C channels is C digits, one per channel. The digit classifier (trained on the
single-channel images the set stacks) names each channel's digit, and the C digits name the
sample's mode, one of K^C (1,000 for three MNIST digits):  mode = sum_c digit_c K^(C-1-c).
Over N samples, q_m = (samples of mode m) / N, and the figures are
  modes          the number of modes with at least one sample (the papers' count; N = 26,000)
  kl_to_uniform  KL(q || uniform) = sum over q_m > 0 of q_m log(q_m K^C): 0 when every mode is
                 equally frequent, log K^C = 6.91 when every sample has the same mode.
"""
from __future__ import annotations

import numpy as np


def digits_of(images, classifier) -> np.ndarray:
    """The classifier's digit for each channel: images (N, C, H, W) -> int64 (N, C)."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"expected images (N, C, H, W), got shape {images.shape}")
    per_channel = [classifier.predict_proba(images[:, c:c + 1]).argmax(axis=1) for c in range(images.shape[1])]
    return np.stack(per_channel, axis=1).astype(np.int64)


def mode_ids(digits, num_classes: int) -> np.ndarray:
    """digits (N, C) in 0..K-1 -> the mode of each sample, int64 (N,) in 0..K^C - 1."""
    digits = np.asarray(digits, dtype=np.int64)
    weights = num_classes ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64)
    return digits @ weights


def mode_figures(ids, num_modes: int) -> dict:
    """{"modes": modes with a sample, "kl_to_uniform": KL(q || uniform over num_modes)} of ids (N,)."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) == 0 or ids.min() < 0 or ids.max() >= num_modes:
        raise ValueError(f"expected mode ids (N,) in 0..{num_modes - 1}, got shape {ids.shape}")
    q = np.bincount(ids, minlength=num_modes) / len(ids)
    present = q[q > 0]
    return {"modes": int(len(present)), "kl_to_uniform": float(np.sum(present * np.log(present * num_modes)))}


def format_mode_table(result: dict) -> str:
    """evaluate's stacked result as text: modes and KL, generated beside real stacked samples."""
    head = (f"{result['num_samples']} generated vs {result['num_samples']} real stacked samples "
            f"(of held-out digits), {result['num_modes']} modes; digit classifier held-out accuracy "
            f"{100 * result['classifier_accuracy']:.1f} %")
    rows = [("modes covered (of %d), higher better" % result["num_modes"], "modes"),
            ("KL of the mode histogram to uniform, lower better", "kl_to_uniform")]
    width = max(len(label) for label, _ in rows)
    lines = [head, f"{'figure':<{width}}  {'generated':>10}  {'real':>10}"]
    for label, key in rows:
        g, r = result["generated"][key], result["real"][key]
        lines.append(f"{label:<{width}}  {g if isinstance(g, int) else f'{g:.4g}':>10}  "
                     f"{r if isinstance(r, int) else f'{r:.4g}':>10}")
    return "\n".join(lines)
