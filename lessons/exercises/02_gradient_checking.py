"""Exercise for lesson 02: gradient checking by central differences.

Write the two functions below, then run
    python lessons/02_gradient_checking.py --exercise
and the checks of sections 1, 2, 3b and 4b of the lesson run on your functions
instead of minigan's. Use NumPy only (no minigan).
"""
import numpy as np


def numerical_gradient(f, x, h=1e-6):
    """The central-difference gradient of the scalar f() with respect to the array x.

    Shapes: x a NumPy array of any shape (C-contiguous), which f() reads; f takes no
    argument and returns a float; h a float. Returns an array of x's shape and dtype.

    For each entry x_i in turn: set x_i = old + h, call f(); set x_i = old - h, call
    f(); put old back; the gradient's entry i is (f_plus - f_minus) / (2 h). x must be
    perturbed IN PLACE (f reads it), and be left exactly as it was.

    Hint: flat = x.reshape(-1) is a view of a contiguous x, so flat[i] = v writes into
    x. Save old = float(flat[i]) first. A one-sided (f(x + h) - f(x)) / h has an error
    of order h, the central difference of order h^2: the lesson measures both.
    """
    raise NotImplementedError("TODO: (f(x + h e_i) - f(x - h e_i)) / 2h for every i")


def relative_error(a, b):
    """One relative error for two whole arrays: max|a - b| / max(1e-8, max(|a| + |b|)).

    Shapes: a, b NumPy arrays of one shape (or two floats). Returns a Python float.

    The numerator is the largest absolute difference over all entries; the
    denominator the largest |a_i| + |b_i|, but never below 1e-8 (a gradient that is
    exactly zero must not divide by zero).

    Hint: np.abs, .max() and max(1e-8, ...) are all you need; np.asarray turns a float
    into an array. Symmetric in a and b, and never negative.
    """
    raise NotImplementedError("TODO: max|a - b| / max(1e-8, max(|a| + |b|))")
