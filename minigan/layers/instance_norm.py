"""Instance normalisation (Ulyanov et al. 2016), with PyTorch's semantics: what CycleGAN's and style-transfer
networks normalise with, since one image's style should not depend on the others in its batch.

Each sample n's each channel c is normalised over its own H x W values (m = H W of them):
    mu = mean(x[n, c]),  var = mean((x[n, c] - mu)^2)          (biased: divides by m)
    x_hat = (x - mu) / sqrt(var + eps)
    y = gamma[c] * x_hat + beta[c]      (affine=True; otherwise y = x_hat)
No running statistics: the same computation in training and evaluation mode (PyTorch's default
``track_running_stats=False``), and no sample depends on another, so it is not batch-dependent.

Backward: BatchNorm's formula with the sums over one (n, c) plane instead of over N, H, W (lesson 04
derives it): with g = dL/dy and s = gamma / sqrt(var + eps),
    dL/dbeta[c]  = sum over n, i, j of g
    dL/dgamma[c] = sum over n, i, j of g * x_hat
    dL/dx = s * (g - (x_hat * sum_ij(g * x_hat) + sum_ij(g)) / m)      (sums per (n, c) plane)
The two per-plane sums are the projections of g onto the directions that subtracting the mean and
dividing by the standard deviation remove (both are constant along those directions).
"""
from __future__ import annotations

from .. import backend
from .base import Module


class InstanceNorm2d(Module):
    """Shapes: x (N, C, H, W) -> y (N, C, H, W); with affine=True, gamma and beta (C,) (start 1 and 0)."""

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = False):
        super().__init__()
        self.num_features, self.eps, self.affine = num_features, eps, affine
        if affine:
            xp, dt = backend.xp, backend.default_dtype()
            self.add_param("gamma", xp.ones(num_features, dtype=dt))
            self.add_param("beta", xp.zeros(num_features, dtype=dt))

    def forward(self, x):
        self.check_input(x, 4, {1: self.num_features})
        if x.shape[2] * x.shape[3] < 2:
            raise ValueError(f"{self!r}: expected more than one value per channel to estimate a variance, "
                             f"got input of shape {tuple(x.shape)}")
        xp = backend.get_array_module(x)
        centred = x - x.mean(axis=(2, 3), keepdims=True)
        inv_std = 1 / xp.sqrt((centred * centred).mean(axis=(2, 3), keepdims=True) + x.dtype.type(self.eps))
        x_hat = centred * inv_std                                  # (N, C, H, W); inv_std (N, C, 1, 1)
        self.save_for_backward(x_hat, inv_std)
        if not self.affine:
            return x_hat
        return x_hat * self.params["gamma"].reshape(1, -1, 1, 1) + self.params["beta"].reshape(1, -1, 1, 1)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        x_hat, inv_std = self.saved()
        if self.affine and param_grads:
            self.grads["beta"] += grad_out.sum(axis=(0, 2, 3))
            self.grads["gamma"] += (grad_out * x_hat).sum(axis=(0, 2, 3))
        if not input_grad:
            return None
        g = grad_out * self.params["gamma"].reshape(1, -1, 1, 1) if self.affine else grad_out
        m = x_hat.shape[2] * x_hat.shape[3]
        plane_sum = g.sum(axis=(2, 3), keepdims=True)               # (N, C, 1, 1)
        plane_dot = (g * x_hat).sum(axis=(2, 3), keepdims=True)
        return inv_std * (g - (x_hat * plane_dot + plane_sum) / m)

    def __repr__(self) -> str:
        return f"InstanceNorm2d({self.num_features}, eps={self.eps}, affine={self.affine})"
