"""Exercise for lesson 19: the gradient G's backward starts from (adversarial + L1).

Write the function below, then run
    python lessons/19_conditional_restoration_unet.py --exercise
and the lesson's check of dL_G/dG(x) against central differences uses your function
instead of minigan's. Use NumPy only (no minigan).
"""
import numpy as np


def generator_output_grad(grad_pair, fake, targets, l1_weight):
    """dL_G/dG(x), for L_G = L_adv(D([x, G(x)])) + l1_weight * mean |G(x) - t|.

    Shapes: grad_pair a NumPy array (N, C_in + C_out, H, W), D's input gradient of the
    adversarial term L_adv for the pair [x, G(x)] (x's C_in channels first, then G(x)'s
    C_out); fake = G(x) and targets t, both (N, C_out, H, W); l1_weight a float lambda.
    Returns dL_G/dG(x), an array of fake's shape.

    Hint: two terms. Which channels of D's input gradient reach G (x is data)? And the
    L1 term is a mean over all M = fake.size entries of |G(x) - t|: differentiate one
    entry (what is the derivative of |u|, and what will you use at u = 0?).
    """
    raise NotImplementedError("TODO: the gradient G's output receives from both terms")
