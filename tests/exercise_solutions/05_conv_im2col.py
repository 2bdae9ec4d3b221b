"""Lesson 05's exercise solved with minigan's conv_ops.im2col; near misses that fail."""
import numpy as np

from minigan import backend
from minigan.layers import conv_ops


def im2col(x, kernel_size, stride, padding):
    k = kernel_size
    cols = conv_ops.im2col(backend.asarray(x), k, k, stride, padding)
    return backend.to_numpy(cols).reshape(x.shape[1] * k * k, -1)


def _im2col(x, k, s, pad, order="cikj", stride_w=None, batch_last=True):
    """NumPy im2col with the near misses' knobs; pad ((top, bottom), (left, right))."""
    N, C, H, W = x.shape
    p = (pad[0][0] + pad[0][1]) // 2
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    sw = s if stride_w is None else stride_w
    x_pad = np.pad(x, ((0, 0), (0, 0)) + tuple(pad))
    cols = np.empty((C, k, k, Ho, Wo, N), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            window = x_pad[:, :, i:i + s * (Ho - 1) + 1:s, j:j + sw * (Wo - 1) + 1:sw]
            cols[:, i, j] = window.transpose(1, 2, 3, 0)
    if order == "ijc":
        cols = cols.transpose(1, 2, 0, 3, 4, 5)
    if not batch_last:
        cols = cols.transpose(0, 1, 2, 5, 3, 4)
    return np.ascontiguousarray(cols).reshape(C * k * k, -1)


def near_miss__im2col__padding_on_one_side(x, kernel_size, stride, padding):
    """All 2p zeros go after the image (bottom and right), none before it."""
    p2 = 2 * padding
    return _im2col(x, kernel_size, stride, ((0, p2), (0, p2)))


def near_miss__im2col__rows_ordered_i_j_c(x, kernel_size, stride, padding):
    """Rows in the order (i, j, c) instead of (c, i, j): same shape, wrong order."""
    p = padding
    return _im2col(x, kernel_size, stride, ((p, p), (p, p)), order="ijc")


def near_miss__im2col__stride_ignored_along_width(x, kernel_size, stride, padding):
    """The column slice steps by 1, not by s (the shape is still Wo)."""
    p = padding
    return _im2col(x, kernel_size, stride, ((p, p), (p, p)), stride_w=1)


def near_miss__im2col__batch_outermost(x, kernel_size, stride, padding):
    """Columns in the order (n, r, q) instead of minigan's (r, q, n)."""
    p = padding
    return _im2col(x, kernel_size, stride, ((p, p), (p, p)), batch_last=False)
