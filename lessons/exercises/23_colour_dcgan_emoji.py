"""Exercise for lesson 23: the backward of a 2x nearest-neighbour upsampling.

Write the function below, then run
    python lessons/23_colour_dcgan_emoji.py --exercise
and the lesson's Upsample layer uses your backward: in its check against central
differences and in the training of the resize-then-convolve generator. Use NumPy only
(no minigan): the point is to write the derivative yourself.
"""
import numpy as np


def upsample_backward(grad):
    """dL/dx of the upsampling y[n, c, i, j] = x[n, c, i // 2, j // 2].

    Shapes: grad = dL/dy, a NumPy array (N, C, 2H, 2W). Returns dL/dx, (N, C, H, W).

    Hint: x[n, c, a, b] is copied into the four pixels y[n, c, 2a:2a+2, 2b:2b+2], and a
    value used four times receives the sum of their four gradients (the fork rule of
    lesson 19). A reshape to (N, C, H, 2, W, 2) puts each 2x2 block on axes 3 and 5.
    """
    raise NotImplementedError("TODO: the sum of each 2x2 block of grad")
