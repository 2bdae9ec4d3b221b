"""Batch normalisation with PyTorch's exact semantics.

Per feature (BatchNorm1d, input (N, C)) or per channel (BatchNorm2d, input
(N, C, H, W), statistics over N, H and W together), with m values in each:
    mu = mean(x),  var = mean((x - mu)^2)          (biased: divides by m)
    x_hat = (x - mu) / sqrt(var + eps)
    y = gamma * x_hat + beta
Training mode normalises with the batch's mu and var and updates
    running_mean = (1 - momentum) * running_mean + momentum * mu
    running_var  = (1 - momentum) * running_var  + momentum * var * m / (m - 1)   (unbiased)
Evaluation mode normalises with running_mean and running_var instead.

Backward in training mode (mu and var depend on every x in the group):
    dL/dbeta  = sum dy
    dL/dgamma = sum dy * x_hat
    dL/dx     = gamma / sqrt(var + eps) * (dy - (x_hat * dL/dgamma + dL/dbeta) / m)
(derived in lessons/04; the two sums are the projections of dy onto the
directions that subtracting the mean and dividing by the std remove).
In evaluation mode mu and var are constants: dL/dx = gamma / sqrt(running_var + eps) * dy.

Synchronised BatchNorm (``comm`` set, by minigan.distributed.synchronise_batchnorm): in data-
parallel training each of the P ranks holds a part of the batch, and the statistics are those of
the whole batch, m = sum_r m_r values. The forward allreduces one buffer per rank,
    [m_r, sum_r (x - K), sum_r (x - K)^2]    (K = running_mean, the same on every rank)
so that mu = K + S1 / m and var = S2 / m - (S1 / m)^2 (shifting by K, close to mu, keeps the
difference of squares from cancelling in float32). The backward allreduces [sum dy, sum dy * x_hat]:
with dy = dL_r/dy the gradient of each rank's own loss, every rank's
    dL_r/dx = gamma / sqrt(var + eps) * (dy - (x_hat * Sg + Sb) / m)
uses the sums Sb, Sg over ALL ranks, while dL/dgamma and dL/dbeta get this rank's own sums (the
gradient averaging after the backward adds the ranks' parts up). P ranks then compute exactly what
one process does with the whole batch.
"""
from __future__ import annotations

from .. import backend
from .base import Module


class _BatchNorm(Module):
    ndim = None  # input dims: 2 for BatchNorm1d, 4 for BatchNorm2d
    batch_dependent = True

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        xp, dt = backend.xp, backend.default_dtype()
        self.num_features, self.momentum, self.eps = num_features, momentum, eps
        self.add_param("gamma", xp.ones(num_features, dtype=dt))
        self.add_param("beta", xp.zeros(num_features, dtype=dt))
        self.buffers["running_mean"] = xp.zeros(num_features, dtype=dt)
        self.buffers["running_var"] = xp.ones(num_features, dtype=dt)
        self.comm = None  # a communicator: statistics over all its ranks' batches (see the module)

    @property
    def _axes(self):
        """The axes statistics are taken over: all but the channel axis 1."""
        return (0,) if self.ndim == 2 else (0, 2, 3)

    def _per_channel(self, v):
        """Reshape a (C,) vector so it broadcasts against the input: (1, C) or (1, C, 1, 1)."""
        return v.reshape((1, -1) + (1,) * (self.ndim - 2))

    def _statistics(self, x, m: int):
        """(mean, biased variance, x - mean, m) per channel, over this rank's m values."""
        if m < 2:
            raise ValueError(f"{self!r}: training mode needs more than one value per channel "
                             f"to estimate a variance, got input of shape {tuple(x.shape)}")
        mean = x.mean(axis=self._axes)
        centred = x - self._per_channel(mean)
        return mean, (centred * centred).mean(axis=self._axes), centred, m

    def _synchronised_statistics(self, x, m: int):
        """(mean, biased variance, x - mean, m) per channel, over the m values of all ranks together:
        one allreduce of [m_r, S1_r, S2_r], the sums of x - K and (x - K)^2 (see the module)."""
        xp = backend.get_array_module(x)
        shift = self.buffers["running_mean"]
        shifted = x - self._per_channel(shift)
        sums = xp.concatenate([xp.full(1, m, dtype=x.dtype), shifted.sum(axis=self._axes),
                               (shifted * shifted).sum(axis=self._axes)])
        self.comm.allreduce_mean(sums)
        sums *= self.comm.size
        m = int(round(float(sums[0])))
        if m < 2:
            raise ValueError(f"{self!r}: training mode needs more than one value per channel to estimate a "
                             f"variance, got {m} over all {self.comm.size} ranks")
        shifted_mean = sums[1:1 + self.num_features] / m
        var = xp.maximum(sums[1 + self.num_features:] / m - shifted_mean * shifted_mean, 0)
        shifted -= self._per_channel(shifted_mean)  # x - K - (mu - K) = x - mu
        return shift + shifted_mean, var, shifted, m

    def forward(self, x):
        self.check_input(x, self.ndim, {1: self.num_features})
        xp = backend.get_array_module(x)
        m = x.size // self.num_features
        if self.training:
            statistics = self._statistics if self.comm is None else self._synchronised_statistics
            mean, var, centred, m = statistics(x, m)
            mom = self.momentum
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm *= 1 - mom
            rm += mom * mean
            rv *= 1 - mom
            rv += (mom * m / (m - 1)) * var
        else:
            centred = x - self._per_channel(self.buffers["running_mean"])
            var = self.buffers["running_var"]
        inv_std = 1 / xp.sqrt(var + x.dtype.type(self.eps))
        x_hat = centred * self._per_channel(inv_std)
        # the mode too: the backward differentiates what this forward computed, whatever the mode is by then
        self.save_for_backward(x_hat, inv_std, m, self.training)
        y = x_hat * self._per_channel(self.params["gamma"])
        y += self._per_channel(self.params["beta"])
        return y

    def backward(self, grad_out, input_grad=True, param_grads=True):
        x_hat, inv_std, m, training = self.saved()
        if param_grads or (input_grad and training):  # the two sums: dL/dbeta, dL/dgamma
            dbeta = grad_out.sum(axis=self._axes)
            dgamma = (grad_out * x_hat).sum(axis=self._axes)
        if param_grads:
            self.grads["beta"] += dbeta
            self.grads["gamma"] += dgamma
        if not input_grad:
            return None
        scale = self.params["gamma"] * inv_std  # (C,)
        grad_in = grad_out * self._per_channel(scale)
        if training:
            if self.comm is not None:  # the two sums over all ranks (this rank's own went into grads)
                sums = self.comm.allreduce_mean(backend.get_array_module(dbeta).concatenate([dbeta, dgamma]))
                sums *= self.comm.size
                dbeta, dgamma = sums[:self.num_features], sums[self.num_features:]
            # scale * (dy - (x_hat dgamma + dbeta) / m), as three in-place passes
            grad_in -= self._per_channel(scale * dbeta / m)
            grad_in -= x_hat * self._per_channel(scale * dgamma / m)
        return grad_in

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_features}, momentum={self.momentum}, eps={self.eps})"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of features. Shapes: x (N, C) -> y (N, C); gamma, beta, running_* (C,)."""

    ndim = 2


class BatchNorm2d(_BatchNorm):
    """Batch normalisation per channel. Shapes: x (N, C, H, W) -> y (N, C, H, W); gamma, beta, running_* (C,)."""

    ndim = 4
