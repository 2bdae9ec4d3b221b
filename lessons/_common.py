"""Plumbing shared by the lessons (not a lesson): command line, checks, figures, exit status.

Every lesson imports this module FIRST (before numpy: it limits BLAS to one thread unless
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are set, see below), then starts with

    lesson = Lesson(__file__, __doc__)

which parses the command line every lesson takes:

    --quick              a short run (under a minute on a 2-core CPU); the tests use it
    --backend numpy|cupy the array backend (default: $MINIGAN_BACKEND, else numpy)
    --out DIR            where the figures go (default: lesson_output/<lesson name>/ in the current folder)
    --seed S             the seed of every random draw (default 0)

and ends with ``lesson.finish()``, which prints where the figures went and exits with status 1 if any
check failed (0 otherwise). A check is a claim the lesson makes, tested on numbers it just computed:

    lesson.check("analytic vs numeric gradient (rel err)", err, 1e-7)    passes if err <= 1e-7
    lesson.check_that("Adam beats SGD", adam_loss < sgd_loss, f"{adam_loss:.1e} < {sgd_loss:.1e}")

A lesson that stops verifying what it teaches fails the test suite.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

# One BLAS thread unless the user says otherwise (this must happen before NumPy is imported, so a lesson
# imports _common first). The lessons multiply small matrices: on a busy 2-core machine OpenBLAS's
# spinning worker threads made lessons 08 and 13 take ~140 s instead of ~10 s. To use more threads:
# OPENBLAS_NUM_THREADS=4 python lessons/05_conv_im2col.py
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

LESSONS_DIR = Path(__file__).resolve().parent
REPO = LESSONS_DIR.parent
# Run from a source checkout, a lesson uses that checkout's minigan even when it is not installed
# (and whatever the current folder is).
if (REPO / "minigan" / "__init__.py").is_file() and str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # figures go to files only: no display needed, works over ssh and in tests
import matplotlib.pyplot as plt  # noqa: E402

from minigan import backend  # noqa: E402


def _marks():
    """A tick and a cross where the terminal can print them, plain words where it cannot."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗".encode(encoding)
        return "✓", "✗ FAILED"
    except (UnicodeEncodeError, LookupError):
        return "ok", "FAILED"


PASS, FAIL = _marks()


class Lesson:
    """One lesson's run: its options, its checks, its figures."""

    def __init__(self, file: str, doc: str | None = None, argv=None):
        self.name = Path(file).stem                      # e.g. "01_dense_backprop"
        self.number = self.name.split("_", 1)[0]
        title = (doc or self.name).strip().splitlines()[0]
        parser = argparse.ArgumentParser(
            prog=f"python lessons/{self.name}.py", description=title,
            epilog="The lesson itself is the docstring at the top of the file: read it first.")
        parser.add_argument("--quick", action="store_true",
                            help="a short run (under a minute on a 2-core CPU); the tests run every lesson so")
        parser.add_argument("--backend", choices=backend.BACKENDS, default=None,
                            help="array backend (default: $MINIGAN_BACKEND, else numpy)")
        parser.add_argument("--out", default=None,
                            help=f"folder for the figures (default: lesson_output/{self.name} in the current folder)")
        parser.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
        self.args = parser.parse_args(argv)
        self.quick = self.args.quick
        self.seed = self.args.seed
        try:
            self.xp = backend.use(self.args.backend or backend.name)
        except RuntimeError as exc:  # cupy asked for without CuPy or a GPU: say how to fix it
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)
        self.backend = backend.name
        self.out = Path(self.args.out) if self.args.out else Path.cwd() / "lesson_output" / self.name
        self.out.mkdir(parents=True, exist_ok=True)
        self.results: list[tuple[str, bool]] = []
        self.figures: list[Path] = []
        self._start = time.perf_counter()
        backend.seed(self.seed)
        mode = "quick" if self.quick else "full"
        print(f"{title}\n(backend {self.backend}, {mode} run, seed {self.seed}; "
              f"the explanation is the docstring of {Path(file).name})")

    # -- narration ----------------------------------------------------------
    @staticmethod
    def section(title: str) -> None:
        print(f"\n== {title} ==")

    # -- checks ---------------------------------------------------------------
    def check(self, name: str, value: float, tol: float) -> bool:
        """Pass if ``value`` (an error, >= 0) is at most ``tol``; NaN fails. Prints one line."""
        value = float(value)
        ok = math.isfinite(value) and value <= tol
        print(f"  {name}: {value:.1e} (tolerance {tol:.0e}) {PASS if ok else FAIL}")
        self.results.append((name, ok))
        return ok

    def check_that(self, name: str, ok: bool, detail: str = "") -> bool:
        """Pass if ``ok`` is true; ``detail`` shows the numbers behind the claim. Prints one line."""
        ok = bool(ok)
        print(f"  {name}: {detail + ' ' if detail else ''}{PASS if ok else FAIL}")
        self.results.append((name, ok))
        return ok

    # -- figures --------------------------------------------------------------
    def path(self, filename: str) -> Path:
        """The path of an output file in the lesson's folder (recorded for the final listing)."""
        p = self.out / filename
        self.figures.append(p)
        return p

    def savefig(self, fig, filename: str) -> Path:
        """Save a matplotlib figure as PNG in the output folder and close it."""
        p = self.path(filename)
        fig.tight_layout()
        fig.savefig(p, dpi=100)
        plt.close(fig)
        return p

    # -- the end ----------------------------------------------------------------
    def finish(self):
        """Print the figures and the verdict; exit 1 if any check failed or none ran, else 0."""
        seconds = time.perf_counter() - self._start
        print(f"\nfigures written to {self.out.resolve()}{os.sep}:")
        missing = []
        for p in self.figures:
            exists = p.is_file()
            print(f"  {p.name}{'' if exists else '  (MISSING)'}")
            if not exists:
                missing.append(p.name)
        failed = [name for name, ok in self.results if not ok]
        if missing:
            failed.append(f"figures not written: {missing}")
        if not self.results:
            failed.append("no check ran")
        if failed:
            print(f"\n{len(failed)} of {len(self.results)} checks FAILED ({seconds:.1f} s):")
            for name in failed:
                print(f"  - {name}")
            sys.exit(1)
        print(f"\nall {len(self.results)} checks passed {PASS} ({seconds:.1f} s)")
        sys.exit(0)


def timeit(fn, repeats: int = 3, warmup: int = 1) -> float:
    """Best wall time of ``fn()`` in seconds over ``repeats`` runs (GPU work waited for).

    The minimum, not the mean: on a shared machine the noise only ever adds time.
    """
    for _ in range(warmup):
        fn()
    backend.synchronize()
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        backend.synchronize()
        best = min(best, time.perf_counter() - t)
    return best
