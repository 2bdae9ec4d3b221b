"""The embedded UCI 8x8 handwritten digits (1,797 images), the default training set.

Source: "Optical Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak, UCI Machine Learning
Repository, 1998, licensed CC BY 4.0 (see ``digits-description.rst`` next to this file). The data ship
inside the package as ``digits.csv.gz``: one image per line, 64 pixel values in 0..16 then the label 0..9.
"""
from __future__ import annotations

import gzip
import io
import zlib
from importlib import resources
from pathlib import Path

import numpy as np

NUM_COLUMNS = 65  # 8 * 8 pixels + the label
MAX_PIXEL = 16

_cache: tuple[np.ndarray, np.ndarray] | None = None  # parsed packaged file, filled on first use


def _packaged_file():
    return resources.files(__package__).joinpath("digits.csv.gz")


def _parse(source) -> tuple[np.ndarray, np.ndarray]:
    """Read and validate one digits file; any decoding or format problem is a ValueError naming it."""
    raw = source.read_bytes()  # a missing file stays a FileNotFoundError
    try:
        text = gzip.decompress(raw).decode("ascii")
        if not text.strip():  # loadtxt would only warn
            raise ValueError("it holds no data")
        table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"digits file {source} is corrupt: {exc}") from exc
    if table.shape[0] == 0 or table.shape[1] != NUM_COLUMNS:
        raise ValueError(f"digits file {source} is corrupt: expected rows of {NUM_COLUMNS} columns "
                         f"(64 pixels + label), got a table of shape {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > MAX_PIXEL:
        raise ValueError(f"digits file {source} is corrupt: pixel values must lie in 0..{MAX_PIXEL}, "
                         f"found {pixels.min()}..{pixels.max()}")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"digits file {source} is corrupt: labels must lie in 0..9, "
                         f"found {labels.min()}..{labels.max()}")
    # x / 8 - 1 is exact in float32 for the integers 0..16, so the range is exactly [-1, 1].
    images = (pixels.astype(np.float32) / 8 - 1).reshape(-1, 1, 8, 8)
    return images, labels


def load_digits(path=None) -> tuple[np.ndarray, np.ndarray]:
    """The digits as ``(images, labels)``.

    images: float32 of shape (1797, 1, 8, 8), scaled from 0..16 to [-1, 1]; labels: int64 of shape (1797,).
    ``path`` reads another file of the same format instead of the packaged one (uncached).
    Each call returns fresh copies, so a caller may modify them freely.
    """
    global _cache
    if path is not None:
        return _parse(Path(path))
    if _cache is None:
        images, labels = _parse(_packaged_file())
        images.flags.writeable = labels.flags.writeable = False
        _cache = images, labels
    return _cache[0].copy(), _cache[1].copy()
