"""Lesson 11's exercise solved with minigan's SpectralNorm on a Dense layer; near misses
that fail."""
import numpy as np

from minigan import backend
from minigan.layers import Dense, SpectralNorm

A, H = backend.asarray, backend.to_numpy


def _spectral_dense(W, n_power_iterations=1):
    out, m = W.shape
    with backend.seeded(0):                     # the global generator stays put
        sn = SpectralNorm(Dense(m, out, bias=False), n_power_iterations)
    sn.astype("float64")
    sn.layer.params["W"][...] = A(W.T)          # Dense keeps W^T (in, out)
    return sn


def power_iteration(W, u, n_iterations):
    sn = _spectral_dense(W, n_iterations)
    sn.buffers["u"][...] = A(u)
    sn.train()(A(np.zeros((1, W.shape[1]))))
    return float(sn.sigma), H(sn.u), H(sn.v)


def spectral_norm_backward(W, u, v, sigma, dW_sn):
    sn = _spectral_dense(W)
    sn.eval()(A(np.eye(W.shape[1])))            # x = I: Dense's weight gradient is dy
    sn.saved()                                  # the forward's (u, v, sigma, W_sn),
    sn.save_for_backward(A(u), A(v), sigma, A(W.T) / sigma)   # replaced by those given
    sn.layer.zero_grad()
    sn.backward(A(dW_sn.T), input_grad=False)
    return H(sn.layer.grads["W"]).T


def _normalise(a):
    return a / max(float(np.linalg.norm(a)), 1e-12)


def near_miss__power_iteration__u_updated_first(W, u, n_iterations):
    """u = normalise(W v) before v = normalise(W^T u) in the loop: v runs half a step
    ahead, so sigma, v differ from SpectralNorm's after each forward."""
    v = _normalise(W.T @ u)
    for _ in range(n_iterations):
        u = _normalise(W @ v)
        v = _normalise(W.T @ u)
    return float(u @ W @ v), u, v


def near_miss__power_iteration__v_not_normalised(W, u, n_iterations):
    """v = W^T u without normalising: sigma = u^T W v comes out ||W^T u|| times too
    big."""
    for _ in range(n_iterations):
        v = W.T @ u
        u = _normalise(W @ v)
    return float(u @ W @ v), u, v


def _backward_with_sign(W, u, v, sigma, dW_sn, sign):
    W_sn = W / sigma
    return (dW_sn + sign * (dW_sn * W_sn).sum() * np.outer(u, v)) / sigma


def near_miss__spectral_norm_backward__projection_dropped(W, u, v, sigma, dW_sn):
    """dL/dW = G / sigma: forgets that sigma depends on W."""
    return dW_sn / sigma


def near_miss__spectral_norm_backward__projection_sign_flipped(W, u, v, sigma, dW_sn):
    """(G + <G, W_sn> u v^T) / sigma: the derivative of 1/sigma taken with a + sign."""
    return _backward_with_sign(W, u, v, sigma, dW_sn, +1)


def near_miss__spectral_norm_backward__w_instead_of_w_sn(W, u, v, sigma, dW_sn):
    """<G, W> instead of <G, W_sn>: one division by sigma missing in the projection."""
    return (dW_sn - (dW_sn * W).sum() * np.outer(u, v)) / sigma
