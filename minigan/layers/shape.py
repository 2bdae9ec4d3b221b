"""Flatten and Reshape: no arithmetic, so backward only undoes the reshape."""
from __future__ import annotations

import math

from .. import backend
from .base import Module


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1*d2*...).    Backward reshapes dL/dy back to the input's shape.

    The gradient is handed back in the input's memory order: conv outputs are NCHW views of
    (C, H, W, N) memory (see conv_ops), and elementwise backward passes over a mask and a
    gradient of two different memory orders are several times slower than one copy here.
    """

    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"Flatten(): expected input of shape (N, ...) with at least 2 dims, got {tuple(x.shape)}")
        self.save_for_backward(x)  # its shape and memory order
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        x, = self.saved()
        if not input_grad:
            return None
        grad = grad_out.reshape(x.shape)
        if x.flags.c_contiguous:
            return grad
        grad_in = backend.get_array_module(grad).empty_like(x)  # same memory order as the input
        grad_in[...] = grad
        return grad_in


class Reshape(Module):
    """(N, prod(shape)) -> (N, *shape), the batch dim excluded from ``shape``, as Keras' Reshape.

    Example: Reshape(128, 7, 7) turns (N, 6272) into (N, 128, 7, 7).
    """

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = tuple(int(s) for s in shape)

    def forward(self, x):
        if x.ndim < 1 or math.prod(x.shape[1:]) != math.prod(self.shape):
            raise ValueError(f"{self!r}: expected input of shape (N, ...) holding {math.prod(self.shape)} "
                             f"values per item, got {tuple(x.shape)}")
        self.save_for_backward(x.shape)
        return x.reshape((x.shape[0],) + self.shape)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        in_shape, = self.saved()
        if not input_grad:
            return None
        return grad_out.reshape(in_shape)

    def __repr__(self) -> str:
        return f"Reshape{self.shape}"
