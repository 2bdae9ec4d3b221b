"""Shared fixtures: every backend test runs on NumPy, and on CuPy where a GPU answers."""
import os

import pytest

import minigan
from minigan import backend

_GPU = backend.cupy_available()
BACKEND_PARAMS = [
    pytest.param("numpy"),
    pytest.param("cupy", marks=pytest.mark.skipif(not _GPU, reason="CuPy or an NVIDIA GPU is not available")),
]
# MINIGAN_BACKEND=cupy runs the suite on the GPU only (the numpy cases are then the GPU's cases).
if os.environ.get("MINIGAN_BACKEND", "numpy") == "cupy":
    BACKEND_PARAMS = BACKEND_PARAMS[1:]


@pytest.fixture(params=BACKEND_PARAMS)
def xp(request):
    """The array module of the backend under test, made active for the test's duration."""
    previous = backend.name
    module = backend.use(request.param)
    yield module
    backend.use(previous)


@pytest.fixture
def float64():
    """New parameters are float64 during the test (gradient checks need it)."""
    previous = backend.default_dtype()
    minigan.set_default_dtype("float64")
    yield
    minigan.set_default_dtype(previous)


@pytest.fixture
def rng():
    return backend.rng(1234)


@pytest.fixture(autouse=True)
def _seeded_initialisation():
    """Each test starts from the same global generator state, whatever ran before it."""
    backend.seed(0)
