"""The backend switch: module choice, conversions, dtypes, the CuPy error message."""
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
