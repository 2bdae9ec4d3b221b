"""Exercise for lesson 26: softmax cross-entropy, its value and its backward.

Write the function below, then run
    python lessons/26_softmax_cross_entropy.py --exercise
and the checks of sections 2, 3 and 4 of the lesson run on your function instead of
minigan's: a gradient check, logits as large as 1e3, and the training of the digits
classifier that `minigan evaluate` uses. Use NumPy only (no minigan): the point is to
derive the backward yourself.
"""
import numpy as np


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    Shapes: logits (N, K) NumPy array (float32 or float64); labels (N,) integers in
    0..K-1. Returns (loss, dlogits): loss a Python float, the MEAN over the N rows of
    -log p[n, labels[n]] with p[n] = softmax(logits[n]); dlogits = dL/dlogits, shape
    (N, K), in the logits' dtype. It must stay finite and accurate for logits as
    large as 1e3 in float32 and float64.

    Hint: write one row's loss as -z_y + log(sum_j exp(z_j)) and differentiate it
    with respect to z_k by hand (two cases, k == y and k != y, or neither: the
    derivative of the log-sum-exp is a familiar function). Remember that L is a mean.
    For the forward, subtract each row's maximum before exp: log-sum-exp does not
    change its value except by that constant (section 3 of the lesson), and exp then
    never sees a positive number.
    """
    raise NotImplementedError("TODO: the mean cross-entropy and dL/dlogits")
