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
    (as the second). So dL/dF = (Gbar + Gbar^T) F / M with Gbar = grad_gram[n]. Reshape
    to (N, C, M), multiply with @ (it batches over the first axis), reshape back.
    """
    raise NotImplementedError("TODO: (Gbar + Gbar^T) F / M, per image")


def instance_norm_backward(x, grad_out, eps):
    """dL/dx of InstanceNorm2d without affine parameters.

    Shapes: x, grad_out = dL/dy (N, C, H, W) NumPy arrays; eps a float. Returns dL/dx,
    (N, C, H, W).

    The forward, per plane (each n and c, over its m = H * W values):
        mu = mean(x), var = mean((x - mu)^2)   (biased: divide by m)
        y = xhat = (x - mu) / sqrt(var + eps)

    Hint: it is lesson 04's BatchNorm backward with gamma = 1 and the means taken over
    each (n, c) plane (axis=(2, 3), keepdims=True) instead of over the batch:
    dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps), with g = grad_out.
    """
    raise NotImplementedError("TODO: dx of InstanceNorm2d, sums over each (n, c) plane")
