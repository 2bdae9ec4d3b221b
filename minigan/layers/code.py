"""A categorical code made from the first noise coordinate: G becomes a mixture of K generators.

Why: G is a continuous map, and a continuous map of the connected Gaussian noise space can only
put mass on disconnected modes by drawing "bridges" of samples between them (Luzi et al. 2020,
"Ensembles of GANs for disconnected data"). Sharpening those bridges into steps is slow. A discrete
code lets G jump instead: sample i's category c_i picks a learned first-layer bias (the row of the
next Dense's weights that its one-hot value hits), so G is K generators that share every other
weight, as in MGAN (Hoang et al. 2018), and each can sit on a mode of its own.

Choose K several times the number of modes: each mode then gathers whole categories and its mass
comes out nearly right; with too few, categories keep being pushed from mode to mode
(docs/experiments.md has the measurements on the 25-mode grid).
"""
from __future__ import annotations

from statistics import NormalDist

from .. import backend
from .base import Module
from .dense import Dense


class CategoricalCode(Module):
    """z -> [one_hot(c), s * z[:, 1:]] with c = the equal-mass bin of the standard normal z[:, 0] holds.

    Shapes: (N, Z) -> (N, K + Z - 1). The K bins have edges Phi^-1(k / K), k = 1..K-1, so for
    z ~ N(0, I) every category has probability 1/K and the caller's noise stays N(0, I).

    noise_scale s shrinks the continuous noise the rest of G sees. Small s means one category's
    samples start close together: a category cannot then stretch across two modes (a bridge)
    without a steep map, so each category settles on one mode.

    Derivatives: d one_hot / d z0 = 0 (a step function, constant between the bin edges), and
    d(s * z_j)/d z_j = s; so dL/dz = [0, s * dL/dy[:, K:]].
    """

    def __init__(self, categories: int, noise_scale: float = 1.0):
        super().__init__()
        if categories < 2:
            raise ValueError(f"CategoricalCode needs categories >= 2, got {categories}")
        if not noise_scale > 0:
            raise ValueError(f"CategoricalCode needs noise_scale > 0, got {noise_scale}")
        self.categories, self.noise_scale = int(categories), float(noise_scale)
        normal = NormalDist()
        self._edges = tuple(normal.inv_cdf(k / self.categories) for k in range(1, self.categories))

    def category(self, z):
        """The category of each row, (N,) integers in [0, K): the bin z[:, 0] falls in."""
        xp = backend.get_array_module(z)
        return xp.searchsorted(xp.asarray(self._edges, dtype=z.dtype), z[:, 0])

    def scaled_noise(self, z):
        """u = s * z[:, 1:], the continuous part of the output: (N, Z) -> (N, Z - 1)."""
        return z[:, 1:] * z.dtype.type(self.noise_scale)

    def input_grad(self, grad_noise):
        """dL/dz = [0, s * dL/du] from dL/du (N, Z - 1): the code is piecewise constant in z0."""
        xp = backend.get_array_module(grad_noise)
        step = xp.zeros((grad_noise.shape[0], 1), dtype=grad_noise.dtype)
        return xp.concatenate([step, grad_noise * grad_noise.dtype.type(self.noise_scale)], axis=1)

    def one_hot(self, category, dtype):
        """(N,) categories -> (N, K) rows with a single 1."""
        xp = backend.get_array_module(category)
        return (category[:, None] == xp.arange(self.categories)).astype(dtype)

    def forward(self, z):
        self.check_input(z, 2, {})
        xp = backend.get_array_module(z)
        self.save_for_backward()  # nothing to keep, but a backward must still match a forward
        return xp.concatenate([self.one_hot(self.category(z), z.dtype), self.scaled_noise(z)], axis=1)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        self.saved()
        if not input_grad:
            return None
        return self.input_grad(grad_out[:, self.categories:])

    def __repr__(self) -> str:
        return f"CategoricalCode({self.categories}, noise_scale={self.noise_scale})"


class CodedDense(Dense):
    """CategoricalCode(K, s) followed by Dense(K + Z - 1, out), without multiplying by the one-hot.

    Same parameters, initialisation and result as ``Sequential(CategoricalCode(K, s), Dense(K + Z - 1,
    out))``, which the tests compare it with; only the cost differs. Shapes: z (N, Z) -> y (N, out);
    W (K + Z - 1, out), b (out,). With c the category of each row and u = s * z[:, 1:]:

      forward:   y = W[c] + u @ W[K:] + b        (one_hot(c) @ W[:K] just picks the rows W[c])
      backward, with G = dL/dy (N, out):
        dL/dW[:K] = one_hot(c)^T @ G             row k sums G over the rows of category k
        dL/dW[K:] = u^T @ G,   dL/db = sum_n G_n
        dL/dz     = [0, s * G @ W[K:]^T]         (the code is piecewise constant in z0)
    The one-hot product is what makes K = 256 categories slow in the plain pair: the gather replaces
    it in every forward pass (G runs forward twice a step, backward once).
    """

    def __init__(self, categories: int, z_dim: int, out_features: int, noise_scale: float = 1.0):
        self.code = CategoricalCode(categories, noise_scale)
        self.z_dim = z_dim
        super().__init__(categories + z_dim - 1, out_features)

    def forward(self, z):
        self.check_input(z, 2, {1: self.z_dim})
        K, W = self.code.categories, self.params["W"]
        category, u = self.code.category(z), self.code.scaled_noise(z)
        self.save_for_backward(category, u)
        y = W[category]  # a new array (advanced indexing copies), safe to add into
        y += u @ W[K:]
        y += self.params["b"]
        return y

    def backward(self, grad_out, input_grad=True, param_grads=True):
        category, u = self.saved()
        K, W = self.code.categories, self.params["W"]
        if param_grads:
            self.grads["W"][:K] += self.code.one_hot(category, grad_out.dtype).T @ grad_out
            self.grads["W"][K:] += u.T @ grad_out
            self.grads["b"] += grad_out.sum(axis=0)
        if not input_grad:
            return None
        return self.code.input_grad(grad_out @ W[K:].T)

    def __repr__(self) -> str:
        return (f"CodedDense({self.code.categories}, z_dim={self.z_dim}, out={self.out_features}, "
                f"noise_scale={self.code.noise_scale})")
