"""The lessons: each runs with --quick in a temporary folder, verifies what it teaches, and writes its figures.

A lesson's checks are claims about numbers it computes (a gradient matches, a loss saturates, a cure
captures more modes). A lesson exits 1 when one fails, so a lesson that stops verifying what it
teaches fails this suite.
"""
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from minigan import backend

LESSONS_DIR = Path(__file__).resolve().parent.parent / "lessons"
LESSONS = sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))
# A check line as _common.Lesson prints it: "  <claim>: <numbers> ✓" (or "ok" where the terminal lacks ✓).
CHECK_LINE = re.compile(r"^  \S.*: .*(✓|ok)$", re.MULTILINE)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Lessons that read a data set from minigan's cache folder ($MINIGAN_CACHE/<name>), and the shared copy
# the tests give them there. A lesson never reads ../shared/data itself: only the tests point it there.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LESSON_DATA = {"23": "emoji", "24": "mnist"}


_CACHES: dict = {}  # data set name -> TemporaryDirectory, removed (the symlink, not the data) at exit


def _cache_with(name: str) -> str:
    """A temporary MINIGAN_CACHE whose folder ``name`` is a symlink to the shared copy, one per session."""
    if name not in _CACHES:
        _CACHES[name] = tempfile.TemporaryDirectory(prefix="minigan-cache-")
        (Path(_CACHES[name].name) / name).symlink_to(SHARED_DATA / name, target_is_directory=True)
    return _CACHES[name].name


def lesson_env(lesson: Path) -> dict:
    """The environment a lesson needs in the tests: MINIGAN_CACHE for a lesson that reads a data set
    (LESSON_DATA), or nothing. Skips the calling test when the shared copy is absent."""
    name = LESSON_DATA.get(lesson.name[:2])
    if name is None:
        return {}
    if not (SHARED_DATA / name).is_dir():
        pytest.skip(f"lesson {lesson.name[:2]} reads the {name} data set, and {SHARED_DATA / name} is absent")
    return {"MINIGAN_CACHE": _cache_with(name)}


