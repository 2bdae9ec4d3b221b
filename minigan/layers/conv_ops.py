"""Convolution as im2col + one matrix product, and its two gradients.

Notation: a convolution C_W maps u (N, C, H, W) to v (N, O, Ho, Wo) with a
kernel W (O, C, kh, kw), stride s and zero padding p (cross-correlation, as
PyTorch):
    v[n, o, y, x] = sum_{c, i, j} W[o, c, i, j] * u_pad[n, c, s*y + i, s*x + j]
    Ho = (H + 2p - kh) // s + 1     (any H: rows past the last full window are unused)

im2col copies every window into a column, so the sum becomes one GEMM:
    cols (C*kh*kw, Ho*Wo*N),   v = W.reshape(O, C*kh*kw) @ cols.
The copy loops in Python over the kh*kw kernel offsets only; each offset moves
one strided slab of the whole batch at once, never single pixels.

C_W is linear in u, and its adjoint C_W^T (the *transposed convolution*) is
its input gradient: dL/du = C_W^T(dL/dv) = col2im(W^T @ dL/dv). So
Conv2d.backward and ConvTranspose2d.forward are the same function, and
ConvTranspose2d.backward is Conv2d.forward.
"""
from __future__ import annotations

from .. import backend


def conv_out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a convolution along one axis: (size + 2p - k) // s + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def im2col(u, kh: int, kw: int, stride: int, padding: int):
    """Windows of u as columns.

    u (N, C, H, W) -> cols (C, kh, kw, Ho, Wo, N), where
    cols[c, i, j, y, x, n] = u_pad[n, c, s*y + i, s*x + j].
    (Reshaped to (C*kh*kw, Ho*Wo*N) it is the right factor of the GEMM.)
    The batch axis is innermost: every slab copy below then moves runs of N
    contiguous values, which stays fast even for 2x2 or 4x4 images.
    """
    xp = backend.get_array_module(u)
    N, C, H, W = u.shape
    Ho, Wo = conv_out_size(H, kh, stride, padding), conv_out_size(W, kw, stride, padding)
    padded = xp.zeros((C, H + 2 * padding, W + 2 * padding, N), dtype=u.dtype)
    padded[:, padding:padding + H, padding:padding + W, :] = u.transpose(1, 2, 3, 0)
    cols = xp.empty((C, kh, kw, Ho, Wo, N), dtype=u.dtype)
    for i in range(kh):
        rows = slice(i, i + stride * (Ho - 1) + 1, stride)
        for j in range(kw):
            cols[:, i, j] = padded[:, rows, j:j + stride * (Wo - 1) + 1:stride, :]
    return cols


def col2im(cols, u_shape, stride: int, padding: int):
    """The adjoint of im2col: scatter-add columns back into an image.

    cols (C, kh, kw, Ho, Wo, N) -> u (N, C, H, W) with u_shape = (N, C, H, W);
    every cols entry is added to the pixel im2col copied it from (windows
    overlap when s < k, so a pixel collects several entries).
    """
    xp = backend.get_array_module(cols)
    C, kh, kw, Ho, Wo, N = cols.shape
    H, W = u_shape[2], u_shape[3]
    padded = xp.zeros((C, H + 2 * padding, W + 2 * padding, N), dtype=cols.dtype)
    for i in range(kh):
        rows = slice(i, i + stride * (Ho - 1) + 1, stride)
        for j in range(kw):
            padded[:, rows, j:j + stride * (Wo - 1) + 1:stride, :] += cols[:, i, j]
    return padded[:, padding:padding + H, padding:padding + W, :].transpose(3, 0, 1, 2)  # a view: see conv2d_from_cols


def conv2d_forward(u, W, stride: int, padding: int):
    """v = C_W(u).  u (N, C, H, W), W (O, C, kh, kw) -> v (N, O, Ho, Wo), and the cols for backward."""
    cols = im2col(u, W.shape[2], W.shape[3], stride, padding)
    return conv2d_from_cols(cols, W), cols


def conv2d_from_cols(cols, W):
    """The GEMM half of a convolution.  cols (C, kh, kw, Ho, Wo, N), W (O, C, kh, kw) -> v (N, O, Ho, Wo)."""
    C, kh, kw, Ho, Wo, N = cols.shape
    O = W.shape[0]
    v = W.reshape(O, -1) @ cols.reshape(C * kh * kw, -1)  # (O, Ho*Wo*N)
    # A view, not a copy: shape (N, O, Ho, Wo) as everywhere, memory still (O, Ho, Wo, N).
    # Elementwise layers keep that memory order, and the next im2col or batch_last then
    # reads it contiguously: the transposition is never paid for.
    return v.reshape(O, Ho, Wo, N).transpose(3, 0, 1, 2)


def batch_last(v):
    """(N, O, Ho, Wo) -> (O, Ho*Wo*N), the layout the GEMMs take dL/dv in."""
    xp = backend.get_array_module(v)
    return xp.ascontiguousarray(v.transpose(1, 2, 3, 0)).reshape(v.shape[1], -1)


def conv2d_backward_input(gv, W, u_shape, stride: int, padding: int):
    """dL/du = C_W^T(dL/dv): the transposed convolution.

    gv (N, O, Ho, Wo), W (O, C, kh, kw) -> (N, C, H, W) with (H, W) from u_shape.
    """
    O, C, kh, kw = W.shape
    N, _, Ho, Wo = gv.shape
    dcols = W.reshape(O, -1).T @ batch_last(gv)  # (C*kh*kw, Ho*Wo*N)
    return col2im(dcols.reshape(C, kh, kw, Ho, Wo, N), u_shape, stride, padding)


def conv2d_backward_weight(gv, cols):
    """dL/dW = dL/dv @ cols^T.  gv (N, O, Ho, Wo), cols (C, kh, kw, Ho, Wo, N) -> (O, C, kh, kw)."""
    C, kh, kw = cols.shape[:3]
    gw = batch_last(gv) @ cols.reshape(C * kh * kw, -1).T
    return gw.reshape(gv.shape[1], C, kh, kw)
