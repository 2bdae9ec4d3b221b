"""Exercises for lesson 20: the reparameterisation's backward, the KL's gradient.

Write the functions below, then run  python lessons/20_gan_vs_vae.py --exercise
and every check of the lesson runs on your functions instead of minigan's.
Use NumPy only (no minigan): the point is to write the derivatives yourself.
"""
import numpy as np


def reparameterize_backward(grad_z, logvar, eps):
    """Backward of z = mu + exp(logvar / 2) * eps: return (grad_mu, grad_logvar).

    Shapes: grad_z = dL/dz, logvar, eps: NumPy arrays of one shape, (N, L) (any shape
    works: everything is entry by entry). Returns dL/dmu and dL/dlogvar, that shape.

    Hint: eps is a constant here (drawn before the forward). dz/dmu = 1; for dz/dlogvar,
    differentiate exp(logvar / 2) with respect to logvar and multiply by eps. Then the
    chain rule, entry by entry.
    """
    raise NotImplementedError("TODO: (dL/dmu, dL/dlogvar) from dL/dz, each (N, L)")


def kl_gradient(mu, logvar):
    """Gradient of the batch-mean KL(q || N(0, I)): return (grad_mu, grad_logvar).

    Shapes: mu, logvar (N, L) NumPy arrays (N images, L latent coordinates). Returns two
    (N, L) arrays, the gradients of
        KL = (1/N) sum_n -1/2 sum_l (1 + logvar_nl - mu_nl^2 - exp(logvar_nl)).

    Hint: every term involves one entry only. Do not forget the 1/N of the mean, nor the
    -1/2 in front; at mu = 0, logvar = 0 (the prior) both gradients are 0.
    """
    raise NotImplementedError("TODO: (dKL/dmu, dKL/dlogvar), each (N, L)")
