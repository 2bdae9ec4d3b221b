"""Elementwise activations. Each backward multiplies dL/dy by the local derivative dy/dx.

None of them changes its input in place: the caller may still need x
(a classic bug is ReLU's backward zeroing the cached input).
"""
from __future__ import annotations

from .. import backend
from .base import Module


class LeakyReLU(Module):
    """y = x if x > 0 else a*x.    dy/dx = 1 if x > 0 else a.    Shapes: any -> same.

    Written without data-dependent selection (np.where on a random sign pattern is
    several times slower than arithmetic): for 0 <= a <= 1, y = max(x, a*x), and
    dy/dx = a + (1 - a) * [x > 0].
    """

    def __init__(self, negative_slope: float = 0.2):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        xp = backend.get_array_module(x)
        a = x.dtype.type(self.negative_slope)
        self.save_for_backward(x > 0)
        y = x * a
        return (xp.maximum if a <= 1 else xp.minimum)(x, y, out=y)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        positive, = self.saved()
        if not input_grad:
            return None
        a = grad_out.dtype.type(self.negative_slope)
        slope = positive.astype(grad_out.dtype)  # a + (1 - a) [x > 0], built in place
        slope *= 1 - a
        slope += a
        slope *= grad_out
        return slope

    def __repr__(self) -> str:
        return f"LeakyReLU({self.negative_slope})"


class ReLU(Module):
    """y = max(x, 0).    dy/dx = 1 if x > 0 else 0.    Shapes: any -> same."""

    def forward(self, x):
        self.save_for_backward(x > 0)
        return backend.get_array_module(x).maximum(x, 0)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        positive, = self.saved()
        if not input_grad:
            return None
        return grad_out * positive


class Tanh(Module):
    """y = tanh(x).    dy/dx = 1 - y^2 (written with y, so backward needs no x).    Shapes: any -> same."""

    def forward(self, x):
        y = backend.get_array_module(x).tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad_out, input_grad=True, param_grads=True):
        y, = self.saved()
        if not input_grad:
            return None
        return grad_out * (1 - y * y)


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

    def forward(self, x):
        y = sigmoid(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad_out, input_grad=True, param_grads=True):
        y, = self.saved()
        if not input_grad:
            return None
        return grad_out * y * (1 - y)


class Scale(Module):
    """y = c x for a fixed constant c (no parameter).    dy/dx = c.    Shapes: any -> same.

    A fixed gain after a layer makes that layer's outputs, and the size of Adam's steps on its
    weights as seen in y, c times larger: the toy generator uses it to span the grid's +-4.
    """

    def __init__(self, factor: float):
        super().__init__()
        self.factor = float(factor)

    def forward(self, x):
        self.save_for_backward()  # nothing to keep, but a backward must still match a forward
        return x * x.dtype.type(self.factor)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        self.saved()
        if not input_grad:
            return None
        return grad_out * grad_out.dtype.type(self.factor)

    def __repr__(self) -> str:
        return f"Scale({self.factor})"
