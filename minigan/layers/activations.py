"""Elementwise activations. Each backward multiplies dL/dy by the local derivative dy/dx.

None of them changes its input in place: the caller may still need x
(a classic bug is ReLU's backward zeroing the cached input).
"""
from __future__ import annotations

from .. import backend
from .base import Module


class LeakyReLU(Module):
    """y = x if x > 0 else a*x.    dy/dx = 1 if x > 0 else a.    Shapes: any -> same."""

    def __init__(self, negative_slope: float = 0.2):
        super().__init__()
        self.negative_slope = negative_slope
        self._positive = None

    def forward(self, x):
        xp = backend.get_array_module(x)
        self._positive = x > 0
        return xp.where(self._positive, x, x * x.dtype.type(self.negative_slope))

    def backward(self, grad_out):
        xp = backend.get_array_module(grad_out)
        slope = grad_out.dtype.type(self.negative_slope)
        return xp.where(self._positive, grad_out, grad_out * slope)

    def __repr__(self) -> str:
        return f"LeakyReLU({self.negative_slope})"


class ReLU(Module):
    """y = max(x, 0).    dy/dx = 1 if x > 0 else 0.    Shapes: any -> same."""

    def __init__(self):
        super().__init__()
        self._positive = None

    def forward(self, x):
        self._positive = x > 0
        return x * self._positive

    def backward(self, grad_out):
        return grad_out * self._positive


class Tanh(Module):
    """y = tanh(x).    dy/dx = 1 - y^2 (written with y, so backward needs no x).    Shapes: any -> same."""

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x):
        self._y = backend.get_array_module(x).tanh(x)
        return self._y

    def backward(self, grad_out):
        return grad_out * (1 - self._y * self._y)


def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow for any x.

    exp is only ever taken of -|x| <= 0:  for x >= 0, 1/(1+e) with e = exp(-x);
    for x < 0, e/(1+e) with e = exp(x). Both equal the same function.
    """
    xp = backend.get_array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x)), stable for any x.    dy/dx = y (1 - y).    Shapes: any -> same."""

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x):
        self._y = sigmoid(x)
        return self._y

    def backward(self, grad_out):
        return grad_out * self._y * (1 - self._y)
