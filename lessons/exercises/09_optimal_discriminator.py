"""Exercise for lesson 09: the optimal discriminator and the GAN value on samples.

Write the two functions below, then run
    python lessons/09_optimal_discriminator.py --exercise
and the checks of sections 1 to 4 run on your functions instead of the lesson's.
Use NumPy only (no minigan): the point is to write the formulas yourself.
"""
import numpy as np


def optimal_discriminator(p_data, p_model):
    """The best discriminator for a fixed generator, from the two densities: D*(x).

    Shapes: p_data and p_model are NumPy arrays of the same shape (any shape, e.g. (N,)
    or (N, 1)), the density of the data and of the generator at the same points x; the
    values are >= 0. Returns D* as an array of that shape, with values in [0, 1].

    D maximises a log D + b log(1 - D) at every x, with a = p_data(x), b = p_model(x).
    Compute that maximiser elementwise.

    Hint: set the derivative a / D - b / (1 - D) to zero and solve for D. Where the two
    densities are equal, D* must be 1/2; where p_model is 0, D* must be 1.
    """
    raise NotImplementedError("TODO: D* = the maximiser of a log D + b log(1 - D)")


def gan_value(d_real, d_fake):
    """The GAN value V(D, G) estimated on samples, from D's probabilities.

    Shapes: d_real (N, 1), D(x) at N samples x of the data; d_fake (M, 1), D(x) at M
    samples of the generator; values in (0, 1). Returns a Python float.

    V(D, G) = E_{x ~ p_data} log D(x) + E_{x ~ p_g} log(1 - D(x)): estimate each
    expectation by the mean over its own batch.

    Hint: two means, one per batch, added (not one mean over both batches). np.log1p(-d)
    computes log(1 - d) accurately when d is small.
    """
    raise NotImplementedError("TODO: mean log D(real) + mean log(1 - D(fake))")
