"""Lesson 06's exercise solved with minigan's conv_ops.col2im; near misses that fail."""
import numpy as np

from minigan import backend
from minigan.layers import conv_ops


def col2im(cols, x_shape, kernel_size, stride, padding):
    N, C, H, W = x_shape
    k = kernel_size
    Ho = conv_ops.conv_out_size(H, k, stride, padding)
    Wo = conv_ops.conv_out_size(W, k, stride, padding)
    cols6 = backend.asarray(cols).reshape(C, k, k, Ho, Wo, N)
    x = conv_ops.col2im(cols6, tuple(x_shape), stride, padding)
    return np.ascontiguousarray(backend.to_numpy(x))


def _col2im(cols, x_shape, k, s, p, add=True, crop_from=None, step=None):
    """A NumPy col2im with the knobs the near misses turn."""
    N, C, H, W = x_shape
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    step = s if step is None else step
    crop_from = p if crop_from is None else crop_from
    cols = np.asarray(cols).reshape(C, k, k, Ho, Wo, N)
    x_pad = np.zeros((C, H + 2 * p, W + 2 * p, N), dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            rows = slice(i, i + step * (Ho - 1) + 1, step)
            columns = slice(j, j + step * (Wo - 1) + 1, step)
            if add:
                x_pad[:, rows, columns, :] += cols[:, i, j]
            else:
                x_pad[:, rows, columns, :] = cols[:, i, j]
    a = crop_from
    return np.ascontiguousarray(x_pad[:, a:a + H, a:a + W, :].transpose(3, 0, 1, 2))


def near_miss__col2im__assigns_instead_of_adding(cols, x_shape, kernel_size, stride,
                                                 padding):
    """x_pad[...] = slab: where windows overlap, the last one written wins."""
    return _col2im(cols, x_shape, kernel_size, stride, padding, add=False)


def near_miss__col2im__crops_the_wrong_border(cols, x_shape, kernel_size, stride,
                                              padding):
    """Keeps x_pad[:H, :W]: all 2p padding rows and columns cut at the bottom/right."""
    return _col2im(cols, x_shape, kernel_size, stride, padding, crop_from=0)


def near_miss__col2im__stride_ignored(cols, x_shape, kernel_size, stride, padding):
    """The slabs step by 1, not by s (their shape is still Ho x Wo)."""
    return _col2im(cols, x_shape, kernel_size, stride, padding, step=1)
