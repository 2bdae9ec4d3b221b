"""Numerical gradient checks by central differences, in float64.

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)      error O(h^2)

A layer's output is a tensor, so we check the scalar f = sum(y * G) for a
random G: its gradient w.r.t. anything is exactly what ``backward(G)`` gives.
In float64 with h = 1e-6 the truncation error (~h^2) and the rounding error
(~1e-16 / h) are both ~1e-10, so a correct layer scores far below 1e-7. In
float32 the rounding error alone is ~1e-2: such a check proves nothing, and
``check_layer`` refuses it.

Relative error of an array (one number per array, robust to entries near 0):
    rel_error(a, b) = max|a - b| / max(1e-8, max(|a| + |b|))
"""
from __future__ import annotations

from . import backend
from .layers.base import no_grad


def rel_error(a, b) -> float:
    """max|a - b| / max(1e-8, max(|a| + |b|)), over whole arrays (NumPy or CuPy)."""
    a, b = backend.to_numpy(a), backend.to_numpy(b)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(abs(a - b).max() / max(1e-8, float((abs(a) + abs(b)).max())))


def numerical_gradient(f, x, h: float = 1e-6):
    """Central-difference gradient of the scalar function ``f()`` w.r.t. the array ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored. Cost: 2 * x.size calls of f.
    Returns an array shaped like x. (f may run forward and backward passes of its own, as the R1 penalty
    does; a forward of f that is never back-propagated belongs under ``no_grad()``, as in ``check_layer``.)
    """
    xp = backend.get_array_module(x)
    grad = xp.zeros_like(x)
    if not x.flags.c_contiguous:
        raise ValueError("numerical_gradient needs a C-contiguous array to perturb in place")
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(x.size):
        old = float(flat[i])
        flat[i] = old + h
        f_plus = f()
        flat[i] = old - h
        f_minus = f()
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * h)
    return grad


def check_layer(layer, x, seed: int = 0, h: float = 1e-6) -> dict:
    """Compare ``layer.backward`` against central differences, for the input and every parameter.

    layer: a Module whose parameters are float64 (build it after ``set_default_dtype("float64")``
    or call ``layer.astype("float64")``); x: a float64 input array.
    Returns ``{"x": err, "<param name>": err, ...}`` with ``rel_error`` figures.
    The layer's buffers (e.g. BatchNorm's running statistics) are restored afterwards. Raises RuntimeError
    when the layer's backward leaves a save of its forward behind (a layer or container that skips a pop).
    """
    xp = backend.get_array_module(x)
    if x.dtype != xp.float64 or (layer.dtype is not None and layer.dtype != xp.float64):
        raise ValueError(f"check_layer needs float64 (a float32 check is meaningless): input is {x.dtype}, "
                         f"layer is {layer.dtype}")
    saved = {k: v.copy() for k, v in layer.state_dict().items()}
    pending = layer.pending()
    x = x.copy()
    y = layer.forward(x)
    G = xp.asarray(backend.rng(seed).standard_normal(y.shape))

    layer.zero_grad()
    analytic = {"x": layer.backward(G)}
    analytic.update({name: g.copy() for name, _, g in layer.parameters()})
    if layer.pending() != pending:
        raise RuntimeError(f"{layer!r}: its backward left {layer.pending() - pending} save(s) of its forward "
                           "behind (every backward must pop what its forward saved, in this module and below)")

    def f():
        with no_grad():  # the numerical side: never back-propagated, so nothing to save
            return float((layer.forward(x) * G).sum())

    errors = {"x": rel_error(analytic["x"], numerical_gradient(f, x, h))}
    for name, p, _ in layer.parameters():
        errors[name] = rel_error(analytic[name], numerical_gradient(f, p, h))
    layer.load_state_dict(saved)
    return errors
