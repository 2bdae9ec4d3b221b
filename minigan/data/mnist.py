"""MNIST and Fashion-MNIST from their IDX files: read from a folder, or downloaded and verified.

Each set is four files: training images (60,000 x 28 x 28), training labels, test images
(10,000 x 28 x 28) and test labels. A file is looked for gzipped (its published name) or not (the
name without ``.gz``), and is used only when its MD5 matches a published digest (checked, and
downloaded, by ``fetch.py``):

- a ``.gz`` file: the digest of the ``.gz`` that the mirrors serve, or else the digest of its
  decompressed content (the same data re-compressed, e.g. with another gzip header, is still genuine);
- an uncompressed file: the digest of the decompressed content.

MNIST is by Yann LeCun, Corinna Cortes and Christopher Burges (CC BY-SA 3.0); Fashion-MNIST by
Han Xiao, Kashif Rasul and Roland Vollgraf, Zalando Research (MIT licence).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .fetch import DownloadError, fetch, verify  # noqa: F401  (DownloadError: what download raises)
from .fetch import default_data_dir
from .idx import DataFileError, read_idx

MNIST_SETS = ("mnist", "fashion-mnist")
SPLITS = ("train", "test", "all")


@dataclass(frozen=True)
class IdxFile:
    name: str        # published file name, gzipped
    size: int        # bytes of the .gz
    md5: str         # MD5 of the .gz, as published (torchvision, the Fashion-MNIST README)
    raw_md5: str     # MD5 of the decompressed file
    shape: tuple     # the array it holds

def _set(train_images, train_labels, test_images, test_labels) -> dict:
    """The four files of one set, keyed "train-images", "train-labels", "test-images", "test-labels"."""
    shapes = {"train-images": (60000, 28, 28), "train-labels": (60000,),
              "test-images": (10000, 28, 28), "test-labels": (10000,)}
    stems = {"train-images": "train-images-idx3-ubyte", "train-labels": "train-labels-idx1-ubyte",
             "test-images": "t10k-images-idx3-ubyte", "test-labels": "t10k-labels-idx1-ubyte"}
    given = {"train-images": train_images, "train-labels": train_labels,
             "test-images": test_images, "test-labels": test_labels}
    return {key: IdxFile(stems[key] + ".gz", *given[key], shapes[key]) for key in shapes}


# (size of the .gz, MD5 of the .gz, MD5 of the decompressed file) for each file.
FILES = {
    "mnist": _set(
        (9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
        (28881, "d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
        (1648877, "9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
        (4542, "ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
    ),
    "fashion-mnist": _set(
        (26421880, "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        (29515, "25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
        (4422102, "bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
        (5148, "bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
    ),
}
# Base URLs tried in order (torchvision's list); yann.lecun.com often refuses scripts, so it comes last.
MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}


def _files(name: str) -> dict:
    if name not in FILES:
        raise ValueError(f"unknown data set {name!r}: expected one of {MNIST_SETS}")
    return FILES[name]


# ------------------------------------------------------------------------------------------ checksums

_DELETE = "; delete it and pass --download to fetch a fresh copy"


def _verify(path: Path, entry: IdxFile) -> None:
    """Raise ChecksumError (a DataFileError) unless the local file ``path`` holds ``entry``'s published content.

    A ``.gz`` may be the published .gz or the same data in another gzip wrapper; an uncompressed file
    must be the published decompressed file. The message says to delete it (a download would replace it).
    """
    if path.name.endswith(".gz"):
        verify(path, md5=entry.md5, decompressed_md5=entry.raw_md5, size=entry.size, advice=_DELETE)
    else:
        verify(path, md5=entry.raw_md5, advice=_DELETE)


# ------------------------------------------------------------------------------------------ download

def download(name: str, file: str, dest_dir, mirrors=None, progress: bool = True) -> Path:
    """Download the published file ``file`` (e.g. "t10k-images-idx3-ubyte.gz") of set ``name`` into
    ``dest_dir`` and return its path.

    Tries each base URL of ``mirrors`` (default ``MIRRORS[name]``) in turn, through ``fetch.fetch``: the
    file is kept only when it is the published .gz or the published data in another gzip wrapper, and
    it lands under its final name only then. Raises DownloadError listing every mirror's failure when
    none delivers.
    """
    entries = {e.name: e for e in _files(name).values()}
    if file not in entries:
        raise ValueError(f"{name} has no file {file!r}: expected one of {sorted(entries)}")
    bases = MIRRORS[name] if mirrors is None else [mirrors] if isinstance(mirrors, str) else list(mirrors)
    if not bases:
        raise ValueError("download: no mirror given")
    entry = entries[file]
    return fetch([base.rstrip("/") + "/" + file for base in bases], Path(dest_dir) / file, md5=entry.md5,
                 decompressed_md5=entry.raw_md5, size=entry.size, what=f"{name} {file}", progress=progress)


# ------------------------------------------------------------------------------------------- loading

def read_images_labels(images_path, labels_path) -> tuple[np.ndarray, np.ndarray]:
    """One images file and its labels file in the MNIST layout, cross-checked (no checksum).

    Returns images float32 of shape (N, 1, 28, 28) scaled from 0..255 to [-1, 1] (x / 127.5 - 1),
    and labels int64 of shape (N,) in 0..9.
    """
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataFileError(f"{images_path}: expected uint8 images of shape (N, 28, 28), "
                            f"found {images.dtype} of shape {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataFileError(f"{labels_path}: expected uint8 labels of shape (N,), "
                            f"found {labels.dtype} of shape {labels.shape}")
    if len(images) != len(labels):
        raise DataFileError(f"{images_path} holds {len(images):,} images but {labels_path} holds "
                            f"{len(labels):,} labels: they must be the same count")
    if labels.size and labels.max() > 9:
        raise DataFileError(f"{labels_path}: labels must lie in 0..9, found {labels.min()}..{labels.max()}")
    scaled = images.astype(np.float32) / np.float32(127.5) - np.float32(1)
    return scaled.reshape(-1, 1, 28, 28), labels.astype(np.int64)


def _find(folder: Path, entry: IdxFile) -> Path | None:
    for path in (folder / entry.name, folder / entry.name.removesuffix(".gz")):
        if path.is_file():
            return path
    return None


def has_split(name: str, split: str, data_dir=None) -> bool:
    """Whether both files of ``split`` ("train" or "test") of set ``name`` are in ``data_dir`` (not verified)."""
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir(name)
    return all(_find(folder, _files(name)[key]) for key in _keys(split))


def _keys(part: str) -> tuple[str, str]:
    return f"{part}-images", f"{part}-labels"


_download_file = download  # load_mnist's ``download`` flag shadows the function there
_WORDS = {"train": "training", "test": "test"}


def load_mnist(name: str = "mnist", split: str = "train", data_dir=None, download: bool = False,
               mirrors=None, log=print) -> tuple[np.ndarray, np.ndarray, dict]:
    """Set ``name`` ("mnist" or "fashion-mnist") as ``(images, labels, info)``.

    images: float32 (N, 1, 28, 28) in [-1, 1]; labels: int64 (N,). ``split`` is "train" (60,000),
    "test" (10,000) or "all" (both, training images first). Files are read from ``data_dir`` (default
    ``default_data_dir(name)``); missing ones are downloaded there when ``download`` is true (from
    ``mirrors``, default ``MIRRORS[name]``). Without ``download``, a split whose files are missing is
    left out and ``log`` says so in one sentence; "train" then falls back to the test split, so the
    10,000 test images alone (all that some machines have) are still usable.

    info: {"name", "requested_split", "split" (what was loaded: "train", "test" or "all"), "count",
    "files" (the paths read), "data_dir", "downloaded" (file names fetched now), "note" (the fallback
    sentence, or None)}.
    """
    files = _files(name)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: expected one of {SPLITS}")
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir(name)
    wanted = ["train", "test"] if split == "all" else [split]
    found = {key: _find(folder, entry) for key, entry in files.items()}
    downloaded = []
    for key in (k for part in wanted for k in _keys(part)):
        if download and found[key] is None:
            found[key] = _download_file(name, files[key].name, folder, mirrors)  # verified on arrival
            downloaded.append(files[key].name)

    complete = [part for part in ("train", "test") if all(found[k] for k in _keys(part))]
    used = [part for part in wanted if part in complete]
    if not used and split == "train" and "test" in complete:
        used = ["test"]
    missing = [files[k].name for part in wanted for k in _keys(part) if found[k] is None]
    if not used:
        raise FileNotFoundError(f"{name}: {', '.join(missing)} not in {folder}; pass --download to fetch "
                                f"{'it' if len(missing) == 1 else 'them'}, or --data-dir to read another folder")
    for key in (k for part in used for k in _keys(part)):
        if files[key].name not in downloaded:
            _verify(found[key], files[key])

    arrays = [read_images_labels(*(found[k] for k in _keys(part))) for part in used]
    images = np.concatenate([a[0] for a in arrays]) if len(arrays) > 1 else arrays[0][0]
    labels = np.concatenate([a[1] for a in arrays]) if len(arrays) > 1 else arrays[0][1]
    note = None
    if used != wanted:
        lacking = next(part for part in ("train", "test") if part not in used)
        using = (f"the {len(images):,} {_WORDS[used[0]]} images instead" if split == "train"
                 else f"only the {len(images):,} {_WORDS[used[0]]} images")
        need = files[f"{lacking}-images"].shape[0]
        note = (f"{name}: {', '.join(missing)} not in {folder}; using {using} "
                f"(pass --download to fetch the {need:,} {_WORDS[lacking]} images)")
        log(note)
    info = {"name": name, "requested_split": split, "split": "all" if len(used) == 2 else used[0],
            "count": len(images), "files": [str(found[k]) for part in used for k in _keys(part)],
            "data_dir": str(folder), "downloaded": downloaded, "note": note}
    return images, labels, info
