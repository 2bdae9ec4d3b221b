"""Your own pictures: every PNG and JPEG file under a folder, as images of one size.

``load_folder(data_dir, image_size, channels)`` searches ``data_dir`` recursively for ``.png``,
``.jpg`` and ``.jpeg`` files (any case), sorted by their path relative to ``data_dir`` (the canonical
order that ``--holdout`` counts from). Each picture is, with Pillow:
  - composited on white where it has transparency (as the emoji are), then made RGB (``channels`` 3)
    or grey (``channels`` 1, ITU-R 601 luma, Pillow's "L");
  - centre-cropped to a square of its shorter side;
  - resized to ``image_size`` x ``image_size`` (Lanczos: antialiased when shrinking);
  - scaled x / 127.5 - 1: float32 (channels, S, S) in [-1, 1].
A file that Pillow cannot read refuses the whole set, naming the file: a training set never silently
loses pictures. The pictures have no labels.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .idx import DataFileError

SUFFIXES = (".png", ".jpg", ".jpeg")
CHANNELS = (1, 3)


def picture_files(data_dir) -> list[Path]:
    """The picture files under ``data_dir``, sorted by relative path; FileNotFoundError when there are none."""
    if data_dir is None:
        raise FileNotFoundError("the folder data set reads your pictures: pass --data-dir DIR (a folder of "
                                "PNG or JPEG files)")
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"--data-dir {root}: not a folder; expected a folder of PNG or JPEG files")
    files = sorted((p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()),
                   key=lambda p: p.relative_to(root).as_posix())
    if not files:
        raise FileNotFoundError(f"--data-dir {root}: no .png, .jpg or .jpeg file in it or below it")
    return files


def read_picture(path: Path, image_size: int, channels: int) -> np.ndarray:
    """One picture as float32 (channels, S, S) in [-1, 1], as the module docstring says."""
    from PIL import Image, UnidentifiedImageError  # reading pictures, not importing minigan, needs Pillow

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                image = Image.alpha_composite(white, rgba)
            image = image.convert("RGB" if channels == 3 else "L")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataFileError(f"{path}: not a readable PNG or JPEG picture ({exc}); fix or remove it") from None
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    square = image.crop((left, top, left + side, top + side)).resize((image_size, image_size),
                                                                      Image.Resampling.LANCZOS)
    pixels = np.asarray(square, dtype=np.float32).reshape(image_size, image_size, channels)
    return (pixels / np.float32(127.5) - np.float32(1)).transpose(2, 0, 1)


def load_folder(data_dir, image_size: int = 32, channels: int = 3) -> np.ndarray:
    """Every picture under ``data_dir``: float32 (N, channels, S, S) in [-1, 1], in canonical order."""
    if channels not in CHANNELS:
        raise ValueError(f"--channels {channels}: expected one of {CHANNELS}")
    files = picture_files(data_dir)
    return np.stack([read_picture(path, image_size, channels) for path in files])
