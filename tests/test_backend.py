"""The backend switch: module choice, conversions, dtypes, the CuPy error message, and the contexts that change
the backend, the default dtype and the initialisation generator for a block (using, using_dtype, seeded)."""
import subprocess
import sys

import numpy as np
import pytest

from minigan import backend


def test_get_array_module_and_to_numpy(xp):
    a = xp.ones((2, 3), dtype=xp.float32)
    assert backend.get_array_module(a) is xp
    assert backend.get_array_module(1.0) is np
    out = backend.to_numpy(a)
    assert type(out) is np.ndarray and out.shape == (2, 3)


def test_unknown_backend_and_dtype_are_refused():
    with pytest.raises(ValueError, match="unknown backend 'torch'"):
        backend.use("torch")
    with pytest.raises(ValueError, match="float32 or float64"):
        backend.set_default_dtype("int32")


@pytest.mark.skipif(backend.cupy_available(), reason="this machine has CuPy and a GPU")
def test_asking_for_cupy_without_it_says_how_to_install():
    with pytest.raises(RuntimeError, match=r'pip install "minigan\[cuda12\]"'):
        backend.use("cupy")
    assert backend.name == "numpy"


def test_import_is_light():
    """import minigan pulls in neither CuPy, matplotlib, tqdm nor torch."""
    code = ("import sys, minigan; bad = [m for m in ('cupy', 'matplotlib', 'tqdm', 'torch') if m in sys.modules];"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"MINIGAN_BACKEND": "numpy", "PATH": ""})
    assert out.stdout.strip() == ""


def test_seeded_generators_repeat():
    assert np.array_equal(backend.rng(3).standard_normal(5), backend.rng(3).standard_normal(5))


@pytest.mark.parametrize("inner", ["numpy", pytest.param("cupy", marks=pytest.mark.skipif(
    not backend.cupy_available(), reason="CuPy or an NVIDIA GPU is not available"))])
def test_using_switches_the_backend_for_the_block_and_back_after_an_exception(inner):
    previous = backend.name
    with backend.using(inner) as xp:
        assert backend.name == inner and backend.xp is xp
        assert backend.get_array_module(backend.asarray([1.0])) is xp
    assert backend.name == previous
    with pytest.raises(ZeroDivisionError), backend.using(inner):
        1 / 0
    assert backend.name == previous
    with pytest.raises(ValueError, match="unknown backend"), backend.using("torch"):
        pass
    assert backend.name == previous


def test_using_dtype_sets_the_default_for_the_block_and_back_after_an_exception():
    assert backend.default_dtype() == np.float32
    with backend.using_dtype("float64"):
        assert backend.default_dtype() == np.float64
        with backend.using_dtype("float32"):
            assert backend.default_dtype() == np.float32
        assert backend.default_dtype() == np.float64
    assert backend.default_dtype() == np.float32
    with pytest.raises(ZeroDivisionError), backend.using_dtype("float64"):
        1 / 0
    assert backend.default_dtype() == np.float32
    with pytest.raises(ValueError, match="float32 or float64"), backend.using_dtype("int32"):
        pass
    assert backend.default_dtype() == np.float32


def test_seeded_draws_from_its_own_generator_and_puts_the_previous_one_back():
    """Inside: a generator seeded with the seed (same seed, same parameters); after, even after an
    exception: the very generator object of before, its stream where it was."""
    from minigan.layers import Dense

    outer = backend.host_rng()
    expected_next = np.random.default_rng(0).standard_normal(3)  # conftest seeds the global generator with 0
    with backend.seeded(5):
        assert backend.host_rng() is not outer
        a = Dense(3, 2).params["W"].copy()
    with pytest.raises(ZeroDivisionError), backend.seeded(5):
        b = Dense(3, 2).params["W"].copy()
        1 / 0
    assert np.array_equal(a, b)
    assert backend.host_rng() is outer
    assert np.array_equal(backend.host_rng().standard_normal(3), expected_next)
