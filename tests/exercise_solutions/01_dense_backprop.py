"""Lesson 01's exercise solved with minigan's Dense; near misses that fail."""
import numpy as np

from minigan import backend
from minigan.layers import Dense


def dense_backward(x, W, dy):
    layer = Dense(*W.shape).astype("float64")
    layer.params["W"][...] = backend.asarray(W)
    layer(backend.asarray(x))
    layer.zero_grad()
    dx = layer.backward(backend.asarray(dy))
    return tuple(backend.to_numpy(a) for a in (dx, layer.grads["W"], layer.grads["b"]))


def near_miss__dense_backward__reshape_not_transpose(x, W, dy):
    """dx = dy @ W.reshape(out, in): the right shape, but a reshape is no transpose."""
    return dy @ W.reshape(W.shape[1], W.shape[0]), x.T @ dy, dy.sum(axis=0)


def near_miss__dense_backward__no_transpose(x, W, dy):
    """dx = dy @ W where the shapes allow it (in = out), else dy @ W.T (by trial)."""
    dx = dy @ W if W.shape[0] == W.shape[1] else dy @ W.T
    return dx, x.T @ dy, dy.sum(axis=0)


def near_miss__dense_backward__db_mean(x, W, dy):
    """db averaged over the batch instead of summed."""
    return dy @ W.T, x.T @ dy, dy.mean(axis=0)


def near_miss__dense_backward__dw_mean(x, W, dy):
    """dW averaged over the batch (the loss's 1/N applied a second time)."""
    return dy @ W.T, x.T @ dy / len(x), dy.sum(axis=0)
