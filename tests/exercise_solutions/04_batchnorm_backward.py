"""Lesson 04's exercise solved with minigan's BatchNorm1d; near misses that fail."""
import numpy as np

from minigan import backend
from minigan.layers import BatchNorm1d


def batchnorm_backward(x, gamma, eps, dy):
    bn = BatchNorm1d(x.shape[1], eps=eps).astype("float64")
    bn.params["gamma"][...] = backend.asarray(gamma)
    bn(backend.asarray(x))
    dx = bn.backward(backend.asarray(dy))
    return tuple(backend.to_numpy(a) for a in (dx, bn.grads["gamma"], bn.grads["beta"]))


def _parts(x, gamma, eps, dy):
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    scale = gamma / np.sqrt(x.var(axis=0) + eps)
    return xhat, scale, (dy * xhat).sum(axis=0), dy.sum(axis=0)


def near_miss__batchnorm_backward__no_mean_path(x, gamma, eps, dy):
    """Forgets that mu depends on x: the dbeta term is dropped."""
    xhat, scale, dgamma, dbeta = _parts(x, gamma, eps, dy)
    return scale * (dy - xhat * dgamma / len(x)), dgamma, dbeta


def near_miss__batchnorm_backward__no_variance_path(x, gamma, eps, dy):
    """Forgets that the variance depends on x: the xhat dgamma term is dropped."""
    xhat, scale, dgamma, dbeta = _parts(x, gamma, eps, dy)
    return scale * (dy - dbeta / len(x)), dgamma, dbeta


def near_miss__batchnorm_backward__dgamma_without_xhat(x, gamma, eps, dy):
    """dgamma summed from dy alone."""
    xhat, scale, dgamma, dbeta = _parts(x, gamma, eps, dy)
    return scale * (dy - (dbeta + xhat * dgamma) / len(x)), dbeta, dbeta
