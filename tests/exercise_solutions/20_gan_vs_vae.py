"""Lesson 20's exercises solved with minigan.vae; near misses that fail."""
import numpy as np

from minigan import vae


def reparameterize_backward(grad_z, logvar, eps):
    return vae.reparameterize_backward(grad_z, logvar, eps)


def kl_gradient(mu, logvar):
    _, grad_mu, grad_logvar = vae.kl_standard_normal(mu, logvar)
    return grad_mu, grad_logvar


def near_miss__reparameterize_backward__no_half(grad_z, logvar, eps):
    """d exp(logvar/2)/dlogvar taken as exp(logvar/2): the chain rule's 1/2 dropped."""
    return grad_z, grad_z * eps * np.exp(0.5 * logvar)


def near_miss__reparameterize_backward__variance_for_std(grad_z, logvar, eps):
    """sigma^2 = exp(logvar) where sigma = exp(logvar / 2) belongs."""
    return grad_z, grad_z * eps * np.exp(logvar) / 2


def near_miss__reparameterize_backward__mu_scaled_by_sigma(grad_z, logvar, eps):
    """dz/dmu taken as sigma instead of 1."""
    sigma = np.exp(0.5 * logvar)
    return grad_z * sigma, grad_z * eps * sigma / 2


def near_miss__kl_gradient__no_minus_one(mu, logvar):
    """d/dlogvar of -1/2 (1 + logvar - exp(logvar)) taken as exp(logvar) / 2."""
    n = len(mu)
    return mu / n, np.exp(logvar) / (2 * n)


def near_miss__kl_gradient__no_batch_mean(mu, logvar):
    """The gradient of the batch SUM: the 1/N of the mean forgotten."""
    return mu, np.expm1(logvar) / 2


def near_miss__kl_gradient__sign_of_mu(mu, logvar):
    """-mu: the sign of the -1/2 applied twice."""
    n = len(mu)
    return -mu / n, np.expm1(logvar) / (2 * n)
