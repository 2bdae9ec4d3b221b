"""Gradient penalties on the discriminator, written without double backprop.

R1 (Mescheder, Geiger and Nowozin 2018, "Which training methods for GANs actually converge?")
penalises the slope of D at the REAL data:

    R1(theta) = gamma / 2 * mean_i ||g_i||^2,      g_i = dD(x_i)/dx_i

With R1 the real points become flat tops of D (zero slope), so G's gradient -dD/dx points from
a fake sample towards the nearest real mode instead of past it (docs/experiments.md has what it
did on the toy grid).

Its gradient in theta needs a second derivative. Double backprop would differentiate the
backward pass; instead we use that g is the input gradient of the same D. With g held fixed,

    d/dtheta (1/2 ||g||^2) = d/dtheta (g . dD(x)/dx)
                           = d/dtheta [D(x + h g) - D(x - h g)] / (2h)  +  O(h^2)

(a Hessian-vector product by central differences, Pearlmutter 1994, section 2): two more
ordinary forward/backward passes of D, through layers that only know first derivatives.
For a piecewise-linear D (LeakyReLU) the difference quotient is the slope averaged over the
segment x +- h g, a slightly smoothed R1; h is chosen so that the longest step is ``step``.
"""
from __future__ import annotations

from . import backend


def check_sample_wise(D) -> None:
    """R1 needs D(x_i) to depend on x_i alone; a batch-dependent layer (BatchNorm) mixes the batch."""
    for module in D.modules():
        if module.batch_dependent:
            raise ValueError("the R1 penalty needs a discriminator that judges each sample on its own; "
                             f"this one has {type(module).__name__} (use an architecture without BatchNorm "
                             "in D, such as mlp2d or convd)")


def input_gradient(D, x):
    """g = dD(x_i)/dx_i for every row: (N, ...) -> (N, ...), one backward pass of d(sum_i D(x_i))/dx.

    D's parameter gradients are left untouched (the backward pass asks for none).
    """
    D(x)
    return D.backward(backend.get_array_module(x).ones((x.shape[0], 1), dtype=x.dtype), param_grads=False)


def r1_penalty(D, x, gamma: float, step: float = 1e-2) -> float:
    """Add d/dtheta of gamma/2 * mean_i ||dD(x_i)/dx_i||^2 into D's parameter gradients; return its value.

    D: maps (N, ...) -> (N, 1) logits, each row from its own input row; its parameter gradients
       accumulate (call it between zero_grad and the optimiser step, like any other loss term).
    x: (N, ...) real batch, exactly as D takes it (packed, for PacGAN).
    step: length of the longest finite-difference step h * ||g_i|| (in the units of x).
    """
    xp = backend.get_array_module(x)
    n = x.shape[0]
    g = input_gradient(D, x)  # 1. the slope of D at the real points
    sq_norms = (g * g).reshape(n, -1).sum(axis=1)
    value = 0.5 * gamma * float(sq_norms.mean())
    largest = float(xp.sqrt(sq_norms.max()))
    if largest == 0.0:  # D is flat at every real point: R1 and its gradient are exactly 0
        return value
    h = step / largest
    # 2. dL/dtheta = gamma/N * sum_i [D(x_i + h g_i) - D(x_i - h g_i)] / (2h): both shifted
    #    batches go through D as one batch of 2N rows, with upstream gradients +c and -c.
    c = gamma / (2 * h * n)
    D(xp.concatenate([x + h * g, x - h * g]))
    upstream = xp.concatenate([xp.full((n, 1), c, dtype=x.dtype), xp.full((n, 1), -c, dtype=x.dtype)])
    D.backward(upstream, input_grad=False)
    return value
