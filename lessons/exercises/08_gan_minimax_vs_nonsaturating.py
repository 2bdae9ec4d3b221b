"""Exercise for lesson 08: the two generator losses' gradients in D's logit.

Write the functions below, then run
    python lessons/08_gan_minimax_vs_nonsaturating.py --exercise
and the lesson's gradient and saturation checks, and G's gradients in its section 2,
use your functions instead of minigan's. Use NumPy only (no minigan).
"""
import numpy as np


def minimax_generator_grad(logits):
    """The gradient of the minimax generator loss with respect to D's logits on fakes.

    Shapes: logits a NumPy array (N,) or (N, 1), one logit a per fake sample, D =
    sigmoid(a). Returns dL/dlogits, an array of the same shape.

    The loss is the batch mean, as minigan.losses.generator_loss(logits, "minimax")
    defines it (G minimises it):
        L = mean over the N fakes of log(1 - sigmoid(a))

    Hint: d sigmoid/da = sigmoid(a) (1 - sigmoid(a)), so per sample the derivative is
    simple; then mind the sign and the 1/N of the mean (N = logits.shape[0]).
    """
    raise NotImplementedError("TODO: d/dlogits of mean log(1 - sigmoid(logits))")


def nonsaturating_generator_grad(logits):
    """The gradient of the non-saturating generator loss with respect to D's logits.

    Shapes: logits a NumPy array (N,) or (N, 1), one logit a per fake sample, D =
    sigmoid(a). Returns dL/dlogits, an array of the same shape.

    The loss is the batch mean, as minigan.losses.generator_loss(logits,
    "nonsaturating") defines it (G minimises it):
        L = -mean over the N fakes of log sigmoid(a)

    Hint: d/da log sigmoid(a) = 1 - sigmoid(a). Both losses push D(G(z)) up, so both
    gradients are negative; the lesson checks that this one stays near -1/N where D
    rejects the fakes.
    """
    raise NotImplementedError("TODO: d/dlogits of -mean log sigmoid(logits)")
