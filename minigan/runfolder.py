"""The files of a run folder, read and written; and who may write them.

A run folder holds (every file written atomically: a crash leaves the old file or the new one):
  config.json      every option needed to rebuild the models and continue
  checkpoint.npz   every model and optimiser, the step, the RNG state (no pickle)
  history.csv      one row of figures per logged step (the columns are the family's)
  frames.npz       the fixed pictures over training, the frames of progress.gif
  samples.png, losses.png, metrics.json, progress.gif, and a family's own pictures
  .lock            held (an advisory lock) by the one training that writes the folder

Two rules keep a run from being lost: ``minigan train`` into a folder that already holds a run is
refused unless it resumes it (``refuse_existing_run``), and a second training of one folder is
refused while the first holds its lock (``RunLock``; the operating system releases the lock when
the holder exits, crash included).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from . import options
from .storage import CheckpointError, load_arrays, save_arrays, write_text

CONFIG, CHECKPOINT, HISTORY, FRAMES, LOCK = "config.json", "checkpoint.npz", "history.csv", "frames.npz", ".lock"


def read_config(run_dir) -> dict:
    """The config.json of a run folder, checked (an old one gets the options it lacks at their defaults)."""
    path = Path(run_dir) / CONFIG
    if not Path(run_dir).is_dir():
        raise FileNotFoundError(f"{run_dir} is not a run folder: no such folder")
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder: {path} is missing")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise options.OptionError(f"{path} is not valid JSON ({exc}); expected the config.json minigan "
                                  f"train wrote") from exc
    if not isinstance(config, dict):
        raise options.OptionError(f"{path} holds a {type(config).__name__}; expected a JSON object of options")
    return options.validate(options.upgrade(config), dict.fromkeys(config, str(path)))


def refuse_existing_run(run_dir) -> None:
    """A new training must not overwrite a run: OptionError (one line) when ``run_dir`` holds one."""
    run_dir = Path(run_dir)
    if (run_dir / CONFIG).exists() or (run_dir / CHECKPOINT).exists():
        raise options.OptionError(f"--out {run_dir}: expected a new folder, but it holds a run already; "
                                  f"continue it with --resume, or choose another --out")


def restore(trainer, run_dir) -> dict:
    """Load the run's checkpoint.npz into ``trainer`` and return its arrays; CheckpointError if it is bad
    or does not fit."""
    path = Path(run_dir) / CHECKPOINT
    try:
        state = load_arrays(path)
        trainer.load_state_dict(state)
        return state
    except CheckpointError:
        raise
    except ValueError as exc:  # names or shapes that do not match the models of config.json
        raise CheckpointError(f"checkpoint {path} does not fit config.json: {exc}") from exc


def save_checkpoint(trainer, run_dir: Path, fields: tuple, history: list, frames: dict,
                    extra: dict | None = None) -> None:
    """checkpoint.npz (``trainer.state_dict()`` and the arrays in ``extra``), history.csv, frames.npz."""
    save_arrays(run_dir / CHECKPOINT, {**trainer.state_dict(), **(extra or {})})
    write_history(run_dir / HISTORY, fields, history)
    if frames:
        save_arrays(run_dir / FRAMES, {f"step_{s:09d}": f for s, f in frames.items()})


# -- history -------------------------------------------------------------------
def read_history(path, fields: tuple, upto_step: int) -> list:
    """Rows of history.csv with step <= upto_step (rows past the checkpoint were never saved with it);
    ``fields`` are the columns the run's family writes."""
    if not Path(path).is_file():
        return []
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ()) != tuple(fields):
                raise ValueError(f"expected the columns {', '.join(fields)}")
            rows = [{k: float(v) for k, v in row.items()} for row in reader]
    except (ValueError, TypeError, UnicodeDecodeError) as exc:  # a cell missing (None) or not a number
        raise ValueError(f"{path} is not a history.csv minigan wrote: {exc}") from exc
    for row in rows:
        row["step"] = int(row["step"])
    return [row for row in rows if row["step"] <= upto_step]


def write_history(path, fields: tuple, rows: list) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: row[k] for k in fields} for row in rows)
    write_text(path, buf.getvalue())


def read_frames(run_dir: Path, upto_step: int) -> dict:
    """step -> picture, as saved with the checkpoints (frames past it dropped)."""
    path = run_dir / FRAMES
    if not path.is_file():
        return {}
    return {int(k[5:]): v for k, v in load_arrays(path).items() if int(k[5:]) <= upto_step}


# -- the folder ------------------------------------------------------------------
def prepare_folder(run_dir: Path) -> None:
    """Create the run folder (and its parents); a clear error when that is impossible."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, no permission, a read-only disk
        raise OSError(f"cannot create the run folder {run_dir}: {exc.strerror or exc}") from exc
    if not run_dir.is_dir():
        raise OSError(f"cannot create the run folder {run_dir}: a file of that name is in the way")


class RunLock:
    """``with RunLock(run_dir):`` the one training allowed to write ``run_dir``.

    An exclusive, non-blocking advisory lock (flock) on run_dir/.lock: a second training of the
    folder is refused with one line (OptionError) while the first runs. The operating system drops
    the lock when the holder's process ends, so a crash or a kill -9 never leaves the folder locked.
    (Where flock does not exist, on Windows, the folder is not locked.)
    """

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK
        self._file = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # Windows: no flock
            return self
        self._file = open(self.path, "a")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._file.close()
            self._file = None
            raise options.OptionError(f"--out {self.path.parent}: another minigan train is writing this run "
                                      f"folder now; expected a folder no other training holds (wait for it "
                                      f"to finish, or choose another --out)") from None
        return self

    def __exit__(self, *exc):
        if self._file is not None:
            self._file.close()  # closing the file releases the lock
            self._file = None
        return False


SAMPLE_SUFFIXES = (".npy", ".png")


def check_output_file(out) -> Path:
    """``--out`` of a command writing arrays or a picture: OUT.npy or OUT.png in an existing folder."""
    out = Path(out)
    if out.suffix not in SAMPLE_SUFFIXES:
        raise options.OptionError(f"--out {out}: expected a file name ending in .npy or .png")
    if not out.parent.is_dir():
        raise options.OptionError(f"--out {out}: expected a file in an existing folder ({out.parent} is not one)")
    return out
