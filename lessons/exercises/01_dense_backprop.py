"""Exercise for lesson 01: a Dense layer's backward pass.

Write the function below, then run  python lessons/01_dense_backprop.py --exercise
and the checks of sections 1 to 3 of the lesson run on your function instead of
minigan's. Use NumPy only (no minigan): the point is to write the derivative yourself.
"""
import numpy as np


def dense_backward(x, W, dy):
    """A Dense layer's backward: return (dx, dW, db).

    Shapes: x (N, in) NumPy array, N samples of in features; W (in, out);
    dy (N, out). Returns dx (N, in), dW (in, out), db (out,).

    The forward is y = x @ W + b, that is y[n, j] = sum_i x[n, i] W[i, j] + b[j],
    with y of shape (N, out), and dy = dL/dy. Compute dL/dx, dL/dW and dL/db
    (b itself does not enter any of them).

    Hint: write the entry-wise sum first (dL/dW[i, j] = sum_n x[n, i] dy[n, j]), then
    recognise the matrix product in it. Each gradient has the shape of what it is the
    gradient of; and every sample of the batch adds to dW and db (a sum, not a mean).
    """
    raise NotImplementedError("TODO: dx, dW, db of y = x @ W + b")
