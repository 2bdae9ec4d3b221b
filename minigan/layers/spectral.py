"""Spectral normalisation (Miyato et al. 2018): a layer run with its weight divided by its largest singular value.

A Dense or convolution layer with weight W is a linear map whose Lipschitz constant (in the Euclidean norm)
is at most sigma(W), the largest singular value of W seen as a matrix. Dividing W by sigma(W) makes every
such layer 1-Lipschitz; with 1-Lipschitz activations (ReLU, LeakyReLU) between them, the whole
discriminator is 1-Lipschitz, the constraint the Wasserstein critic needs (lessons/11) and a steadying
one for the other losses.
"""
from __future__ import annotations

from contextlib import contextmanager

from .. import backend
from .base import Module


def _normalise(a, eps: float):
    """a / max(||a||, eps), as torch.nn.functional.normalize: eps keeps a zero vector finite."""
    xp = backend.get_array_module(a)
    return a / xp.maximum(xp.sqrt((a * a).sum()), eps)


class SpectralNorm(Module):
    """``layer`` run with W_sn = W / sigma(W); exactly ``torch.nn.utils.spectral_norm``.

    layer: a layer with a weight matrix (``has_weight_matrix``: Dense, Conv2d, ConvTranspose2d; its
    ``weight_out_axis`` says which axis of W indexes the output features). Its ``W`` and ``b``
    stay its own trainable parameters, so the dotted names end in ``.W``, ``.b`` ("layer.W" here,
    "0.layer.W" inside a Sequential); the optimiser updates W itself, never W_sn. This module owns one
    buffer, ``u`` (out,), saved and loaded with the state_dict.

    Shapes: those of the wrapped layer. The weight as a matrix whose ROWS are the output features,
    Wm (out, m), the same rows torch takes (its ``dim``: 0, and 1 for ConvTranspose), that is W with
    its axis ``weight_out_axis`` moved to the front, the rest flattened:
        Dense            W (in, out)           Wm = W.T                                      m = in
        Conv2d           W (out, in, k, k)     Wm = W.reshape(out, -1)                       m = in k k
        ConvTranspose2d  W (in, out, k, k)     Wm = W.transpose(1, 0, 2, 3).reshape(out, -1) m = in k k
    u (out,), v (m,).

    Forward, with normalise(a) = a / max(||a||, eps):
      train mode: n_power_iterations times   v = normalise(Wm^T u),  u = normalise(Wm v)
                  (u is stored back: each forward continues the power iteration where the last one
                  left it, so one iteration per step suffices while W changes slowly)
      eval mode:  u is left unchanged and     v = normalise(Wm^T u)
      then        sigma = u . (Wm v),   y = layer(x) computed with W_sn = W / sigma.
    u starts as N(0, 1) draws from the host generator (minigan.backend.host_rng()), normalised.
    At convergence u, v are the top singular vectors and sigma = sigma_max(Wm), so ||W_sn||_2 = 1.

    Backward, with G = dL/dW_sn (the wrapped layer's weight gradient, computed with W_sn), u and v held
    constant (as torch does: the power iteration runs without gradient):
        sigma = u^T Wm v          => d sigma / d Wm = u v^T
        W_sn  = Wm / sigma        => d(W_sn)_kl / dW_ij = [kl = ij] / sigma - W_kl / sigma^2 (u v^T)_ij
        dL/dW_ij = sum_kl G_kl d(W_sn)_kl / dW_ij = G_ij / sigma - <G, W> / sigma^2 (u v^T)_ij
        dL/dW = (G - <G, W_sn> u v^T) / sigma          <G, W_sn> = sum of G * W_sn (any layout)
    with u v^T mapped back to W's layout. dL/db and dL/dx are the wrapped layer's, computed with W_sn.
    Where is this exact? In eval mode sigma = u . Wm normalise(Wm^T u) = ||Wm^T u||, whose derivative is
    exactly u v^T: the backward is the exact gradient, for any u. In train mode the exact gradient of the
    forward would also differentiate through the power iteration; u v^T is the derivative of sigma_max
    itself when u, v are the converged singular vectors (and the standard choice otherwise). So a
    central-difference check in train mode needs u converged (then each forward's iteration leaves u
    where it is), or u held fixed; tests/test_spectral_norm.py does both.

    Each forward saves (u, v, sigma, W_sn) for its backward, so that a layer applied twice (u moving in
    between) back-propagates each application with its own; the last forward's are also kept, for a
    reader only, as ``u``, ``v``, ``sigma`` (a 0-d array) and ``weight_sn``.

    backward(G, input_grad=False) returns None without computing dL/dx; param_grads=False adds
    nothing to W's or b's gradient.
    """

    def __init__(self, layer: Module, n_power_iterations: int = 1, eps: float = 1e-12):
        super().__init__()
        if not layer.has_weight_matrix:
            raise ValueError(f"SpectralNorm wraps a layer with a weight matrix (Dense, Conv2d or ConvTranspose2d), "
                             f"got {layer!r}")
        if int(n_power_iterations) != n_power_iterations or n_power_iterations < 1:
            raise ValueError(f"SpectralNorm: n_power_iterations must be an integer >= 1, got {n_power_iterations!r}")
        if not eps > 0:
            raise ValueError(f"SpectralNorm: eps must be > 0, got {eps!r}")
        self.layer = layer
        self.n_power_iterations, self.eps = int(n_power_iterations), float(eps)
        W = layer.params["W"]
        xp = backend.get_array_module(W)
        u = xp.asarray(backend.host_rng().standard_normal(W.shape[layer.weight_out_axis]), dtype=W.dtype)
        self.buffers["u"] = _normalise(u, self.eps)
        self.u = self.v = self.sigma = self.weight_sn = None  # of the last forward, for a reader

    def children(self):
        return iter((("layer", self.layer),))

    # -- W as a matrix with the output features as rows, and back -----------------------------------
    def weight_matrix(self, W=None):
        """Wm (out, m) of W (the wrapped layer's W by default): see the class docstring."""
        W = self.layer.params["W"] if W is None else W
        axis = self.layer.weight_out_axis
        return backend.get_array_module(W).moveaxis(W, axis, 0).reshape(W.shape[axis], -1)

    def _from_matrix(self, M, shape):
        """The inverse of weight_matrix: an (out, m) matrix back to W's layout ``shape``."""
        axis = self.layer.weight_out_axis
        rest = shape[:axis] + shape[axis + 1:]
        return backend.get_array_module(M).moveaxis(M.reshape(shape[axis], *rest), 0, axis)

    # -- running the wrapped layer with W_sn ---------------------------------------------------------
    @contextmanager
    def _with_weight(self, W_sn, grad_W=None):
        """Let the wrapped layer see W_sn (and, for the backward, a fresh gradient array) for one call.

        Why a swap of dict entries: the wrapped layer's own forward and backward (its input checks, its
        saves, its conv code) run unchanged, with no copy of the layer to keep in step. Why it is safe:
        the entries are put back in ``finally``, so after every call, raising or not, params["W"] and
        grads["W"] are again the very arrays the optimiser holds references to (it updates them in
        place); W_sn is never a parameter between calls, and no W is ever overwritten.
        """
        params, grads = self.layer.params, self.layer.grads
        W, gW = params["W"], grads["W"]
        params["W"] = W_sn
        if grad_W is not None:
            grads["W"] = grad_W
        try:
            yield
        finally:
            params["W"], grads["W"] = W, gW

    def forward(self, x):
        W = self.layer.params["W"]
        Wm = self.weight_matrix(W)
        u = self.buffers["u"]
        if self.training:
            # Power iteration on Wm Wm^T, no gradient: u, v are constants of this forward (as in torch).
            for _ in range(self.n_power_iterations):
                v = _normalise(Wm.T @ u, self.eps)
                u = _normalise(Wm @ v, self.eps)
            self.buffers["u"][...] = u   # in place: state_dict hands out this very array
        else:
            v = _normalise(Wm.T @ u, self.eps)
            u = u.copy()                 # the backward must see this u even if a train forward moves the buffer
        sigma = u @ (Wm @ v)             # 0-d array: stays on the device, no host round trip
        W_sn = W / sigma
        self.save_for_backward(u, v, sigma, W_sn)
        self.u, self.v, self.sigma, self.weight_sn = u, v, sigma, W_sn
        with self._with_weight(W_sn):
            return self.layer.forward(x)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        u, v, sigma, W_sn = self.saved()
        if not (input_grad or param_grads):
            return self.layer.backward(None, input_grad=False, param_grads=False)  # it only pops its save
        xp = backend.get_array_module(W_sn)
        # The wrapped layer ADDS its weight gradient into grads["W"]; give it a zeroed array, so that what
        # it adds is G = dL/dW_sn of this call alone, which is then turned into dL/dW. Its bias gradient
        # goes straight into grads["b"] (b is not normalised).
        G = xp.zeros_like(W_sn) if param_grads else None
        with self._with_weight(W_sn, G):
            grad_in = self.layer.backward(grad_out, input_grad=input_grad, param_grads=param_grads)
        if param_grads:
            uvT = self._from_matrix(xp.outer(u, v), W_sn.shape)
            self.layer.grads["W"] += (G - (G * W_sn).sum() * uvT) / sigma
        return grad_in if input_grad else None

    def __repr__(self) -> str:
        return f"SpectralNorm({self.layer!r}, n_power_iterations={self.n_power_iterations}, eps={self.eps:g})"


def apply_spectral_norm(module: Module) -> Module:
    """Wrap every layer with a weight matrix (``has_weight_matrix``) inside ``module`` in ``SpectralNorm``, in
    place, through every container (any module with ``children()``: Sequential, Residual, Concat, ...);
    returns ``module``. Layers already wrapped are left as they are. Each weight layer is then divided by its
    largest singular value at every training forward, so D is 1-Lipschitz layer by layer."""
    if module.has_weight_matrix:
        raise ValueError(f"apply_spectral_norm wraps the layers inside a container, got the layer {module!r} "
                         "itself: use SpectralNorm(layer)")
    for parent in list(module.modules()):  # listed first: the wrappers put in below are not visited
        if isinstance(parent, SpectralNorm):
            continue
        for name, child in list(parent.children()):
            if child.has_weight_matrix:
                parent.set_child(name, SpectralNorm(child))
    return module
