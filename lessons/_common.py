"""Plumbing shared by the lessons (not a lesson): command line, checks, exercises.

Every lesson imports this module FIRST (before numpy: it limits BLAS to one thread
unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are set, see below), then starts with

    lesson = Lesson("04_batchnorm_backward")      # the lesson's file name, without .py

which reads the command line every lesson takes:

    --quick            a short run (under a minute on a 2-core CPU); the tests use it
    --backend B        numpy or cupy (default: $MINIGAN_BACKEND, else numpy)
    --out DIR          where the figures go (default: lesson_output/<name>/ here)
    --seed S           the seed of every random draw (default 0)
    --explain          print the lesson's text (its markdown cells) and exit
    --exercise [FILE]  run the checks on YOUR functions (lessons/exercises/<name>.py)

and ends with ``lesson.finish()``, which prints where the figures went and exits with
status 1 if any check failed (0 otherwise). A check is a claim the lesson makes, tested
on numbers it just computed:

    lesson.check("analytic vs numeric gradient (rel err)", err, 1e-7)  # err <= 1e-7
    lesson.check_that("Adam beats SGD", adam < sgd, f"{adam:.1e} < {sgd:.1e}")

A lesson that stops verifying what it teaches fails the test suite.

Every lesson is also a notebook (a Jupytext "percent" script). In a Jupyter kernel there
is no command line: the environment decides instead, MINIGAN_QUICK=1 for the quick run,
MINIGAN_EXERCISE=1 (or a file) for the exercises, MINIGAN_BACKEND for the backend; the
figures are shown under their cells, and a failed check raises LessonFailed.
"""
from __future__ import annotations

import argparse
import functools
import importlib.util
import math
import os
import sys
import time
from pathlib import Path

# One BLAS thread unless the user says otherwise (this must happen before NumPy is
# imported, so a lesson imports _common first). The lessons multiply small matrices: on
# a busy 2-core machine OpenBLAS's spinning worker threads made lessons 08 and 13 take
# ~140 s instead of ~10 s. To use more: OPENBLAS_NUM_THREADS=4 python lessons/05_*.py
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

LESSONS_DIR = Path(__file__).resolve().parent
EXERCISES_DIR = LESSONS_DIR / "exercises"
REPO = LESSONS_DIR.parent
# Run from a source checkout, a lesson uses that checkout's minigan even when it is not
# installed (and whatever the current folder is).
if (REPO / "minigan" / "__init__.py").is_file() and str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# In a Jupyter kernel the figures are drawn under their cells; elsewhere they go to
# files only (the Agg backend: no display needed, works over ssh and in tests).
IN_NOTEBOOK = "ipykernel" in sys.modules

import matplotlib  # noqa: E402

if not IN_NOTEBOOK:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from minigan import backend  # noqa: E402


def _marks():
    """A tick and a cross where the terminal can print them, plain words where not."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗".encode(encoding)
        return "✓", "✗ FAILED"
    except (UnicodeEncodeError, LookupError):
        return "ok", "FAILED"


PASS, FAIL = _marks()


class LessonFailed(AssertionError):
    """Raised in a notebook where a script would exit with status 1."""


def markdown_cells(path: Path) -> list[str]:
    """The text of a percent script's ``# %% [markdown]`` cells, without the ``# ``."""
    cells, current = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            current = [] if line.startswith("# %% [markdown]") else None
            if current is not None:
                cells.append(current)
        elif current is not None:
            current.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
    return ["\n".join(cell).strip() for cell in cells]


def _env_flag(name: str) -> str | None:
    """The value of an on/off environment variable; None when unset, empty or 0."""
    value = os.environ.get(name, "").strip()
    return None if value in ("", "0") else value


