"""`minigan check`: every row passes on a sound install, a broken piece fails its own row and only it,
every exported layer has a case, and global state comes back as it was."""
import inspect

import pytest

import minigan
import minigan.layers
from minigan import backend, losses
from minigan.check import FLOAT32_TOL, LAYER_CASES, _backend_item, run_check
from minigan.layers import Module, Tanh
from minigan.optim import Adam

GPU = backend.cupy_available()


def run(backend_name="numpy"):
    """run_check's exit status and its rows, {row name: (figure, mark)}, parsed by the header's columns."""
    lines = []
    status = run_check(backend_name, out=lines.append)
    header = lines[1]
    figure_at, mark_at = header.index("figure"), header.index("ok")
    rows = {line[:figure_at].rstrip(): (line[figure_at:mark_at].rstrip(), line[mark_at])
            for line in lines[2:-1]}
    assert all(line[mark_at] in "✓✗" for line in lines[2:-1]), "\n".join(lines)  # the marks are aligned
    return status, rows, lines


def expected_rows(with_cupy=False):
    names = [f"grad {case.name}" for case in LAYER_CASES]
    names += ["loss bce_with_logits"]
    names += [f"loss discriminator_loss {kind}" for kind in losses.DISCRIMINATOR_KINDS]
    names += [f"loss generator_loss {kind}" for kind in losses.GENERATOR_KINDS]
    names += ["adam closed form"]
    if with_cupy:
        names += [f"cupy = numpy {case.name}" for case in LAYER_CASES]
    names += ["train 100 steps, D loss falls"]
    return names


@pytest.fixture(scope="module")
def numpy_run():
    """One run on NumPy, shared by the tests that only read it: (status, rows, lines), state before, after."""
    before = backend.name, backend.default_dtype()
    result = run("numpy")
    return result, before, (backend.name, backend.default_dtype())


def test_every_row_passes_on_numpy(numpy_run):
    (status, rows, lines), _, _ = numpy_run
    assert status == 0, "\n".join(lines)
    assert list(rows) == expected_rows()
    assert all(mark == "✓" for _, mark in rows.values()), "\n".join(lines)
    assert not any("✗" in line for line in lines)
    assert lines[-1].startswith(f"{len(rows)} of {len(rows)} checks passed")
    before, after = rows["train 100 steps, D loss falls"][0].split(" -> ")
    assert float(after) < float(before)


def test_global_state_is_restored(numpy_run):
    _, before, after = numpy_run
    assert after == before  # the run sets float64, then float32, and switches backend: all undone
    minigan.set_default_dtype("float64")  # a non-default dtype comes back too, even from the float32 half
    try:
        assert run_check("numpy", out=lambda line: None) == 0
        assert backend.default_dtype() == "float64" and backend.name == "numpy"
    finally:
        minigan.set_default_dtype("float32")


def test_the_initialisation_generator_is_left_as_it_was():
    """Every item that builds layers draws from a generator seeded for it (backend.seeded): the caller's
    generator is the same object afterwards, its stream where it was."""
    generator = backend.host_rng()
    state = generator.bit_generator.state
    assert run_check("numpy", out=lambda line: None) == 0
    _backend_item(LAYER_CASES[0], reference="numpy", other="numpy")()
    assert backend.host_rng() is generator and generator.bit_generator.state == state


def test_every_exported_layer_has_a_case():
    """A layer added to minigan.layers.__all__ without a case in check.LAYER_CASES fails here."""
    exported = {getattr(minigan.layers, name) for name in minigan.layers.__all__}
    layers = {obj for obj in exported if inspect.isclass(obj) and issubclass(obj, Module) and obj is not Module}
    covered = {type(case.make()) for case in LAYER_CASES}
    missing = sorted(cls.__name__ for cls in layers - covered)
    assert not missing, f"layers without a case in minigan.check.LAYER_CASES: {missing}"
    assert len({case.name for case in LAYER_CASES}) == len(LAYER_CASES), "case names must be unique"


def _wrong_tanh(monkeypatch):
    right = Tanh.backward

    def backward(self, *args, **kwargs):  # 1 % off: far above 1e-7
        return 1.01 * right(self, *args, **kwargs)
    monkeypatch.setattr(Tanh, "backward", backward)


