"""Reflection padding, as torch.nn.ReflectionPad2d: the border mirrored WITHOUT repeating the edge pixel.

With padding p on the left of a row x_0 .. x_{W-1}, the padded row is
    x_p, ..., x_1, x_0, x_1, ..., x_{W-1}, x_{W-2}, ..., x_{W-1-q}      (q on the right; p, q < W)
so a convolution at the border sees a continuation of the picture instead of zeros (CycleGAN's
generators pad so before their 7x7 convolutions, which keeps dark frames from forming at the edges).

Forward: y = x[:, :, rows, cols] with the index lists ``rows`` and ``cols`` of the padded positions
(``reflect_indices``).
Backward: each x_k is copied to every padded position that reads it (itself, and its mirror images),
so dL/dx_k is the SUM of dL/dy over those positions: the mirrored gradients are folded back onto the
pixels they came from, rows first, then columns (padded position p < before reads source before - p,
so the first ``before`` padded gradients, reversed, add onto sources 1 .. before; likewise at the end).
"""
from __future__ import annotations

from .. import backend
from .base import Module


def reflect_indices(size: int, before: int, after: int):
    """The source index of each padded position along one axis: [before, ..., 1, 0, 1, ..., size - 1,
    size - 2, ..., size - 1 - after] (as a Python list); before and after must be < size."""
    return list(range(before, 0, -1)) + list(range(size)) + list(range(size - 2, size - 2 - after, -1))


class ReflectionPad2d(Module):
    """Shapes: x (N, C, H, W) -> y (N, C, H + top + bottom, W + left + right).

    padding: an int (all four sides) or (left, right, top, bottom), as PyTorch; each must be smaller than
    the side it mirrors (a mirror of an edge pixel excluded needs that many pixels beyond it)."""

    def __init__(self, padding):
        super().__init__()
        sides = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
        if len(sides) != 4 or any(not isinstance(p, int) or p < 0 for p in sides):
            raise ValueError(f"ReflectionPad2d({padding!r}): expected an int >= 0 or (left, right, top, bottom)")
        self.padding = sides

    def forward(self, x):
        left, right, top, bottom = self.padding
        if x.ndim != 4 or max(top, bottom) >= x.shape[2] or max(left, right) >= x.shape[3]:
            raise ValueError(f"{self!r}: expected input (N, C, H, W) with H > {max(top, bottom)} and "
                             f"W > {max(left, right)}, got {tuple(x.shape)}")
        xp = backend.get_array_module(x)
        rows = xp.asarray(reflect_indices(x.shape[2], top, bottom))
        cols = xp.asarray(reflect_indices(x.shape[3], left, right))
        self.save_for_backward(x.shape)
        return x[:, :, rows[:, None], cols[None, :]]

    def backward(self, grad_out, input_grad=True, param_grads=True):
        shape, = self.saved()
        if not input_grad:
            return None
        left, right, top, bottom = self.padding
        H, W = shape[2], shape[3]
        # rows: padded row i < top read source row top - i, padded row top + H + j read H - 2 - j
        by_row = grad_out[:, :, top:top + H].copy()
        if top:
            by_row[:, :, 1:top + 1] += grad_out[:, :, top - 1::-1][:, :, :top]
        if bottom:
            by_row[:, :, H - 1 - bottom:H - 1] += grad_out[:, :, top + H:][:, :, ::-1]
        # then the columns, alike
        grad_in = by_row[:, :, :, left:left + W].copy()
        if left:
            grad_in[:, :, :, 1:left + 1] += by_row[:, :, :, left - 1::-1][:, :, :, :left]
        if right:
            grad_in[:, :, :, W - 1 - right:W - 1] += by_row[:, :, :, left + W:][:, :, :, ::-1]
        return grad_in

    def __repr__(self) -> str:
        return f"ReflectionPad2d({self.padding})"

