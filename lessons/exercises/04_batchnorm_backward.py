"""Exercise for lesson 04: BatchNorm's backward pass.

Write the function below, then run  python lessons/04_batchnorm_backward.py --exercise
and every check of the lesson runs on your function instead of minigan's.
Use NumPy only (no minigan): the point is to write the derivative yourself.
"""
import numpy as np


def batchnorm_backward(x, gamma, eps, dy):
    """BatchNorm1d's training-mode backward: return (dx, dgamma, dbeta).

    Shapes: x, dy (m, C) NumPy arrays, m samples of C features; gamma (C,); eps a float.
    Returns dx (m, C), dgamma (C,), dbeta (C,).

    The forward, per feature (per column):
        mu = mean(x), var = mean((x - mu)^2)   (biased: divide by m)
        xhat = (x - mu) / sqrt(var + eps),     y = gamma * xhat + beta
    and dy = dL/dy. Compute dL/dx, dL/dgamma and dL/dbeta.

    Hint: dbeta and dgamma are sums over the batch (axis 0). For dx, every x_j moves mu
    and var too: derive dL/dvar and dL/dmu first, add the three paths into dx, then
    simplify until dx is written with dy, xhat and two batch sums only (the lesson's
    "The backward pass" does this step by step, if you want to compare). Check the
    shapes broadcast per column.
    """
    raise NotImplementedError("TODO: dx, dgamma, dbeta of BatchNorm1d in training mode")