def _wrong_lsgan_generator_gradient(monkeypatch):
    right = losses.generator_loss

    def generator_loss(fake_logits, kind="nonsaturating"):
        value, grad = right(fake_logits, kind)
        return value, 2 * grad if kind == "lsgan" else grad
    monkeypatch.setattr(losses, "generator_loss", generator_loss)


def _adam_off_by_1e_9(monkeypatch):
    right = Adam.step

    def step(self):  # p off by 1e-9 relative after each step: ~1e-7 of the displacement, 1e5 x the tolerance
        right(self)
        for _, p, _, _, _ in self._rows:
            p *= 1 + 1e-9
    monkeypatch.setattr(Adam, "step", step)


def _crashing_sigmoid(monkeypatch):
    def forward(self, x):
        raise ArithmeticError("broken on purpose")
    monkeypatch.setattr(minigan.layers.Sigmoid, "forward", forward)


@pytest.mark.parametrize("breakage, failing_row", [
    (_wrong_tanh, "grad Tanh"),
    (_wrong_lsgan_generator_gradient, "loss generator_loss lsgan"),
    (_adam_off_by_1e_9, "adam closed form"),
    (_crashing_sigmoid, "grad Sigmoid"),
])
def test_a_broken_piece_fails_its_row_and_only_it(monkeypatch, breakage, failing_row):
    breakage(monkeypatch)
    status, rows, lines = run("numpy")
    assert status == 1
    assert list(rows) == expected_rows()
    assert rows[failing_row][1] == "✗", "\n".join(lines)
    others = {name: mark for name, (_, mark) in rows.items() if name != failing_row}
    if failing_row == "adam closed form":  # the nudged Adam also trains G and D: say nothing of that row
        others.pop("train 100 steps, D loss falls")
    assert set(others.values()) == {"✓"}, "\n".join(lines)
    passed = sum(mark == "✓" for _, mark in rows.values())
    assert passed < len(rows) and lines[-1].startswith(f"{passed} of {len(rows)} checks passed")
    row = next(line for line in lines if line.startswith(failing_row + "  "))
    if breakage is _crashing_sigmoid:  # an item that raises is a failed row naming the error, not a crash
        assert rows[failing_row][0] == "error" and row.endswith("✗  ArithmeticError: broken on purpose"), row
    elif breakage is _wrong_tanh:  # the note after the mark says which gradient is wrong
        assert row.endswith("✗  worst: x"), row


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda case: case.name)
def test_backend_comparison_of_numpy_against_itself_is_exact(case):
    """The CuPy rows' comparison, run here as NumPy against NumPy: identical, so every figure is 0."""
    previous = backend.default_dtype()
    minigan.set_default_dtype("float32")  # as in run_check's float32 half
    try:
        figure, ok, note = _backend_item(case, reference="numpy", other="numpy")()
    finally:
        minigan.set_default_dtype(previous)
    assert ok and figure == "0.0e+00 < 1e-4" and note == "", figure
    assert FLOAT32_TOL == 1e-4
    assert backend.name == "numpy"


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown backend"):
        run_check("tpu", out=lambda line: None)
    assert backend.name == "numpy"


@pytest.mark.skipif(GPU, reason="CuPy and a GPU are available: the error path cannot be reached")
def test_cupy_without_a_gpu_raises_the_backend_error():
    """The RuntimeError of backend.use (with its install hint) propagates; nothing is printed."""
    lines = []
    with pytest.raises(RuntimeError, match="pip install"):
        run_check("cupy", out=lines.append)
    assert lines == [] and backend.name == "numpy"


@pytest.mark.skipif(not GPU, reason="CuPy or an NVIDIA GPU is not available")
def test_every_row_passes_on_cupy():
    previous = backend.name
    try:
        status, rows, lines = run("cupy")
    finally:
        backend.use(previous)
    assert backend.name == previous
    assert status == 0, "\n".join(lines)
    assert list(rows) == expected_rows(with_cupy=True)
    assert all(mark == "✓" for _, mark in rows.values()), "\n".join(lines)


def test_the_command_line_check(capsys):
    from minigan.cli import main

    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "grad Dense" in out and "adam closed form" in out and "✗" not in out
    if not backend.cupy_available():
        assert main(["check", "--backend", "cupy"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "pip install" in err[0]
