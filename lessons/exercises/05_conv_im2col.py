"""Exercise for lesson 05: im2col, the copy that turns a convolution into one GEMM.

Write the function below, then run  python lessons/05_conv_im2col.py --exercise
and every check of the lesson that uses im2col runs on your function instead of
minigan's. Use NumPy only (no minigan): the point is to build the columns yourself.
"""
import numpy as np


def im2col(x, kernel_size, stride, padding):
    """Copy every window of x into a column: the right factor of the convolution's GEMM.

    Shapes: x (N, C, H, W) NumPy array; kernel_size k, stride s, padding p ints.
    Returns cols (C*k*k, Ho*Wo*N) with Ho = (H + 2p - k) // s + 1 (Wo likewise), and
        cols[(c*k + i)*k + j, (r*Wo + q)*N + n] = x_pad[n, c, s*r + i, s*q + j]
    where x_pad is x with p zeros on every side of its last two axes. So the rows run
    over (c, i, j), j fastest (the order of W.reshape(O, C*k*k)), and the columns over
    output positions (r, q, n), the batch n fastest (minigan's layout).

    Hint: pad once with np.pad. Then loop over the k*k kernel offsets (i, j) only: for
    each, the strided slice x_pad[:, :, i:i + s*(Ho-1) + 1:s, j:j + s*(Wo-1) + 1:s] is
    (N, C, Ho, Wo); store it, transposed to (C, Ho, Wo, N), into an array of shape
    (C, k, k, Ho, Wo, N) at [:, i, j], and reshape that to (C*k*k, Ho*Wo*N) at the end.
    """
    raise NotImplementedError("TODO: the im2col matrix (C*k*k, Ho*Wo*N) of x")
