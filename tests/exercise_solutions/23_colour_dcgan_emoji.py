"""Lesson 23's exercise solved (minigan has no upsampling layer: written here); near misses that fail."""
import numpy as np


def upsample_backward(grad):
    n, c, h2, w2 = grad.shape
    return grad.reshape(n, c, h2 // 2, 2, w2 // 2, 2).sum(axis=(3, 5))


def near_miss__upsample_backward__averages(grad):
    """The mean of each 2x2 block: a quarter of the gradient."""
    n, c, h2, w2 = grad.shape
    return grad.reshape(n, c, h2 // 2, 2, w2 // 2, 2).mean(axis=(3, 5))


def near_miss__upsample_backward__top_left_only(grad):
    """Only the top-left pixel of each block: three of the four copies forgotten."""
    return np.ascontiguousarray(grad[:, :, ::2, ::2])
