"""Lesson 06 — transposed convolution is the adjoint of convolution (and so its backward pass).

THE IDEA
--------
A convolution with a fixed kernel is LINEAR in its input: it is a (huge, sparse) matrix C applied to
the flattened image, y = C x. Two things follow at once:
  * its input gradient is dL/dx = C^T dL/dy: multiply by the TRANSPOSED matrix;
  * "C^T applied to something" is itself a layer, the transposed convolution, which maps a SMALL
    image to a LARGE one: exactly what a generator needs to go from a 4x4 map to an 8x8 image.
So Conv2d.backward and ConvTranspose2d.forward are the same computation with the same kernel, and
ConvTranspose2d.backward is Conv2d.forward: in minigan they literally call the same functions
(minigan/layers/conv.py: both of the first pair call conv_ops.conv2d_backward_input, both of the second
im2col + conv2d_from_cols). Comparing them with each other would check nothing, so the lesson compares
each against an independent oracle: the matrix C written out entry by entry from the formula below,
and the plain loops of conv_naive. Nothing is "deconvolved": C^T is not C's inverse.

THE ADJOINT IDENTITY
For any x (N, C, H, W) and any y (N, O, Ho, Wo), with <a, b> = sum of a * b over all entries:
    <C x, y> = <x, C^T y>
This is the definition of the transpose (x^T C^T y = (C x)^T y), and it is the test we run: it holds
up to float64 rounding (~1e-16 relative; the check allows 1e-13) only if ConvTranspose2d is exactly the
transpose of Conv2d (a wrong flip, offset or stride would leave an O(1) error).

WHAT C^T DOES, PIXEL BY PIXEL
Conv2d (kernel W (O, C, k, k), stride s, padding p) computes each output pixel from a k x k window:
    y[n, o, r, c'] = sum_{c, i, j} W[o, c, i, j] x_pad[n, c, s*r + i, s*c' + j].
Each x_pad pixel therefore feeds the outputs whose windows cover it, with weight W[o, c, i, j]. The
transpose reverses the arrows: each pixel of y PAINTS a k x k copy of the kernel, scaled by its value,
onto the big image at (s*r, s*c'), overlapping copies add up, and the p-pixel border is cropped:
    z[n, c, s*r + i - p, s*c' + j - p] += W[o, c, i, j] * y[n, o, r, c']       z (N, C, H', W')
    H' = (Ho - 1)*s - 2p + k        (for H = 8, k = 4, s = 2, p = 1: 8 -> 4 -> 8, a round trip)
Shapes: minigan and PyTorch store a ConvTranspose2d(in_ch=O, out_ch=C) kernel as (O, C, k, k): the
SAME array as the Conv2d(C -> O) it transposes. When (H + 2p - k) is not a multiple of s, several H
give the same Ho, and output_padding picks which one the transpose returns.

CHECKERBOARDS. The painted copies overlap unevenly when k is not a multiple of s: with k = 3, s = 2,
output pixels receive alternately 1 and 2 (1D) contributions, a checkerboard seen in many early GAN
images. With k = 4, s = 2 (DCGAN's choice) every interior pixel receives the same NUMBER of copies
(2 per axis) -- but not the same kernel entries. Along one axis, output pixel t (before cropping) is
painted by W[i] with i = t - s*r, so i runs over ONE parity class: even t sees W[0], W[2], odd t sees
W[1], W[3]. In 2-D the interior pixels fall into four phases (row parity, column parity), and on a
constant input c a phase-(a, b) pixel gets
    c * sum(W[a::2, b::2])          one of the four 2x2 "phase sub-kernels" of W (4, 4)
So a k4 s2 layer paints a flat image from a flat input only if its four phase sub-kernels have equal
sums. An all-ones kernel does (4 each), a learned one in general does not: k4 s2 still paints
checkerboards, it merely makes them avoidable (with k3 s2 the sub-kernels have 4, 2, 2 and 1 entries,
so even an all-ones kernel paints one). That is why G has to learn them away (or why some upsample
by resizing and then convolving, Odena et al., "Deconvolution and Checkerboard Artifacts", 2016).

WHAT THE LESSON DOES
  1. builds the matrix C of a small Conv2d (1 channel, 5x5 -> 3x3, k3 s2 p1) column by column, and the
     matrix of ConvTranspose2d with the same kernel, and checks the second is the transpose of the first
     (figure conv_matrix.png);
  2. checks <C x, y> = <x, C^T y> on random multi-channel data (several strides and paddings);
  3. checks Conv2d.backward(G) and ConvTranspose2d.forward(G) against C^T G, with C the matrix of
     the convolution written entry by entry from the formula (no minigan code), and ConvTranspose2d's
     backward against C x and the loops of minigan.layers.conv_naive.conv2d_naive; ConvTranspose2d
     against the "painting" loops of conv_naive.conv_transpose2d_naive;
  4. counts the overlaps of k3 s2 vs k4 s2, then paints a constant image with k4 s2 and a random kernel
     (a checkerboard: the four phase sums) and with the same kernel adjusted so its four phase
     sub-kernels have equal sums (flat) (figure checkerboard.png).
Run:  python lessons/06_transposed_conv_adjoint.py [--quick] [--backend cupy] [--out DIR]
"""
from _common import Lesson, plt  # first: sets up the path, BLAS threads, matplotlib's Agg backend

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import rel_error
from minigan.layers import Conv2d, ConvTranspose2d
from minigan.layers.conv_naive import conv2d_naive, conv_transpose2d_naive

