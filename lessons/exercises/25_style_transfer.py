"""Exercises for lesson 25: the Gram matrix's gradient, and InstanceNorm's backward.

Write the two functions below, then run
    python lessons/25_style_transfer.py --exercise
and the lesson uses yours: gram_backward in every style loss (its checks against
central differences, the texture, the style transfer), instance_norm_backward in
section 5 (its checks, and the content loss of the style transfer with moments).
Use NumPy only (no minigan): the point is to write the derivatives yourself.
"""
import numpy as np


def gram_backward(features, grad_gram):
    """dL/dF of the Gram matrix G = F F^T / M, one per image, from dL/dG.

    Shapes: features (N, C, H, W), a NumPy array; grad_gram = dL/dG (N, C, C), NOT
    necessarily symmetric. Returns dL/dF, (N, C, H, W). With F = features[n] as a
    (C, M) matrix, M = H * W: G[n] = F F^T / M.

    Hint: F[c, q] appears twice in G: in row c (as the first factor) and in column c
    (as the second). Write dG[a, b] / dF[c, q] for each of the two cases, then sum
    dL/dG[a, b] * dG[a, b]/dF[c, q] over a and b, and write the sum as matrix products.
    Section 1 checks it with a grad_gram that is NOT symmetric: a formula that holds
    only for symmetric ones fails there. Reshape to (N, C, M); @ batches over axis 0.
    """
    raise NotImplementedError("TODO: (Gbar + Gbar^T) F / M, per image")


def instance_norm_backward(x, grad_out, eps):
    """dL/dx of InstanceNorm2d without affine parameters.

    Shapes: x, grad_out = dL/dy (N, C, H, W) NumPy arrays; eps a float. Returns dL/dx,
    (N, C, H, W).

    The forward, per plane (each n and c, over its m = H * W values):
        mu = mean(x), var = mean((x - mu)^2)   (biased: divide by m)
        y = xhat = (x - mu) / sqrt(var + eps)

    Hint: x reaches y by three paths: directly, through mu and through var. Derive
    dL/dmu and dL/dvar first, then add the three paths, as lesson 04 did for BatchNorm
    over the batch axis; here every mean runs over one (n, c) plane (axis=(2, 3),
    keepdims=True). Two things your answer must satisfy (section 5 checks both): its sum
    over each plane is 0, and it is orthogonal to (x - mu) when eps = 0. Why?
    """
    raise NotImplementedError("TODO: dx of InstanceNorm2d, sums over each (n, c) plane")
