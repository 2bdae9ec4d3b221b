"""The exercises check themselves: a lesson run with --exercise uses the student's functions.

For every exercise file, lessons/exercises/NN_name.py:
- in the repository its functions are untouched stubs (docstring with shapes and a hint, then
  raise NotImplementedError), and the lesson run on them exits 1 naming the function still to
  write, in one line, without a traceback;
- the library's own implementation plugged in (tests/exercise_solutions/NN_name.py) passes
  every check of the lesson;
- every near miss in that file (a function named near_miss__<function>__<what is wrong>: a
  missing transpose, a dropped term) fails a check of the lesson.
"""
import ast
import re
from pathlib import Path

import pytest

from test_lessons import LESSONS_DIR, explain, run_lesson

EXERCISES_DIR = LESSONS_DIR / "exercises"
SOLUTIONS_DIR = Path(__file__).resolve().parent / "exercise_solutions"
EXERCISES = sorted(EXERCISES_DIR.glob("[0-9][0-9]_*.py"))
NEAR_MISS = re.compile(r"^near_miss__(?P<function>[a-z0-9_]+?)__(?P<what>[a-z0-9_]+)$")


def stub_functions(path: Path) -> dict:
    """name -> ast.FunctionDef of the public functions of an exercise file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}


def near_misses(solution: Path) -> list:
    """(function, variant name) for every near miss in a solution file."""
    names = stub_functions(solution)
    return [(m["function"], name) for name in names if (m := NEAR_MISS.match(name))]


def test_at_least_ten_lessons_have_exercises():
    lessons = {p.name for p in LESSONS_DIR.glob("[0-9][0-9]_*.py")}
    assert len(EXERCISES) >= 10, [p.name for p in EXERCISES]
    assert {p.name for p in EXERCISES} <= lessons, "an exercise file without its lesson"


@pytest.mark.parametrize("exercise", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_the_stubs_are_untouched_and_say_what_to_write(exercise):
    functions = stub_functions(exercise)
    assert functions, f"{exercise.name} has no function to write"
    for name, node in functions.items():
        doc = ast.get_docstring(node) or ""
        assert "Shapes" in doc and "Hint" in doc, f"{name}: the docstring needs Shapes and a Hint"
        last = node.body[-1]
        assert isinstance(last, ast.Raise) and "NotImplementedError" in ast.unparse(last), \
            f"{name} in {exercise.name} must end in raise NotImplementedError('TODO: ...')"
        assert len(node.body) == 2, f"{name} in {exercise.name}: a stub is its docstring and a raise"


@pytest.mark.parametrize("exercise", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_untouched_stubs_exit_1_naming_the_function(exercise, tmp_path):
    result = run_lesson(LESSONS_DIR / exercise.name, tmp_path, "--quick", "--exercise",
                        "--out", str(tmp_path / "out"))
    assert result.returncode == 1, explain(result)
    named = re.search(r"write (\w+)\(\) in .*NotImplementedError", result.stderr)
    assert named and named[1] in stub_functions(exercise), explain(result)
    assert "Traceback" not in result.stderr, explain(result)


@pytest.mark.parametrize("exercise", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_the_library_plugged_in_passes(exercise, tmp_path):
    solution = SOLUTIONS_DIR / exercise.name
    assert solution.is_file(), f"no {solution}"
    assert set(stub_functions(exercise)) <= set(stub_functions(solution))
    result = run_lesson(LESSONS_DIR / exercise.name, tmp_path, "--quick", "--exercise", str(solution),
                        "--out", str(tmp_path / "out"))
    assert result.returncode == 0, explain(result)
    assert re.search(r"all \d+ checks passed", result.stdout), explain(result)
    assert "pass every check" in result.stdout, explain(result)


def _all_near_misses():
    for exercise in EXERCISES:
        solution = SOLUTIONS_DIR / exercise.name
        if solution.is_file():
            for function, variant in near_misses(solution):
                yield pytest.param(exercise, function, variant, id=f"{exercise.stem}-{variant}")


def test_every_exercise_function_has_a_near_miss():
    for exercise in EXERCISES:
        covered = {function for function, _ in near_misses(SOLUTIONS_DIR / exercise.name)}
        missing = set(stub_functions(exercise)) - covered
        assert not missing, f"{exercise.name}: no near miss for {sorted(missing)}"


@pytest.mark.parametrize("exercise, function, variant", list(_all_near_misses()))
def test_a_near_miss_fails_a_check(exercise, function, variant, tmp_path):
    solution = SOLUTIONS_DIR / exercise.name
    attempt = tmp_path / exercise.name
    attempt.write_text(solution.read_text(encoding="utf-8") + f"\n{function} = {variant}\n",
                       encoding="utf-8")
    result = run_lesson(LESSONS_DIR / exercise.name, tmp_path, "--quick", "--exercise", str(attempt),
                        "--out", str(tmp_path / "out"))
    assert result.returncode == 1, explain(result)
    assert "checks FAILED" in result.stdout, "the near miss must fail a check, not crash\n" + \
        explain(result)