class Lesson:
    """One lesson's run: its options, its checks, its figures, its exercises."""

    def __init__(self, name: str, argv: list[str] | None = None):
        self.name = name                                  # e.g. "01_dense_backprop"
        self.number = name.split("_", 1)[0]
        # the script being run if it is this lesson (even a copy elsewhere), else ours
        script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
        is_script = script is not None and script.stem == name and script.is_file()
        self.file = script if is_script else LESSONS_DIR / f"{name}.py"
        if not self.file.is_file():
            raise ValueError(f"Lesson({name!r}): there is no {self.file}")
        text = markdown_cells(self.file)
        title = text[0].splitlines()[0].lstrip("# ") if text else name
        default_exercises = EXERCISES_DIR / f"{name}.py"
        parser = argparse.ArgumentParser(
            prog=f"python lessons/{name}.py", description=title,
            epilog="The lesson's text: --explain, or open the file as a notebook.")
        parser.add_argument("--quick", action="store_true",
                            default=bool(_env_flag("MINIGAN_QUICK")),
                            help="a short run (under a minute on a 2-core CPU; also "
                                 "MINIGAN_QUICK=1); the tests run every lesson so")
        parser.add_argument("--backend", choices=backend.BACKENDS, default=None,
                            help="array backend (default: $MINIGAN_BACKEND, else "
                                 "numpy)")
        parser.add_argument("--out", default=None,
                            help="folder for the figures (default: "
                                 f"lesson_output/{name} in the current folder)")
        parser.add_argument("--seed", type=int, default=0,
                            help="seed of every random draw (default 0)")
        parser.add_argument("--explain", action="store_true",
                            help="print the lesson's text and exit")
        parser.add_argument("--exercise", nargs="?", metavar="FILE",
                            const=str(default_exercises), default=_exercise_env(name),
                            help="run the lesson's checks on your functions in FILE "
                                 f"(default lessons/exercises/{name}.py; also "
                                 "MINIGAN_EXERCISE=1)")
        # A Jupyter kernel's own command line is not the lesson's.
        self.args = parser.parse_args([] if argv is None and IN_NOTEBOOK else argv)
        if self.args.explain:
            try:
                print("\n\n".join(text), flush=True)
            except BrokenPipeError:  # --explain | head: the reader had enough
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        self.exercise_file = Path(self.args.exercise) if self.args.exercise else None
        if self.exercise_file is not None and not self.exercise_file.is_file():
            have = sorted(p.stem for p in EXERCISES_DIR.glob("[0-9][0-9]_*.py"))
            self.stop(f"no exercise file {self.exercise_file}: lesson {self.number} "
                       f"has exercises only if lessons/exercises/{name}.py exists "
                       f"(these do: {', '.join(have) or 'none'})", status=2)
        self.quick = self.args.quick
        self.seed = self.args.seed
        try:
            self.xp = backend.use(self.args.backend or backend.name)
        except RuntimeError as exc:  # cupy without CuPy or a GPU: say how to fix it
            self.stop(f"error: {exc}", status=2)
        self.backend = backend.name
        self.out = (Path(self.args.out) if self.args.out
                    else Path.cwd() / "lesson_output" / name)
        self.out.mkdir(parents=True, exist_ok=True)
        self.results: list[tuple[str, bool]] = []
        self.figures: list[Path] = []
        self._start = time.perf_counter()
        backend.seed(self.seed)
        mode = "quick" if self.quick else "full"
        print(f"{title}\n(backend {self.backend}, {mode} run, seed {self.seed}; "
              f"the text: python lessons/{name}.py --explain)")
        if self.exercise_file is not None:
            print("exercise mode: the checks run on your functions in "
                  f"{self.exercise_file}")

    # -- narration ------------------------------------------------------------------
    @staticmethod
    def section(title: str) -> None:
        print(f"\n== {title} ==")

    # -- exercises ------------------------------------------------------------------
    def exercises(self, *library_functions):
        """The functions a student writes: the library's, or with --exercise theirs.

        Pass the lesson's own versions (built on minigan); each is returned as is, or,
        in exercise mode, replaced by the function of the same name in the exercise
        file. One function in, one out; several in, a tuple out.
        """
        if self.exercise_file is None:
            chosen = library_functions
        else:
            module = self._load_exercises()
            chosen = []
            for library_fn in library_functions:
                student_fn = getattr(module, library_fn.__name__, None)
                if not callable(student_fn):
                    self.stop(f"exercise {self.number}: {self.exercise_file} defines "
                               f"no function {library_fn.__name__}(): write it there")
                chosen.append(self._guard(student_fn))
        return chosen[0] if len(chosen) == 1 else tuple(chosen)

    def _load_exercises(self):
        spec = importlib.util.spec_from_file_location(
            f"exercise_{self.name}", self.exercise_file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def _guard(self, student_fn):
        """The student's function, which stops the lesson in one line while a stub."""
        @functools.wraps(student_fn)
        def guarded(*args, **kwargs):
            try:
                return student_fn(*args, **kwargs)
            except NotImplementedError as exc:
                todo = f" ({exc})" if str(exc) else ""
                self.stop(f"exercise {self.number}: write {student_fn.__name__}() in "
                           f"{self.exercise_file}: it still raises "
                           f"NotImplementedError{todo}")
        return guarded

    def stop(self, message: str, status: int = 1):
        """Print one line and exit ``status`` (a script), or raise (a notebook).

        For a lesson that cannot run here (its data missing), and for the plumbing's
        own refusals."""
        if IN_NOTEBOOK:
            raise LessonFailed(message)
        print(message, file=sys.stderr)
        sys.exit(status)

    # -- checks ---------------------------------------------------------------------
    def check(self, name: str, value: float, tol: float) -> None:
        """Pass if ``value`` (an error, >= 0) is at most ``tol``; NaN fails."""
        value = float(value)
        ok = math.isfinite(value) and value <= tol
        print(f"  {name}: {value:.1e} (tolerance {tol:.0e}) {PASS if ok else FAIL}")
        self.results.append((name, ok))

    def check_that(self, name: str, ok: bool, detail: str = "") -> None:
        """Pass if ``ok`` is true; ``detail`` shows the numbers behind it. One line."""
        ok = bool(ok)
        print(f"  {name}: {detail + ' ' if detail else ''}{PASS if ok else FAIL}")
        self.results.append((name, ok))

    # -- figures --------------------------------------------------------------------
    def path(self, filename: str) -> Path:
        """The path of an output file in the lesson's folder (listed at the end)."""
        p = self.out / filename
        self.figures.append(p)
        return p

    def savefig(self, fig, filename: str) -> None:
        """Save a matplotlib figure as PNG (shown too, in a notebook) and close it."""
        p = self.path(filename)
        fig.tight_layout()
        fig.savefig(p, dpi=100)
        if IN_NOTEBOOK:
            from IPython.display import display
            display(fig)
        plt.close(fig)

    # -- the end --------------------------------------------------------------------
    def finish(self):
        """Print the figures and the verdict; fail if any check failed or none ran."""
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
            print(f"\n{len(failed)} of {len(self.results)} checks FAILED "
                  f"({seconds:.1f} s):")
            for name in failed:
                print(f"  - {name}")
            self.stop(f"lesson {self.number}: {len(failed)} checks failed")
        print(f"\nall {len(self.results)} checks passed {PASS} ({seconds:.1f} s)")
        if self.exercise_file is not None:
            print(f"your functions in {self.exercise_file} pass every check")
        if not IN_NOTEBOOK:
            sys.exit(0)


def _exercise_env(name: str) -> str | None:
    """MINIGAN_EXERCISE=1: the lesson's own exercise file; another value: a file."""
    value = _env_flag("MINIGAN_EXERCISE")
    if value is None:
        return None
    return str(EXERCISES_DIR / f"{name}.py") if value == "1" else value


def timeit(fn, repeats: int = 3, warmup: int = 1) -> float:
    """Best wall time of ``fn()`` in seconds over ``repeats`` runs (GPU work included).

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
