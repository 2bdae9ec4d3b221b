"""Every lesson runs as a notebook: Jupytext turns the percent script into an .ipynb, a
Jupyter kernel started in the lessons' folder runs its cells top to bottom, quick
(MINIGAN_QUICK=1), and every check passes with its figures shown under their cells."""
import re
import shutil

import pytest

from test_lessons import LESSONS, LESSONS_DIR, lesson_env

jupytext = pytest.importorskip("jupytext", reason="jupytext is not installed: pip install -e '.[notebooks]'")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed: pip install -e '.[dev]'")


@pytest.fixture(scope="module")
def lessons_copy(tmp_path_factory):
    """The lessons' folder copied, so that the notebooks' figures do not land in the repo."""
    folder = tmp_path_factory.mktemp("notebooks") / "lessons"
    shutil.copytree(LESSONS_DIR, folder, ignore=shutil.ignore_patterns("lesson_output", "__pycache__"))
    return folder


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_as_a_notebook(lesson, lessons_copy, monkeypatch):
    monkeypatch.setenv("MINIGAN_QUICK", "1")
    monkeypatch.delenv("MINIGAN_EXERCISE", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)   # the kernel's inline backend shows figures
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    for var, value in lesson_env(lesson).items():   # a data set from the cache folder (lesson 23)
        monkeypatch.setenv(var, value)
    notebook = jupytext.read(lessons_copy / lesson.name)
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds[0] == "markdown" and "code" in kinds, f"{lesson.name}: cells {kinds}"
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(lessons_copy)}})
    client.execute()  # a cell that raises (a failed check raises LessonFailed) fails here
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    text = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    assert "quick run" in text, text[:2000]
    assert re.search(r"all \d+ checks passed", text), text[-3000:]
    shown = [out for out in outputs if out.output_type == "display_data" and "image/png" in out.data]
    assert shown, f"{lesson.name}: no figure shown in the notebook"
    assert list((lessons_copy / "lesson_output" / lesson.stem).glob("*.png")), "no figure saved"
