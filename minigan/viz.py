"""Pictures: sample grids, 2-D scatters over the true modes, training curves.

matplotlib is imported inside each function (with the file-only Agg backend, unless
the caller already uses pyplot: a notebook keeps its inline backend), so ``import
minigan`` stays fast. Every figure is written atomically.
"""
from __future__ import annotations

import io
import math
import sys

from .storage import atomic_write


def _pyplot():
    import matplotlib
    if "matplotlib.pyplot" not in sys.modules:   # else keep the caller's backend
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    _pyplot().close(fig)
    atomic_write(path, lambda f: f.write(buf.getvalue()))


def image_grid(images, nrow: int | None = None, pad: int = 1):
    """Tile images (N, C, H, W) in [-1, 1] into one (rows*(H+pad)+pad, cols*(W+pad)+pad[, 3]) array in [0, 1]."""
    import numpy as np  # host-side picture assembly

    images = np.asarray(images, dtype=np.float32)
    n, c, h, w = images.shape
    cols = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.ones((c, rows * (h + pad) + pad, cols * (w + pad) + pad), dtype=np.float32)
    for k in range(n):
        r, q = divmod(k, cols)
        grid[:, pad + r * (h + pad):pad + r * (h + pad) + h, pad + q * (w + pad):pad + q * (w + pad) + w] = images[k]
    grid = np.clip((grid + 1) / 2, 0, 1)
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def side_by_side(*columns):
    """Images (N, C, H, W) of equal shape placed left to right per row, a white bar (value 1) between:
    (N, C, H, k W + k - 1), float32 NumPy; e.g. input | output | true counterpart."""
    import numpy as np

    columns = [np.asarray(c, dtype=np.float32) for c in columns]
    bar = np.ones(columns[0].shape[:3] + (1,), dtype=np.float32)
    parts = [columns[0]]
    for column in columns[1:]:
        parts += [bar, column]
    return np.concatenate(parts, axis=3)


def save_image_grid(images, path, title: str = "", nrow: int | None = None) -> None:
    """Save samples (N, C, H, W) in [-1, 1] as a PNG grid (``nrow`` images a row; default: a square)."""
    plt = _pyplot()
    grid = image_grid(images, nrow)
    fig, ax = plt.subplots(figsize=(6, 6 * grid.shape[0] / grid.shape[1] + 0.3))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    _save(fig, path)


def save_scatter(points, means, path, title: str = "") -> None:
    """Save 2-D samples (N, 2) as a scatter, with the true mode means (K, 2) marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, label="generated")
    ax.scatter(means[:, 0], means[:, 1], s=40, marker="x", color="red", label="true modes")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    _save(fig, path)


def save_history_plot(history: list, path) -> None:
    """Plot a run's figures (rows keyed by name) against the step, in three panels: the losses (keys
    with "loss", "reconstruction" or "kl", "l1"), the mean D outputs (keys starting "d_"), the
    gradient norms (keys starting "grad_norm", log scale). A panel with no such figure is left out."""
    plt = _pyplot()
    steps = [row["step"] for row in history]
    keys = [k for k in history[0] if k not in ("step", "seconds")]
    panels = [("losses", [k for k in keys if "loss" in k or k in ("reconstruction", "kl", "l1")], False),
              ("mean D output", [k for k in keys if k.startswith("d_")], False),
              ("gradient norm", [k for k in keys if k.startswith("grad_norm")], True)]
    panels = [p for p in panels if p[1]]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.7 * len(panels)), sharex=True, squeeze=False)
    for ax, (title, names, log) in zip(axes[:, 0], panels):
        for key in names:
            ax.plot(steps, [row[key] for row in history], label=key, linewidth=1)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
        if log:
            ax.set_yscale("log")
    axes[-1, 0].set_xlabel("training step")
    fig.tight_layout()
    _save(fig, path)


def save_gif(frames: list, steps: list, path, fps: int = 5) -> None:
    """Animate image-grid frames (each an array from ``image_grid``) into a GIF with Pillow, atomically."""
    import os
    import tempfile

    plt = _pyplot()
    from matplotlib.animation import FuncAnimation, PillowWriter

    fig, ax = plt.subplots(figsize=(4, 4.3))
    ax.set_axis_off()
    shown = ax.imshow(frames[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    title = ax.set_title(f"step {steps[0]}")

    def draw(i):
        shown.set_data(frames[i])
        title.set_text(f"step {steps[i]}")
        return shown, title

    animation = FuncAnimation(fig, draw, frames=len(frames))
    try:
        with tempfile.TemporaryDirectory() as scratch:  # Pillow's writer wants a file name
            tmp = os.path.join(scratch, "progress.gif")
            animation.save(tmp, writer=PillowWriter(fps=fps))
            with open(tmp, "rb") as f:
                gif = f.read()
    finally:
        plt.close(fig)
    atomic_write(path, lambda f: f.write(gif))
