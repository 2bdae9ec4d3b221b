"""Lesson 08's exercise solved with minigan's generator_loss; near misses that fail."""
import numpy as np

from minigan import backend
from minigan.losses import generator_loss


def minimax_generator_grad(logits):
    return backend.to_numpy(generator_loss(backend.asarray(logits), "minimax")[1])


def nonsaturating_generator_grad(logits):
    return backend.to_numpy(generator_loss(backend.asarray(logits), "nonsaturating")[1])


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def near_miss__minimax_generator_grad__sign_error(logits):
    """+sigmoid(a)/N: the gradient of log(1 - D) with its sign lost."""
    return _sigmoid(logits) / logits.shape[0]


def near_miss__minimax_generator_grad__nonsaturating_form(logits):
    """The two losses swapped: (sigmoid(a) - 1)/N is the non-saturating gradient."""
    return (_sigmoid(logits) - 1) / logits.shape[0]


def near_miss__minimax_generator_grad__no_one_over_n(logits):
    """The derivative of the sum, not of the mean."""
    return -_sigmoid(logits)


def near_miss__nonsaturating_generator_grad__sign_error(logits):
    """(1 - sigmoid(a))/N: the gradient of -log D with its sign lost."""
    return (1 - _sigmoid(logits)) / logits.shape[0]


def near_miss__nonsaturating_generator_grad__minimax_form(logits):
    """The two losses swapped: -sigmoid(a)/N is the minimax (saturating) gradient."""
    return -_sigmoid(logits) / logits.shape[0]


def near_miss__nonsaturating_generator_grad__no_one_over_n(logits):
    """The derivative of the sum, not of the mean."""
    return _sigmoid(logits) - 1
