"""Files on disk: atomic writes, and checkpoints that never unpickle.

Every write goes to a temporary file in the same folder, is flushed to disk,
then renamed over the target: a crash leaves the old file or the new one,
never half of one.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import backend


class CheckpointError(ValueError):
    """A checkpoint file that cannot be trusted: corrupt, truncated, or holding pickled objects."""


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, write) -> None:
    """Call ``write(file_object)`` on a temporary binary file, then rename it to ``path``.

    The file gets the permissions a plain ``open(path, "w")`` would give (0o666 less the umask),
    not mkstemp's private 0o600.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text(path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def write_json(path, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_arrays(path, arrays: dict) -> None:
    """Save ``name -> array`` (NumPy or CuPy arrays, Python numbers, strings) as an .npz, atomically."""
    host = {k: backend.to_numpy(v) for k, v in arrays.items()}
    for k, v in host.items():
        if v.dtype == object:
            raise TypeError(f"save_arrays: {k!r} is a Python object array; only numbers and strings are stored")
    atomic_write(path, lambda f: np.savez(f, **host))


def load_arrays(path) -> dict:
    """Load an .npz written by ``save_arrays``; never unpickles.

    Raises CheckpointError naming the file for: a missing file, a file that is not a valid
    .npz (truncated or corrupt), or an entry that holds pickled Python objects.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"checkpoint {path} is not a valid .npz archive (corrupt, truncated or not "
                              f"written by minigan)")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise CheckpointError(f"checkpoint {path} holds a pickled Python object; refusing to load it "
                                  f"(minigan checkpoints hold plain arrays only)") from exc
        raise CheckpointError(f"checkpoint {path} is corrupt: {exc}") from exc
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated ({type(exc).__name__}: {exc})") from exc
