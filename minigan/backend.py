"""The array backend: NumPy on the CPU or CuPy on an NVIDIA GPU.

Layer code never imports numpy or cupy itself. It asks its input which module
made it (``xp = get_array_module(x)``, as Chainer does), so one code path serves
both backends. Everything else (creating parameters, drawing noise) uses the
*active* backend, ``backend.xp``, chosen by ``use()`` or by the environment
variable ``MINIGAN_BACKEND`` at import time.

Random numbers are always drawn on the host by a NumPy ``Generator`` and then
moved to the active backend: a seed gives the same numbers on both backends,
and a generator's state is a small dict that a checkpoint can store as JSON.

Three contexts change the global state for a block and put it back on exit, also after an exception:
``using(name)`` (the active backend), ``using_dtype(dtype)`` (the default dtype of new parameters) and
``seeded(seed)`` (the host generator that initialises parameters).
"""
from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np

BACKENDS = ("numpy", "cupy")
CUPY_INSTALL_HINT = (
    'install CuPy for your CUDA version: pip install "minigan[cuda12]" '
    '(CUDA 12) or pip install "minigan[cuda13]" (CUDA 13)'
)

xp = np  # the active array module; rebound by use()
name = "numpy"
_default_dtype = np.dtype(np.float32)
_host_rng = np.random.default_rng(0)


class BackendUnavailable(RuntimeError):
    """The backend asked for cannot run here (CuPy not installed, or no GPU); the message says how to fix it."""


def _import_cupy():
    """Import CuPy and check that a GPU answers; raise BackendUnavailable saying how to fix it."""
    try:
        import cupy
    except ImportError as exc:
        raise BackendUnavailable(f"backend 'cupy' asked for, but CuPy is not installed: {CUPY_INSTALL_HINT}") from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken: CuPy raises its own error types
        raise BackendUnavailable(f"backend 'cupy' asked for, but no usable NVIDIA GPU was found ({exc}); "
                           f"on a machine with a GPU, {CUPY_INSTALL_HINT}") from exc
    if count < 1:
        raise BackendUnavailable(f"backend 'cupy' asked for, but no NVIDIA GPU is visible; {CUPY_INSTALL_HINT}")
    return cupy


def cupy_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        _import_cupy()
    except BackendUnavailable:
        return False
    return True


def use(backend: str):
    """Make ``"numpy"`` or ``"cupy"`` the active backend and return its array module."""
    global xp, name
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: expected one of {BACKENDS}")
    xp = np if backend == "numpy" else _import_cupy()
    name = backend
    return xp


@contextmanager
def using(backend: str):
    """Make ``backend`` the active backend for the block (``use``); the previous one comes back on exit."""
    previous = name
    use(backend)
    try:
        yield xp
    finally:
        use(previous)


def get_array_module(*arrays):
    """The module (numpy or cupy) that made the given arrays; numpy for plain Python values."""
    for a in arrays:
        module = type(a).__module__
        if module.startswith("cupy"):
            import cupy  # already imported, since a CuPy array exists
            return cupy
    return np


def to_numpy(a) -> np.ndarray:
    """A NumPy array holding the values of ``a`` (a NumPy or CuPy array, or anything array-like)."""
    if type(a).__module__.startswith("cupy"):
        return a.get()
    return np.asarray(a)


def asarray(a, dtype=None):
    """``a`` as an array of the active backend (copied to the GPU where the backend is CuPy)."""
    return xp.asarray(a, dtype=dtype)


def set_default_dtype(dtype) -> None:
    """Set the dtype of newly created parameters: ``"float32"`` (default) or ``"float64"``."""
    global _default_dtype
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"default dtype must be float32 or float64, got {dt}")
    _default_dtype = dt


def default_dtype() -> np.dtype:
    """The dtype of newly created parameters."""
    return _default_dtype


@contextmanager
def using_dtype(dtype):
    """New parameters are ``dtype`` inside the block (``set_default_dtype``); the previous default comes back."""
    previous = _default_dtype
    set_default_dtype(dtype)
    try:
        yield
    finally:
        set_default_dtype(previous)


def seed(s: int) -> None:
    """Re-seed the global host generator used for parameter initialisation."""
    global _host_rng
    _host_rng = np.random.default_rng(s)


def host_rng() -> np.random.Generator:
    """The global host generator (parameter initialisation draws from it)."""
    return _host_rng


@contextmanager
def seeded(s: int):
    """Inside the block the global host generator is a new one seeded with ``s`` (the same seed, the same
    parameters); on exit the previous generator object comes back, its stream where it was."""
    global _host_rng
    previous = _host_rng
    _host_rng = np.random.default_rng(s)
    try:
        yield
    finally:
        _host_rng = previous


def rng(s: int | None = None) -> np.random.Generator:
    """A new seeded host generator; move its draws to the backend with ``asarray``."""
    return np.random.default_rng(s)


def synchronize() -> None:
    """Wait for queued GPU work (a no-op on NumPy); needed before reading a clock."""
    if name == "cupy":
        xp.cuda.Stream.null.synchronize()


_start = os.environ.get("MINIGAN_BACKEND", "numpy").strip().lower() or "numpy"
try:
    use(_start)
except (ValueError, BackendUnavailable) as _exc:  # name the variable that asked for it
    raise type(_exc)(f"MINIGAN_BACKEND={_start}: {_exc}") from None
