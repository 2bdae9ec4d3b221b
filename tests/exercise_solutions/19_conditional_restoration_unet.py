"""Lesson 19's exercise solved with minigan.pix2pix's generator_output_grad; near misses that fail."""
import numpy as np

from minigan import pix2pix


def generator_output_grad(grad_pair, fake, targets, l1_weight):
    return pix2pix.generator_output_grad(grad_pair, fake, targets, l1_weight)


def near_miss__generator_output_grad__input_channels(grad_pair, fake, targets, l1_weight):
    """The pair's FIRST channels kept: the gradient of x (data), not of G(x)."""
    return grad_pair[:, :fake.shape[1]] + l1_weight * np.sign(fake - targets) / fake.size


def near_miss__generator_output_grad__l1_of_the_sum(grad_pair, fake, targets, l1_weight):
    """The L1 term's gradient without its 1/M: the derivative of the sum, not of the mean."""
    return grad_pair[:, -fake.shape[1]:] + l1_weight * np.sign(fake - targets)


def near_miss__generator_output_grad__no_adversarial_term(grad_pair, fake, targets, l1_weight):
    """D's gradient forgotten: the L1 term alone."""
    return l1_weight * np.sign(fake - targets) / fake.size


def near_miss__generator_output_grad__l1_sign_flipped(grad_pair, fake, targets, l1_weight):
    """sign(t - G(x)): the L1 gradient pointing the wrong way."""
    return grad_pair[:, -fake.shape[1]:] + l1_weight * np.sign(targets - fake) / fake.size