lesson = Lesson(__file__, __doc__)
minigan.set_default_dtype("float64")
A, H = backend.asarray, backend.to_numpy
rng = backend.rng(lesson.seed)


def pair(c_in, c_out, k, s, p):
    """A Conv2d(c_in -> c_out) and the ConvTranspose2d(c_out -> c_in) sharing its kernel (c_out, c_in, k, k)."""
    conv = Conv2d(c_in, c_out, k, stride=s, padding=p, bias=False)
    convT = ConvTranspose2d(c_out, c_in, k, stride=s, padding=p, bias=False)
    convT.params["W"][...] = conv.params["W"]
    return conv, convT


def inner(a, b):
    return float((H(a) * H(b)).sum())


def conv_matrix(W, size, s, p):
    """The matrix of Conv2d(kernel W (O, C, k, k), stride s, padding p) on (C, size, size) images, written
    entry by entry from y[o, r, q] = sum_{c, i, j} W[o, c, i, j] x[c, s*r + i - p, s*q + j - p] (zero outside).

    Rows: output pixels (o, r, q) flattened; columns: input pixels (c, h, w) flattened. Plain Python.
    """
    O, C, k, _ = W.shape
    out = (size + 2 * p - k) // s + 1
    M = np.zeros((O * out * out, C * size * size))
    for o in range(O):
        for r in range(out):
            for q in range(out):
                for c in range(C):
                    for i in range(k):
                        for j in range(k):
                            h, w = s * r + i - p, s * q + j - p
                            if 0 <= h < size and 0 <= w < size:
                                M[(o * out + r) * out + q, (c * size + h) * size + w] += W[o, c, i, j]
    return M


# ---------------------------------------------------------------------------------------------
lesson.section("1. the matrices: Conv2d (5x5 -> 3x3, k3 s2 p1) and ConvTranspose2d (3x3 -> 5x5)")
conv, convT = pair(1, 1, 3, 2, 1)
# Column q of a linear map's matrix is the map applied to the q-th unit vector.
C = np.stack([H(conv(A(np.eye(25)[q].reshape(1, 1, 5, 5)))).ravel() for q in range(25)], axis=1)   # (9, 25)
CT = np.stack([H(convT(A(np.eye(9)[q].reshape(1, 1, 3, 3)))).ravel() for q in range(9)], axis=1)   # (25, 9)
print(f"  Conv2d matrix C: {C.shape} (9 outputs x 25 inputs), {np.count_nonzero(C)} non-zeros of {C.size}; "
      f"ConvTranspose2d matrix: {CT.shape}")
lesson.check("Conv2d's matrix = the matrix written entry by entry from the formula (max abs diff)",
             abs(C - conv_matrix(H(conv.params["W"]), 5, 2, 1)).max(), 1e-15)
lesson.check("ConvTranspose2d's matrix = C^T (max abs diff)", abs(CT - C.T).max(), 1e-15)

fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), gridspec_kw={"width_ratios": [25, 9, 9]})
vmax = abs(C).max()
axes[0].imshow(C, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
axes[0].set_title("Conv2d as a matrix C (9 x 25)")
axes[0].set_xlabel("input pixel (5x5, flattened)")
axes[0].set_ylabel("output pixel (3x3)")
axes[1].imshow(C.T, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
axes[1].set_title("C^T (25 x 9)")
axes[2].imshow(CT, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
axes[2].set_title("ConvTranspose2d, same W")
axes[2].set_xlabel("input pixel (3x3)")
lesson.savefig(fig, "conv_matrix.png")

# ---------------------------------------------------------------------------------------------
lesson.section("2. <C x, y> = <x, C^T y> on random data")
configs = [(3, 4, 4, 2, 1, 8), (2, 5, 3, 1, 1, 6), (3, 2, 3, 2, 0, 7), (1, 3, 5, 3, 2, 9)]
for c_in, c_out, k, s, p, size in configs:
    conv, convT = pair(c_in, c_out, k, s, p)
    x = A(rng.standard_normal((2, c_in, size, size)))           # (N, C, H, W)
    Cx = conv(x)                                                # (N, O, Ho, Wo)
    y = A(rng.standard_normal(tuple(Cx.shape)))
    out_size = (Cx.shape[2] - 1) * s - 2 * p + k
    if out_size != size:                                        # (H + 2p - k) % s != 0: say which H we want
        convT = ConvTranspose2d(c_out, c_in, k, stride=s, padding=p, output_padding=size - out_size, bias=False)
        convT.params["W"][...] = conv.params["W"]
    CTy = convT(y)                                              # (N, C, H, W)
    lhs, rhs = inner(Cx, y), inner(x, CTy)
    extra = f" output_padding {convT.output_padding}" if convT.output_padding else ""
    lesson.check(f"C{c_in}->{c_out} k{k} s{s} p{p} {size}x{size}{extra}: <Cx, y> = {lhs:+.12f} vs <x, C^T y> (rel err)",
                 abs(lhs - rhs) / abs(lhs), 1e-13)

# ---------------------------------------------------------------------------------------------
lesson.section("3. Conv2d.backward = ConvTranspose2d.forward = C^T, and the other way round, against oracles")
conv, convT = pair(3, 4, 4, 2, 1)
x = A(rng.standard_normal((2, 3, 8, 8)))
G = A(rng.standard_normal((2, 4, 4, 4)))                        # dL/dy for the conv's output (2, 4, 4, 4)
# The oracle: C (64 x 192, (4*4*4) outputs x (3*8*8) inputs) from the formula, loops only (no minigan code)
C_big = conv_matrix(H(conv.params["W"]), 8, 2, 1)
CT_G = (H(G).reshape(2, -1) @ C_big).reshape(2, 3, 8, 8)       # C^T G for each sample, as rows: G^T C
C_x = (H(x).reshape(2, -1) @ C_big.T).reshape(2, 4, 4, 4)      # C x for each sample
lesson.check("the oracle is the convolution: Conv2d.forward(x) vs C x (rel err)", rel_error(conv(x), C_x), 1e-14)
conv(x)
dx = conv.backward(G)                                           # (2, 3, 8, 8)
lesson.check("Conv2d.backward(G) vs C^T G (rel err)", rel_error(dx, CT_G), 1e-14)
lesson.check("ConvTranspose2d.forward(G) vs C^T G (rel err)", rel_error(convT(G), CT_G), 1e-14)
convT(G)
dG = convT.backward(x)                                          # dL/dinput of the transpose, for dL/doutput = x
lesson.check("ConvTranspose2d.backward(x) vs C x (rel err)", rel_error(dG, C_x), 1e-14)
lesson.check("ConvTranspose2d.backward(x) vs the loops conv2d_naive(x) (rel err)",
             rel_error(dG, conv2d_naive(x, conv.params["W"], 2, 1)), 1e-14)
lesson.check("ConvTranspose2d vs the painting loops conv_transpose2d_naive (rel err)",
             rel_error(convT(G), conv_transpose2d_naive(G, convT.params["W"], 2, 1)), 1e-13)
# a generator-style upsampling: (N, 64, 4, 4) -> (N, 32, 8, 8)
up = ConvTranspose2d(64, 32, 4, stride=2, padding=1)
upsampled = up(A(rng.standard_normal((2, 64, 4, 4))))
print(f"  a generator's ConvTranspose2d(64, 32, k4 s2 p1): (2, 64, 4, 4) -> {tuple(upsampled.shape)}")

# ---------------------------------------------------------------------------------------------
lesson.section("4. overlaps: why k3 s2 paints a checkerboard on ANY kernel, and k4 s2 on most")
maps = {}
for k, p in ((3, 1), (4, 1)):
    t = ConvTranspose2d(1, 1, k, stride=2, padding=p, bias=False)
    t.params["W"][...] = 1.0                                    # count the copies that land on each pixel
    maps[k] = H(t(A(np.ones((1, 1, 6, 6)))))[0, 0]
    interior = maps[k][2:-2, 2:-2]
    counts = sorted(set(interior.ravel().tolist()))
    print(f"  k={k}, s=2: 6x6 of ones -> {maps[k].shape}; interior overlap counts {counts}")
lesson.check_that("k=4, s=2: every interior pixel gets the same number of copies (4)",
                  set(maps[4][2:-2, 2:-2].ravel().tolist()) == {4.0}, "")
lesson.check_that("k=3, s=2: uneven overlaps (1, 2 and 4 copies): a checkerboard",
                  set(maps[3][2:-2, 2:-2].ravel().tolist()) == {1.0, 2.0, 4.0}, "")


def paint_constant(W):
    """ConvTranspose2d(1 -> 1, k4 s2 p1) with kernel W (4, 4) applied to a 6x6 image of ones -> the 8x8 interior."""
    t = ConvTranspose2d(1, 1, 4, stride=2, padding=1, bias=False)
    t.params["W"][...] = A(W.reshape(1, 1, 4, 4))
    return H(t(A(np.ones((1, 1, 6, 6)))))[0, 0, 2:-2, 2:-2]


def checkerboard(img):
    """(max - min) / max |value|: 0 for a flat image."""
    return float((img.max() - img.min()) / abs(img).max())


W_random = rng.standard_normal((4, 4))                          # a "learned" kernel
phase_sums = {(a, b): float(W_random[a::2, b::2].sum()) for a in (0, 1) for b in (0, 1)}
W_equal = W_random.copy()                                       # shift each phase sub-kernel to the mean sum
target = float(np.mean(list(phase_sums.values())))
for (a, b), total in phase_sums.items():
    W_equal[a::2, b::2] += (target - total) / 4
painted = {"random": paint_constant(W_random), "equal phase sums": paint_constant(W_equal)}
# the prediction: an interior output pixel t (t = 2..9 before the p = 1 crop) sees W[t % 2::2] along each axis
rows = np.arange(2, 10) + 1                                     # interior rows/columns, uncropped coordinates
predicted = np.array([[phase_sums[(r % 2, q % 2)] for q in rows] for r in rows])
values = sorted({round(float(v), 3) for v in painted["random"].ravel()})
print(f"  k4 s2, random kernel: phase sub-kernel sums {[round(v, 3) for v in phase_sums.values()]}; "
      f"interior of the painted constant takes the values {values}")
lesson.check("k4 s2, random kernel: each interior pixel = the sum of its phase sub-kernel W[a::2, b::2] (max abs err)",
             abs(painted["random"] - predicted).max(), 1e-13)
amp_random, amp_equal = checkerboard(painted["random"]), checkerboard(painted["equal phase sums"])
lesson.check_that("k4 s2 with a random kernel still paints a checkerboard on a constant input",
                  amp_random > 0.05, f"(max - min)/max|.| = {amp_random:.2f} > 0.05")
lesson.check("k4 s2 with the four phase sub-kernels' sums made equal: flat ((max - min)/max|.|)", amp_equal, 1e-13)

fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
for ax, k in zip(axes[:2], (3, 4)):
    im = ax.imshow(maps[k], cmap="viridis", vmin=0, vmax=4)
    ax.set_title(f"ConvTranspose2d k{k} s2 of ones: copies per pixel", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
lo, hi = min(v.min() for v in painted.values()), max(v.max() for v in painted.values())
for ax, (name, img) in zip(axes[2:], painted.items()):
    im = ax.imshow(img, cmap="viridis", vmin=lo, vmax=hi)            # one colour scale for both
    ax.set_title(f"k4 s2, {name} kernel, constant input\n(interior; (max - min)/max = {checkerboard(img):.2g})",
                 fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
lesson.savefig(fig, "checkerboard.png")

lesson.finish()
