"""Exercise for lesson 11: spectral normalisation's power iteration and its backward.

Write the two functions below, then run
    python lessons/11_losses_and_lipschitz.py --exercise
and the lesson's power-iteration checks (section 5) and spectral-norm gradient checks
(section 6) run on your functions instead of minigan's.
Use NumPy only (no minigan): the point is to write them yourself.
"""
import numpy as np

EPS = 1e-12   # minigan's (and torch's) eps: normalise(a) = a / max(||a||, EPS)


def power_iteration(W, u, n_iterations):
    """Power iteration for the largest singular value of W: return (sigma, u, v).

    Shapes: W (out, in) a NumPy matrix; u (out,) the current estimate of the top left
    singular vector (a unit vector); n_iterations an int >= 1.
    Returns sigma (a float), u (out,) and v (in,), unit vectors.

    Repeat n_iterations times, in this order:
        v = normalise(W^T u),   u = normalise(W v),
    with normalise(a) = a / max(||a||, EPS); then sigma = u^T W v, with the last u, v.
    Do not change the u passed in: return the new one.

    Hint: both normalisations matter, and so does the order: v first, from the u you
    were given. np.linalg.norm and np.maximum do the normalising; W.T @ u is (in,).
    """
    raise NotImplementedError("TODO: v = normalise(W^T u), u = normalise(W v), sigma")


def spectral_norm_backward(W, u, v, sigma, dW_sn):
    """The gradient dL/dW through W_sn = W / sigma, with u and v held fixed.

    Shapes: W, dW_sn (out, in) NumPy matrices; u (out,), v (in,) unit vectors; sigma a
    float (sigma = u^T W v). dW_sn = G = dL/dW_sn, the gradient the layer computed with
    the normalised weight. Returns dL/dW (out, in).

    Hint: sigma = u^T W v depends on W too. Write d sigma / dW first (np.outer(u, v) is
    u v^T, shaped (out, in)), then apply the quotient rule to W / sigma entry by entry
    and sum over the entries of W_sn with the weights G. A check on your answer:
    scaling W does not change W_sn, so dL/dW must have no component along W,
    sum(dL/dW * W) = 0 whenever sigma = u^T W v.
    """
    raise NotImplementedError("TODO: dL/dW through W / sigma, u and v held fixed")
