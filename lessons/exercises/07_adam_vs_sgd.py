"""Exercise for lesson 07: one step of Adam, with its bias correction.

Write the function below, then run  python lessons/07_adam_vs_sgd.py --exercise
and every Adam run of the lesson takes its steps with your function instead of
minigan's. Use NumPy only (no minigan): the point is to write the update yourself.
"""
import numpy as np


def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    """One Adam step on one parameter: return (new param, new m, new v).

    Shapes: param, grad, m, v NumPy arrays of one shape (any); t an int >= 1, the
    number of this step (1 for the first one, when m and v are still zero); lr, beta1,
    beta2, eps floats. Returns three arrays of param's shape.

    As minigan.optim.Adam (and torch.optim.Adam, without weight decay):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad^2
        param = param - lr * m_hat / (sqrt(v_hat) + eps)
    with the bias-corrected m_hat = m / (1 - beta1^t) and v_hat = v / (1 - beta2^t).

    Hint: update m and v first, then correct them with THIS step's t. eps is added
    after the square root, not under it: the lesson checks that a gradient of size
    eps moves the parameter by lr/2 on the first step.
    """
    raise NotImplementedError("TODO: one Adam step: update m and v, correct, step")
