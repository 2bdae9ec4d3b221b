"""Lesson 09 solved with minigan (sigmoid, discriminator_loss); near misses that fail."""
import numpy as np

from minigan import backend
from minigan.layers import sigmoid
from minigan.losses import discriminator_loss


def optimal_discriminator(p_data, p_model):
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(p_data) - np.log(p_model)   # D*'s logit: the log density ratio
    return backend.to_numpy(sigmoid(t))


def gan_value(d_real, d_fake):
    def logit(d):
        return backend.asarray(np.log(d) - np.log1p(-d))
    loss, _, _ = discriminator_loss(logit(d_real), logit(d_fake), "bce")
    return -loss


def near_miss__optimal_discriminator__inverted_ratio(p_data, p_model):
    """The generator's density on top: the probability that x is FAKE."""
    return p_model / (p_data + p_model)


def near_miss__optimal_discriminator__density_ratio(p_data, p_model):
    """p_data is missing from the denominator: the density ratio, not a probability."""
    return p_data / p_model


def near_miss__gan_value__log_d_on_fakes(d_real, d_fake):
    """log D on the fakes too, instead of log(1 - D)."""
    return float(np.log(d_real).mean() + np.log(d_fake).mean())


def near_miss__gan_value__one_mean_over_both(d_real, d_fake):
    """One mean over the two batches together: half of V when they are the same size."""
    terms = np.concatenate([np.log(d_real), np.log1p(-d_fake)])
    return float(terms.mean())
