"""Lesson 34's exercises solved; near misses that fail."""
from minigan import backend
from minigan.layers.activations import sigmoid


def fixed_backward(x, W, b, grad_out):
    xp = backend.get_array_module(x)
    y = xp.tanh(x @ W + b)
    dz = grad_out * (1 - y * y)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)


def near_miss__fixed_backward__the_original_bug(x, W, b, grad_out):
    """dW without the tanh's derivative, as shipped."""
    xp = backend.get_array_module(x)
    y = xp.tanh(x @ W + b)
    dz = grad_out * (1 - y * y)
    return dz @ W.T, x.T @ grad_out, dz.sum(axis=0)


def near_miss__fixed_backward__tanh_derivative_1_minus_y(x, W, b, grad_out):
    """dW fixed, but tanh' taken as 1 - y instead of 1 - y^2: every array fails."""
    xp = backend.get_array_module(x)
    y = xp.tanh(x @ W + b)
    dz = grad_out * (1 - y)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)


def near_miss__fixed_backward__batch_mean(x, W, b, grad_out):
    """dW and db averaged over the batch: the loss is a sum here, not a mean."""
    xp = backend.get_array_module(x)
    y = xp.tanh(x @ W + b)
    dz = grad_out * (1 - y * y)
    return dz @ W.T, x.T @ dz / len(x), dz.mean(axis=0)


def silu_forward(x):
    return x * sigmoid(x)


def near_miss__silu_forward__overflows(x):
    """The textbook formula: exp(1000) overflows at x = -1000."""
    xp = backend.get_array_module(x)
    return x / (1 + xp.exp(-x))


def silu_backward(x, grad_out):
    s = sigmoid(x)
    return grad_out * (s + x * s * (1 - s))


def near_miss__silu_backward__no_product_rule(x, grad_out):
    """Only sigmoid(x): the product rule's second term x sigmoid'(x) is missing."""
    return grad_out * sigmoid(x)


def near_miss__silu_backward__sigmoid_derivative_wrong(x, grad_out):
    """sigmoid' taken as sigmoid(1 + sigmoid)."""
    s = sigmoid(x)
    return grad_out * (s + x * s * (1 + s))
