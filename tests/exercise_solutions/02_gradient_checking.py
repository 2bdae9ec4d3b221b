"""Lesson 02's exercise solved with minigan.gradcheck; near misses that fail."""
import numpy as np

from minigan import gradcheck


def numerical_gradient(f, x, h=1e-6):
    return gradcheck.numerical_gradient(f, x, h)


def relative_error(a, b):
    return gradcheck.rel_error(a, b)


def near_miss__numerical_gradient__forward_difference(f, x, h=1e-6):
    """(f(x + h) - f(x)) / h: one-sided, an error of order h instead of h^2."""
    grad, flat, f0 = np.zeros_like(x), x.reshape(-1), f()
    for i in range(x.size):
        old = float(flat[i])
        flat[i] = old + h
        grad.flat[i] = (f() - f0) / h
        flat[i] = old
    return grad


def near_miss__numerical_gradient__no_restore(f, x, h=1e-6):
    """The entry is left at old - h: every later entry is measured at a shifted x."""
    grad, flat = np.zeros_like(x), x.reshape(-1)
    for i in range(x.size):
        old = float(flat[i])
        flat[i] = old + h
        f_plus = f()
        flat[i] = old - h
        f_minus = f()
        grad.flat[i] = (f_plus - f_minus) / (2 * h)
    return grad


def near_miss__numerical_gradient__divide_by_h(f, x, h=1e-6):
    """(f(x + h) - f(x - h)) / h: twice the gradient."""
    grad, flat = np.zeros_like(x), x.reshape(-1)
    for i in range(x.size):
        old = float(flat[i])
        flat[i] = old + h
        f_plus = f()
        flat[i] = old - h
        f_minus = f()
        flat[i] = old
        grad.flat[i] = (f_plus - f_minus) / h
    return grad


def near_miss__relative_error__no_abs(a, b):
    """max(a - b) without the absolute value: a signed, possibly zero, 'error'."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float((a - b).max() / max(1e-8, float((abs(a) + abs(b)).max())))


def near_miss__relative_error__no_floor(a, b):
    """No 1e-8 floor in the denominator: a zero gradient against noise scores ~1."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(abs(a - b).max() / (abs(a) + abs(b)).max())


def near_miss__relative_error__relative_to_b(a, b):
    """Relative to b alone, max|a - b| / max|b|: not symmetric, twice as large."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(abs(a - b).max() / max(1e-8, float(abs(b).max())))
