"""A categorical code made from the first noise coordinate: G becomes a mixture of K generators.

Why: G is a continuous map, and a continuous map of the connected Gaussian noise space can only
put mass on disconnected modes by drawing "bridges" of samples between them (Luzi et al. 2020,
"Ensembles of GANs for disconnected data"). Sharpening those bridges into steps is slow. A discrete
code lets G jump instead: sample i's category c_i picks a learned first-layer bias (the row of the
next Dense's weights that its one-hot value hits), so G is K generators that share every other
weight, as in MGAN (Hoang et al. 2018), and each can sit on a mode of its own.

Choose K several times the number of modes: each mode then gathers whole categories and its mass
comes out nearly right. With K = 64 on the 25-mode grid (2.56 a mode) the categories kept being
pushed between modes and G lost modes; K = 100 and K = 256 did well (README, toy mixtures).
"""
from __future__ import annotations

from statistics import NormalDist

from .. import backend
from .base import Module


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
        self._edges = [normal.inv_cdf(k / self.categories) for k in range(1, self.categories)]

    def forward(self, z):
        self.check_input(z, 2, {})
        xp = backend.get_array_module(z)
        category = xp.searchsorted(xp.asarray(self._edges, dtype=z.dtype), z[:, 0])
        one_hot = (category[:, None] == xp.arange(self.categories)).astype(z.dtype)
        return xp.concatenate([one_hot, z[:, 1:] * z.dtype.type(self.noise_scale)], axis=1)

    def backward(self, grad_out):
        xp = backend.get_array_module(grad_out)
        step = xp.zeros_like(grad_out[:, :1])  # the code is piecewise constant in z0
        return xp.concatenate([step, grad_out[:, self.categories:] * grad_out.dtype.type(self.noise_scale)],
                              axis=1)

    def __repr__(self) -> str:
        return f"CategoricalCode({self.categories}, noise_scale={self.noise_scale})"
