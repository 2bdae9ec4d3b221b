"""Exercise for lesson 06: col2im, the scatter-add at the heart of the transposed conv.

Write the function below, then run
    python lessons/06_transposed_conv_adjoint.py --exercise
and the lesson's adjoint checks and its transposed convolutions built on col2im run on
your function instead of minigan's. Use NumPy only (no minigan).
"""
import numpy as np


def col2im(cols, x_shape, kernel_size, stride, padding):
    """The adjoint of lesson 05's im2col: add each column entry back where it came from.

    Shapes: cols (C*k*k, Ho*Wo*N) NumPy array; x_shape = (N, C, H, W); kernel_size k,
    stride s, padding p ints; Ho = (H + 2p - k) // s + 1 (Wo likewise).
    Returns x (N, C, H, W).

    im2col made cols[(c*k + i)*k + j, (r*Wo + q)*N + n] = x_pad[n, c, s*r + i, s*q + j]
    (rows (c, i, j), j fastest; columns (r, q, n), n fastest; x_pad is x with p zeros on
    every side). col2im goes the other way: every entry of cols is ADDED to the pixel
    x_pad[n, c, s*r + i, s*q + j] (windows overlap when s < k, so a pixel collects
    several entries), and the result is x_pad with its p-pixel border cropped. Then
    <im2col(x), cols> = <x, col2im(cols)> for every x and cols.

    Hint: reshape cols to (C, k, k, Ho, Wo, N) and start from x_pad = zeros of shape
    (C, H + 2p, W + 2p, N). For each kernel offset (i, j), ADD (+=, never =) the slab
    cols[:, i, j] into x_pad[:, i:i + s*(Ho-1) + 1:s, j:j + s*(Wo-1) + 1:s, :]. Finally
    crop rows and columns p .. p + H - 1 and p .. p + W - 1 (H + 2p - k need not be a
    multiple of s: the last rows may stay zero) and transpose to (N, C, H, W).
    """
    raise NotImplementedError("TODO: scatter-add the columns back into (N, C, H, W)")
