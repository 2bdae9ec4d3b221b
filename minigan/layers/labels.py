"""A conditional GAN's label as image channels: the last K columns of the input, spread over a plane each.

A conditional generator (Mirza & Osindero 2014) takes [z, y] with y the label's one-hot code, and
its discriminator judges an image together with its label. ``LabelPlanes`` gives D that label in
the image's own shape: K more channels, channel k all ones where the label is k, all zeros
elsewhere. Beside G's image in a ``Concat``, it makes a conditional G's output (N, C + K, H, W),
the same form the real batches take, so the GAN's step runs unchanged.
"""
from __future__ import annotations

from .. import backend
from .base import Module


class LabelPlanes(Module):
    """y[n, k, i, j] = x[n, F - K + k]: each of the last K input columns as a constant H x W plane.

    Shapes: x (N, F) with F >= K -> y (N, K, H, W).
    Backward: every y[n, k, i, j] is x[n, F - K + k], so dL/dx[n, F - K + k] = sum_ij dL/dy[n, k, i, j];
    the first F - K columns do not reach y, so their gradient is 0.
    """

    def __init__(self, num_classes: int, height: int, width: int):
        super().__init__()
        if num_classes < 2 or height < 1 or width < 1:
            raise ValueError(f"LabelPlanes({num_classes}, {height}, {width}): expected >= 2 classes and a "
                             f"plane of at least 1 x 1")
        self.num_classes, self.height, self.width = num_classes, height, width

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] < self.num_classes:
            raise ValueError(f"{self!r}: expected input (N, F) with F >= {self.num_classes}, got {tuple(x.shape)}")
        self.save_for_backward(x.shape)
        xp = backend.get_array_module(x)
        code = x[:, -self.num_classes:, None, None]                            # (N, K, 1, 1)
        return xp.ascontiguousarray(xp.broadcast_to(code, code.shape[:2] + (self.height, self.width)))

    def backward(self, grad_out, input_grad=True, param_grads=True):
        in_shape, = self.saved()
        if not input_grad:
            return None
        xp = backend.get_array_module(grad_out)
        grad_in = xp.zeros(in_shape, dtype=grad_out.dtype)
        grad_in[:, -self.num_classes:] = grad_out.sum(axis=(2, 3))
        return grad_in

    def __repr__(self) -> str:
        return f"LabelPlanes({self.num_classes}, {self.height}, {self.width})"
