"""Lesson 25's exercises solved (the Gram backward, InstanceNorm's backward as minigan
computes it, in NumPy); near misses that fail."""
import numpy as np


def gram_backward(features, grad_gram):
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    both = grad_gram + grad_gram.transpose(0, 2, 1)
    return (both @ f / (h * w)).reshape(features.shape)


def instance_norm_backward(x, grad_out, eps):
    centred = x - x.mean(axis=(2, 3), keepdims=True)
    inv_std = 1 / np.sqrt((centred ** 2).mean(axis=(2, 3), keepdims=True) + eps)
    x_hat = centred * inv_std
    g = grad_out
    return inv_std * (g - g.mean(axis=(2, 3), keepdims=True)
                      - x_hat * (g * x_hat).mean(axis=(2, 3), keepdims=True))


def near_miss__gram_backward__assumes_symmetric(features, grad_gram):
    """2 Gbar F / M: right for a style loss's symmetric Gbar, wrong for any other."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return (2 * grad_gram @ f / (h * w)).reshape(features.shape)


def near_miss__gram_backward__one_factor_only(features, grad_gram):
    """Gbar F / M: F counted as the first factor only, the transpose term forgotten."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return (grad_gram @ f / (h * w)).reshape(features.shape)


def near_miss__gram_backward__no_division_by_m(features, grad_gram):
    """(Gbar + Gbar^T) F: the 1/M of the forward forgotten."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return ((grad_gram + grad_gram.transpose(0, 2, 1)) @ f).reshape(features.shape)


def near_miss__instance_norm_backward__no_mean_term(x, grad_out, eps):
    """The plane's mean of g not subtracted: the path through mu forgotten."""
    centred = x - x.mean(axis=(2, 3), keepdims=True)
    inv_std = 1 / np.sqrt((centred ** 2).mean(axis=(2, 3), keepdims=True) + eps)
    x_hat = centred * inv_std
    g = grad_out
    return inv_std * (g - x_hat * (g * x_hat).mean(axis=(2, 3), keepdims=True))


def near_miss__instance_norm_backward__no_variance_term(x, grad_out, eps):
    """Only the mean projected out: the path through the variance forgotten."""
    centred = x - x.mean(axis=(2, 3), keepdims=True)
    inv_std = 1 / np.sqrt((centred ** 2).mean(axis=(2, 3), keepdims=True) + eps)
    g = grad_out
    return inv_std * (g - g.mean(axis=(2, 3), keepdims=True))


def near_miss__instance_norm_backward__batchnorm_sums(x, grad_out, eps):
    """BatchNorm2d's backward: means over (N, H, W) per channel, not per plane."""
    centred = x - x.mean(axis=(0, 2, 3), keepdims=True)
    inv_std = 1 / np.sqrt((centred ** 2).mean(axis=(0, 2, 3), keepdims=True) + eps)
    x_hat = centred * inv_std
    g = grad_out
    return inv_std * (g - g.mean(axis=(0, 2, 3), keepdims=True)
                      - x_hat * (g * x_hat).mean(axis=(0, 2, 3), keepdims=True))
