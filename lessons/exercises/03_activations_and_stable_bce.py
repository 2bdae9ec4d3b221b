"""Exercise for lesson 03: a binary cross-entropy with logits that never overflows.

Write the function below, then run
    python lessons/03_activations_and_stable_bce.py --exercise
and the checks of sections 3 and 4 of the lesson run on your function instead of
minigan's. Use NumPy only (no minigan).
"""
import numpy as np


def bce_with_logits(logits, targets):
    """Binary cross-entropy of sigmoid(logits) against targets, averaged over the batch.

    Shapes: logits (N,) NumPy array (float32 or float64); targets a float or an array
    of shape (N,). Returns (loss, dlogits): loss a Python float, the MEAN over the N
    samples; dlogits = dL/dlogits, shape (N,), in the logits' dtype.

    Per sample, with x the logit, t the target and s the sigmoid:
        l(x, t) = -t log s(x) - (1 - t) log(1 - s(x)),   L = mean over the batch.
    It must stay finite and accurate (to a few units in the last place) for logits as
    large as +-1e4, in float32 and float64, without a single RuntimeWarning.

    Hint: never compute s(x) and then its log. Write -log s(x) and -log(1 - s(x)) as
    functions of x in which exp only ever sees values <= 0 (treat x >= 0 and x < 0
    apart, then join the two cases with |x| and max), and use log1p for log(1 + small).
    Then differentiate l with respect to x by hand: the result is short. L is a mean.
    A sigmoid that cannot overflow needs the same split on the sign of x.
    """
    raise NotImplementedError("TODO: the mean stable BCE and its gradient")
