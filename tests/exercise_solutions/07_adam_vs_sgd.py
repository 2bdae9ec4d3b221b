"""Lesson 07's exercise solved with minigan's Adam; near misses that fail."""
import numpy as np

from minigan import backend
from minigan.layers import Module
from minigan.optim import Adam


def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    module = Module()
    module.add_param("p", backend.asarray(np.array(param, dtype=np.float64)))
    module.grads["p"][...] = backend.asarray(grad)
    opt = Adam(module, lr=lr, betas=(beta1, beta2), eps=eps)
    state = opt.state_dict()
    state.update({"step": np.array(t - 1), "m.p": np.asarray(m), "v.p": np.asarray(v)})
    opt.load_state_dict(state)
    opt.step()
    state = opt.state_dict()
    return backend.to_numpy(module.params["p"]).copy(), state["m.p"], state["v.p"]


def _moments(grad, m, v, beta1, beta2):
    return beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad * grad


def near_miss__adam_step__no_bias_correction(param, grad, m, v, t, lr, beta1, beta2,
                                             eps):
    """m and v used as they are, biased towards their zero start."""
    m, v = _moments(grad, m, v, beta1, beta2)
    return param - lr * m / (np.sqrt(v) + eps), m, v


def near_miss__adam_step__eps_under_the_square_root(param, grad, m, v, t, lr, beta1,
                                                    beta2, eps):
    """sqrt(v_hat + eps) instead of sqrt(v_hat) + eps."""
    m, v = _moments(grad, m, v, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return param - lr * m_hat / np.sqrt(v_hat + eps), m, v


def near_miss__adam_step__betas_swapped(param, grad, m, v, t, lr, beta1, beta2, eps):
    """beta2 averages the gradient and beta1 its square."""
    m, v = _moments(grad, m, v, beta2, beta1)
    m_hat, v_hat = m / (1 - beta2 ** t), v / (1 - beta1 ** t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
