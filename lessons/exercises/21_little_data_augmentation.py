"""Exercise for lesson 21: the backward of a random translation.

Write the function below, then run
    python lessons/21_little_data_augmentation.py --exercise
and the lesson checks your backward against central differences instead of minigan's.
Use NumPy only (no minigan): the point is to write the derivative yourself.
"""
import numpy as np


def translation_backward(grad, shifts):
    """dL/dx of the translation y[n, :, i, j] = x[n, :, i - s_n, j - t_n] (0 outside).

    Shapes: grad = dL/dy, a NumPy array (N, C, H, W); shifts (N, 2) integers
    (s_n, t_n): image n's content moved s_n rows down and t_n columns right.
    Returns dL/dx, (N, C, H, W).

    Hint: pixel x[n, :, a, b] went to y[n, :, a + s_n, b + t_n], so its gradient is
    the gradient there: shift grad back by (-s_n, -t_n). A pixel whose destination
    lies outside the image reached no output: its gradient is 0, not a value wrapped
    around from the other side (as np.roll would give).
    """
    raise NotImplementedError("TODO: shift grad back by -shifts, 0 where it leaves")
