"""Convolution written as plain loops: the definition, slow, for comparison.

These follow the formulas in conv_ops literally, one output pixel at a time.
Tests use them as the oracle for the fast im2col versions, and lesson 05 times
both. Shapes as in conv_ops: x (N, C, H, W), W (O, C, k, k).
"""
from __future__ import annotations

from .. import backend
from .conv_ops import conv_out_size


def conv2d_naive(x, W, stride: int = 1, padding: int = 0):
    """y[n,o,i,j] = sum_{c,a,b} W[o,c,a,b] * x_pad[n,c,s*i+a,s*j+b].   -> (N, O, Ho, Wo)"""
    xp = backend.get_array_module(x)
    N, C, H, Wd = x.shape
    O, _, k, _ = W.shape
    Ho, Wo = conv_out_size(H, k, stride, padding), conv_out_size(Wd, k, stride, padding)
    xpad = xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    y = xp.zeros((N, O, Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            window = xpad[:, :, stride * i:stride * i + k, stride * j:stride * j + k]  # (N, C, k, k)
            y[:, :, i, j] = (window[:, None] * W[None]).sum(axis=(2, 3, 4))
    return y


def conv_transpose2d_naive(x, W, stride: int = 1, padding: int = 0):
    """Each input pixel paints W[c] * x[n,c,i,j] onto the output at (s*i, s*j); overlaps add.

    x (N, C_in, H, W), W (C_in, C_out, k, k) -> (N, C_out, (H-1)s - 2p + k, ...)
    """
    xp = backend.get_array_module(x)
    N, Cin, H, Wd = x.shape
    _, Cout, k, _ = W.shape
    Hp, Wp = (H - 1) * stride + k, (Wd - 1) * stride + k
    ypad = xp.zeros((N, Cout, Hp, Wp), dtype=x.dtype)
    for i in range(H):
        for j in range(Wd):
            patch = (x[:, :, i, j][:, :, None, None, None] * W[None]).sum(axis=1)  # (N, C_out, k, k)
            ypad[:, :, stride * i:stride * i + k, stride * j:stride * j + k] += patch
    return ypad[:, :, padding:Hp - padding, padding:Wp - padding]