def run_lesson(path: Path, cwd: Path, *args: str, timeout: int = 300,
               env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a lesson script as a student would, from an unrelated current folder."""
    # the lesson's own switches come from the arguments (or from ``env``), not from the caller's shell
    inherited = {k: v for k, v in os.environ.items() if k not in ("MINIGAN_QUICK", "MINIGAN_EXERCISE")}
    env = {**inherited, **lesson_env(path), **(env or {})}
    # The lessons are many small matrix products. On a shared 2-core machine, OpenBLAS's spinning worker
    # threads make them several times slower than one thread; a user may still override these.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env["MPLBACKEND"] = "Agg"
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, str(path), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=timeout)


def explain(result: subprocess.CompletedProcess) -> str:
    return f"exit status {result.returncode}\n--- stdout (tail) ---\n{result.stdout[-4000:]}\n" \
           f"--- stderr (tail) ---\n{result.stderr[-4000:]}"


def test_the_required_lessons_exist():
    numbers = {p.name[:2] for p in LESSONS}
    required = {f"{n:02d}" for n in range(1, 18)}
    assert required <= numbers, f"missing lessons: {sorted(required - numbers)}"


def test_the_index_lists_every_lesson():
    index = (LESSONS_DIR / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in LESSONS if p.name not in index]
    assert not missing, f"lessons/README.md does not list {missing}"


MAX_COLUMNS = 88  # the lessons are read in notebooks and side by side with their exercises
QUESTION = re.compile(r"^\d\. ", re.MULTILINE)


def markdown_cells(path: Path) -> list:
    sys.path.insert(0, str(LESSONS_DIR))
    from _common import markdown_cells as cells
    return cells(path)


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_is_a_percent_notebook_with_its_text_in_markdown(lesson):
    source = lesson.read_text(encoding="utf-8")
    assert source.startswith("# %% [markdown]\n# # Lesson " + lesson.name[:2]), \
        "a lesson opens with a markdown cell titled '# Lesson NN — ...'"
    assert f'Lesson("{lesson.stem}")' in source, f'the lesson must start with Lesson("{lesson.stem}")'
    cells = markdown_cells(lesson)
    assert len(cells) >= 3, "the text is split into markdown cells beside the code they explain"
    questions = cells[-1]
    assert questions.startswith("## Questions"), "the last cell asks the lesson's questions"
    assert 2 <= len(QUESTION.findall(questions)) <= 4, "2 to 4 numbered questions"
    assert "ANSWERS.md" in questions


@pytest.mark.parametrize("path", LESSONS + sorted(LESSONS_DIR.glob("exercises/*.py"))
                         + [LESSONS_DIR / "_common.py"], ids=lambda p: p.name)
def test_lesson_lines_fit_in_88_columns(path):
    long = [i + 1 for i, line in enumerate(path.read_text(encoding="utf-8").splitlines())
            if len(line) > MAX_COLUMNS]
    assert not long, f"{path.name}: lines longer than {MAX_COLUMNS} columns: {long[:10]}"


def test_every_lesson_has_its_answers():
    answers = (LESSONS_DIR / "ANSWERS.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## Lesson (\d\d)\b.*\n((?:(?!^## ).*\n?)*)", answers, re.MULTILINE))
    for lesson in LESSONS:
        asked = len(QUESTION.findall(markdown_cells(lesson)[-1]))
        body = sections.get(lesson.name[:2])
        assert body is not None, f"ANSWERS.md has no section '## Lesson {lesson.name[:2]}'"
        assert len(QUESTION.findall(body)) == asked, f"lesson {lesson.name[:2]}: {asked} questions"


def test_explain_prints_the_lessons_text(tmp_path):
    lesson = LESSONS_DIR / "04_batchnorm_backward.py"
    result = run_lesson(lesson, tmp_path, "--explain")
    assert result.returncode == 0, explain(result)
    assert result.stdout.strip() == "\n\n".join(markdown_cells(lesson)).strip()
    assert not (tmp_path / "lesson_output").exists(), "--explain writes nothing"


def test_quick_comes_from_the_environment_too(tmp_path):
    lesson = LESSONS_DIR / "01_dense_backprop.py"
    env = {"MINIGAN_QUICK": "1"}
    result = run_lesson(lesson, tmp_path, "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 0 and "quick run" in result.stdout, explain(result)


def test_exercise_on_a_lesson_without_exercises_is_refused_in_one_line(tmp_path):
    lesson = LESSONS_DIR / "10_seeing_the_game.py"
    result = run_lesson(lesson, tmp_path, "--quick", "--exercise")
    assert result.returncode == 2, explain(result)
    assert "no exercise file" in result.stderr and "Traceback" not in result.stderr, explain(result)


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_quick_run_verifies_and_writes_figures(lesson, tmp_path):
    out = tmp_path / "figures"
    result = run_lesson(lesson, tmp_path / "elsewhere", "--quick", "--out", str(out))
    assert result.returncode == 0, explain(result)
    assert CHECK_LINE.search(result.stdout), "no check line printed\n" + explain(result)
    assert re.search(r"all \d+ checks passed", result.stdout), explain(result)
    pngs = sorted(out.glob("*.png"))
    assert pngs, f"no PNG written to {out}\n" + explain(result)
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_SIGNATURE, f"{png.name} is not a PNG"
    assert str(out.resolve()) in result.stdout, "the lesson must say where its figures went\n" + explain(result)
    assert not (tmp_path / "elsewhere" / "lesson_output").exists(), "--out was given: nothing goes to the cwd"


def test_default_output_folder_is_under_the_current_folder(tmp_path):
    lesson = LESSONS_DIR / "01_dense_backprop.py"
    result = run_lesson(lesson, tmp_path, "--quick")
    assert result.returncode == 0, explain(result)
    assert list((tmp_path / "lesson_output" / "01_dense_backprop").glob("*.png")), explain(result)


def test_a_failed_check_makes_the_lesson_exit_1(tmp_path):
    script = tmp_path / "99_failing.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(LESSONS_DIR)!r})\n"
        "# %% [markdown]\n"
        "# # Lesson 99 — a lesson whose claim is false\n"
        "# %%\n"
        "from _common import Lesson, plt\n"
        "lesson = Lesson('99_failing')\n"
        "lesson.check('an error that is too large', 1.0, 1e-3)\n"
        "lesson.check_that('a true claim', True)\n"
        "fig, ax = plt.subplots()\n"
        "lesson.savefig(fig, 'figure.png')\n"
        "lesson.finish()\n")
    result = run_lesson(script, tmp_path, "--quick", "--out", str(tmp_path / "out"))
    assert result.returncode == 1, explain(result)
    assert "FAILED" in result.stdout and "an error that is too large" in result.stdout, explain(result)
    assert (tmp_path / "out" / "figure.png").is_file()


@pytest.mark.skipif(not backend.cupy_available(), reason="CuPy or an NVIDIA GPU is not available")
def test_gpu_lesson_compares_cupy_with_numpy(tmp_path):
    lesson = LESSONS_DIR / "16_gpu_with_cupy.py"
    result = run_lesson(lesson, tmp_path, "--quick", "--backend", "cupy", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, explain(result)
    assert "cupy vs numpy" in result.stdout, explain(result)
