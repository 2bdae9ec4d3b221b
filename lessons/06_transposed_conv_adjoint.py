# %% [markdown]
# # Lesson 06 — Transposed convolution is the adjoint of convolution (and its backward)
#
# A convolution with a fixed kernel is LINEAR in its input: it is a (huge, sparse)
# matrix $C$ applied to the flattened image, $y = Cx$. Two things follow at once:
#
# - its input gradient is $\partial L/\partial x = C^\top\, \partial L/\partial y$:
#   multiply by the TRANSPOSED matrix;
# - "$C^\top$ applied to something" is itself a layer, the transposed convolution,
#   which maps a SMALL image to a LARGE one: exactly what a generator needs to go from a
#   4x4 map to an 8x8 image.
#
# So `Conv2d.backward` and `ConvTranspose2d.forward` are the same computation with the
# same kernel, and `ConvTranspose2d.backward` is `Conv2d.forward`: in minigan they
# literally call the same functions (`minigan/layers/conv.py`: both of the first pair
# call `conv_ops.conv2d_backward_input`, both of the second `im2col` +
# `conv2d_from_cols`). Comparing them with each other would check nothing, so the
# lesson compares each against an independent oracle: the matrix $C$ written out entry
# by entry from the formula below, and the plain loops of `conv_naive`. Nothing is
# "deconvolved": $C^\top$ is not $C$'s inverse.
#
# **Exercise.** Write `col2im` in `lessons/exercises/06_transposed_conv_adjoint.py`,
# then run `python lessons/06_transposed_conv_adjoint.py --exercise`: the adjoint
# checks and the transposed convolutions below that are built on `col2im` then run on
# your function instead of minigan's.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import rel_error
from minigan.layers import Conv2d, ConvTranspose2d, conv_ops
from minigan.layers.conv_naive import conv2d_naive, conv_transpose2d_naive

lesson = Lesson("06_transposed_conv_adjoint")
minigan.set_default_dtype("float64")
A, H = backend.asarray, backend.to_numpy
rng = backend.rng(lesson.seed)
rng_cols = backend.rng(lesson.seed + 1)        # the matrices c of section 2


def pair(c_in, c_out, k, s, p):
    """A Conv2d(c_in -> c_out) and the ConvTranspose2d(c_out -> c_in) sharing its
    kernel (c_out, c_in, k, k)."""
    conv = Conv2d(c_in, c_out, k, stride=s, padding=p, bias=False)
    convT = ConvTranspose2d(c_out, c_in, k, stride=s, padding=p, bias=False)
    convT.params["W"][...] = conv.params["W"]
    return conv, convT


def inner(a, b):
    return float((H(a) * H(b)).sum())


# %% [markdown]
# ## col2im: the scatter-add behind the transposed convolution
#
# Lesson 05's im2col copies the windows of $x$ $(N, C, H, W)$ into the columns of
#
# $$X_{cols}[(c, i, j),\, (r, q, n)] = x_{pad}[n,\, c,\, sr + i,\, sq + j],
#   \qquad X_{cols} \text{ is } (C k^2,\; H_o W_o N),$$
#
# and a convolution is $Y = W_{mat} X_{cols}$ with $W_{mat}$ = `W.reshape(O, C*k*k)`.
# im2col is linear in $x$; its adjoint, col2im, sends every entry of a
# $(C k^2, H_o W_o N)$ matrix back to the pixel im2col copied it from and ADDS it there
# (windows overlap when $s < k$, so a pixel collects several entries), then crops the
# $p$-pixel border. Its defining property, for any $x$ and any matrix $c$ of that
# shape:
#
# $$\langle \mathrm{im2col}(x), c \rangle = \langle x, \mathrm{col2im}(c) \rangle .$$
#
# The transposed convolution is then $C^\top y = \mathrm{col2im}(W_{mat}^\top Y)$, with
# $Y$ the $(O, H_o W_o N)$ matrix of $y$: the adjoint of
# $y = W_{mat}\, \mathrm{im2col}(x)$, one factor at a time. That is how minigan
# computes both `Conv2d.backward` and `ConvTranspose2d.forward`
# (`conv_ops.conv2d_backward_input`).
#
# The cell below is the function the exercise asks for. Outside exercise mode it is
# minigan's `conv_ops.col2im` on lesson 05's matrix layout; with `--exercise` it is
# yours. `transposed_conv` builds $C^\top y$ on it.

# %%
def col2im(cols, x_shape, kernel_size, stride, padding):
    """minigan's col2im on the matrix layout: cols (C*k*k, Ho*Wo*N) -> x (N, C, H, W).

    x_shape = (N, C, H, W); Ho = (H + 2p - k) // s + 1, Wo likewise (NumPy in and out).
    """
    N, C, Hh, Ww = x_shape
    k = kernel_size
    Ho = conv_ops.conv_out_size(Hh, k, stride, padding)
    Wo = conv_ops.conv_out_size(Ww, k, stride, padding)
    cols6 = A(cols).reshape(C, k, k, Ho, Wo, N)
    x = conv_ops.col2im(cols6, tuple(x_shape), stride, padding)
    return np.ascontiguousarray(H(x))


col2im = lesson.exercises(col2im)


def im2col(x, k, s, p):
    """minigan's im2col as lesson 05's matrix: x (N, C, H, W) -> (C*k*k, Ho*Wo*N)."""
    return H(conv_ops.im2col(A(x), k, k, s, p)).reshape(x.shape[1] * k * k, -1)


def transposed_conv(y, W, s, p, size):
    """C^T y = col2im(W_mat^T @ Y): y (N, O, Ho, Wo), W (O, C, k, k) NumPy arrays
    -> z (N, C, size, size), the adjoint of the Conv2d(C -> O) with kernel W."""
    N, O = y.shape[:2]
    C, k = W.shape[1], W.shape[2]
    Y = y.transpose(1, 2, 3, 0).reshape(O, -1)                  # (O, Ho*Wo*N)
    return col2im(W.reshape(O, -1).T @ Y, (N, C, size, size), k, s, p)


# %% [markdown]
# ## The matrices
#
# Column $m$ of a linear map's matrix is the map applied to the $m$-th unit vector. For
# a small `Conv2d` (1 channel, 5x5 -> 3x3, k3 s2 p1) that gives $C$ (9 x 25), which must
# equal the matrix written entry by entry from
#
# $$y_{o,r,q} = \sum_{c,i,j} W_{o,c,i,j}\; x_{c,\, sr + i - p,\, sq + j - p}
#   \qquad (x = 0 \text{ outside the image}),$$
#
# and the matrix of `ConvTranspose2d` with the same kernel (25 x 9) must be $C^\top$;
# so must the matrix of `transposed_conv` (built on `col2im`).

# %%
lesson.section("1. the matrices: Conv2d (5x5 -> 3x3, k3 s2 p1) and "
               "ConvTranspose2d (3x3 -> 5x5)")


def conv_matrix(W, size, s, p):
    """The matrix of Conv2d(kernel W (O, C, k, k), stride s, padding p) on
    (C, size, size) images, written entry by entry from
    y[o, r, q] = sum_{c, i, j} W[o, c, i, j] x[c, s*r + i - p, s*q + j - p]
    (zero outside).

    Rows: output pixels (o, r, q) flattened; columns: input pixels (c, h, w)
    flattened. Plain Python.
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
                                row = (o * out + r) * out + q
                                M[row, (c * size + h) * size + w] += W[o, c, i, j]
    return M


conv, convT = pair(1, 1, 3, 2, 1)
W1 = H(conv.params["W"])
# Column q of a linear map's matrix is the map applied to the q-th unit vector.
C = np.stack([H(conv(A(np.eye(25)[q].reshape(1, 1, 5, 5)))).ravel()
              for q in range(25)], axis=1)                      # (9, 25)
CT = np.stack([H(convT(A(np.eye(9)[q].reshape(1, 1, 3, 3)))).ravel()
               for q in range(9)], axis=1)                      # (25, 9)
CT_col2im = np.stack([transposed_conv(np.eye(9)[q].reshape(1, 1, 3, 3), W1, 2, 1, 5)
                      .ravel() for q in range(9)], axis=1)     # (25, 9)
print(f"  Conv2d matrix C: {C.shape} (9 outputs x 25 inputs), {np.count_nonzero(C)} "
      f"non-zeros of {C.size}; ConvTranspose2d matrix: {CT.shape}")
lesson.check("Conv2d's matrix = the matrix written entry by entry from the formula "
             "(max abs diff)", abs(C - conv_matrix(W1, 5, 2, 1)).max(), 1e-15)
lesson.check("ConvTranspose2d's matrix = C^T (max abs diff)", abs(CT - C.T).max(),
             1e-15)
lesson.check("transposed_conv's matrix (col2im) = C^T (max abs diff)",
             abs(CT_col2im - C.T).max(), 1e-15)

fig, axes = plt.subplots(1, 3, figsize=(14, 4.2),
                         gridspec_kw={"width_ratios": [25, 9, 9]})
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

# %% [markdown]
# ## What $C^\top$ does, pixel by pixel
#
# `Conv2d` (kernel $W$ $(O, C, k, k)$, stride $s$, padding $p$) computes each output
# pixel from a $k \times k$ window:
#
# $$y_{n,o,r,q} = \sum_{c,i,j} W_{o,c,i,j}\; x_{pad}[n,\, c,\, sr + i,\, sq + j].$$
#
# Each $x_{pad}$ pixel therefore feeds the outputs whose windows cover it, with weight
# $W_{o,c,i,j}$. The transpose reverses the arrows: each pixel of $y$ PAINTS a
# $k \times k$ copy of the kernel, scaled by its value, onto the big image at
# $(sr, sq)$, overlapping copies add up, and the $p$-pixel border is cropped:
#
# $$z[n,\, c,\, sr + i - p,\, sq + j - p] \mathrel{+}= W_{o,c,i,j}\; y_{n,o,r,q},
#   \qquad z \text{ is } (N, C, H', W'), \qquad H' = (H_o - 1)\,s - 2p + k$$
#
# (for $H = 8$, $k = 4$, $s = 2$, $p = 1$: $8 \to 4 \to 8$, a round trip). Shapes:
# minigan and PyTorch store a `ConvTranspose2d(in_ch=O, out_ch=C)` kernel as
# $(O, C, k, k)$: the SAME array as the `Conv2d(C -> O)` it transposes. When
# $H + 2p - k$ is not a multiple of $s$, several $H$ give the same $H_o$, and
# `output_padding` picks which one the transpose returns.
#
# ## The adjoint identity
#
# For any $x$ $(N, C, H, W)$ and any $y$ $(N, O, H_o, W_o)$, with
# $\langle a, b\rangle$ the sum of $a \cdot b$ over all entries:
#
# $$\langle Cx,\, y \rangle = \langle x,\, C^\top y \rangle .$$
#
# This is the definition of the transpose ($x^\top C^\top y = (Cx)^\top y$), and it is
# the test we run: it holds up to float64 rounding ($\sim 10^{-16}$ relative; the
# check allows $10^{-13}$) only if `ConvTranspose2d` is exactly the transpose of
# `Conv2d` (a wrong flip, offset or stride would leave an $O(1)$ error). The same
# identity, one factor down, checks `col2im` against im2col, on the same shapes.

# %%
lesson.section("2. <C x, y> = <x, C^T y> and <im2col(x), c> = <x, col2im(c)> "
               "on random data")
# (c_in, c_out, k, s, p, size)
configs = [(3, 4, 4, 2, 1, 8), (2, 5, 3, 1, 1, 6), (3, 2, 3, 2, 0, 7),
           (1, 3, 5, 3, 2, 9)]
for c_in, c_out, k, s, p, size in configs:
    conv, convT = pair(c_in, c_out, k, s, p)
    x = A(rng.standard_normal((2, c_in, size, size)))           # (N, C, H, W)
    Cx = conv(x)                                                # (N, O, Ho, Wo)
    y = A(rng.standard_normal(tuple(Cx.shape)))
    out_size = (Cx.shape[2] - 1) * s - 2 * p + k
    if out_size != size:        # (H + 2p - k) % s != 0: say which H we want back
        convT = ConvTranspose2d(c_out, c_in, k, stride=s, padding=p,
                                output_padding=size - out_size, bias=False)
        convT.params["W"][...] = conv.params["W"]
    CTy = convT(y)                                              # (N, C, H, W)
    lhs, rhs = inner(Cx, y), inner(x, CTy)
    extra = f" output_padding {convT.output_padding}" if convT.output_padding else ""
    name = f"C{c_in}->{c_out} k{k} s{s} p{p} {size}x{size}{extra}"
    lesson.check(f"{name}: <Cx, y> = {lhs:+.12f} vs <x, C^T y> (rel err)",
                 abs(lhs - rhs) / abs(lhs), 1e-13)
    x_h = H(x)
    cols_x = im2col(x_h, k, s, p)                               # (C*k*k, Ho*Wo*N)
    c = rng_cols.standard_normal(cols_x.shape)
    lhs, rhs = inner(cols_x, c), inner(x_h, col2im(c, x_h.shape, k, s, p))
    lesson.check(f"{name}: <im2col(x), c> = {lhs:+.12f} vs <x, col2im(c)> (rel err)",
                 abs(lhs - rhs) / abs(lhs), 1e-13)

# %% [markdown]
# ## Against independent oracles
#
# `Conv2d.backward(G)`, `ConvTranspose2d.forward(G)` and `transposed_conv` (on
# `col2im`) against $C^\top G$, with $C$ the matrix of the convolution written entry by
# entry from the formula (no minigan code); `ConvTranspose2d.backward` against $Cx$ and
# against the loops of `minigan.layers.conv_naive.conv2d_naive`; `ConvTranspose2d`
# against the "painting" loops of `conv_naive.conv_transpose2d_naive`.

# %%
lesson.section("3. Conv2d.backward = ConvTranspose2d.forward = C^T, and the other way "
               "round, against oracles")
conv, convT = pair(3, 4, 4, 2, 1)
x = A(rng.standard_normal((2, 3, 8, 8)))
G = A(rng.standard_normal((2, 4, 4, 4)))    # dL/dy for the conv's output (2, 4, 4, 4)
# The oracle: C (64 x 192, (4*4*4) outputs x (3*8*8) inputs) from the formula, loops
# only (no minigan code)
C_big = conv_matrix(H(conv.params["W"]), 8, 2, 1)
CT_G = (H(G).reshape(2, -1) @ C_big).reshape(2, 3, 8, 8)   # C^T G per sample: G^T C
C_x = (H(x).reshape(2, -1) @ C_big.T).reshape(2, 4, 4, 4)  # C x for each sample
lesson.check("the oracle is the convolution: Conv2d.forward(x) vs C x (rel err)",
             rel_error(conv(x), C_x), 1e-14)
conv(x)
dx = conv.backward(G)                                           # (2, 3, 8, 8)
lesson.check("Conv2d.backward(G) vs C^T G (rel err)", rel_error(dx, CT_G), 1e-14)
lesson.check("ConvTranspose2d.forward(G) vs C^T G (rel err)",
             rel_error(convT(G), CT_G), 1e-14)
lesson.check("transposed_conv(G) = col2im(W_mat^T G) vs C^T G (rel err)",
             rel_error(transposed_conv(H(G), H(conv.params["W"]), 2, 1, 8), CT_G),
             1e-14)
convT(G)
dG = convT.backward(x)              # dL/dinput of the transpose, for dL/doutput = x
lesson.check("ConvTranspose2d.backward(x) vs C x (rel err)", rel_error(dG, C_x), 1e-14)
lesson.check("ConvTranspose2d.backward(x) vs the loops conv2d_naive(x) (rel err)",
             rel_error(dG, conv2d_naive(x, conv.params["W"], 2, 1)), 1e-14)
lesson.check("ConvTranspose2d vs the painting loops conv_transpose2d_naive (rel err)",
             rel_error(convT(G), conv_transpose2d_naive(G, convT.params["W"], 2, 1)),
             1e-13)
# a generator-style upsampling: (N, 64, 4, 4) -> (N, 32, 8, 8)
up = ConvTranspose2d(64, 32, 4, stride=2, padding=1)
upsampled = up(A(rng.standard_normal((2, 64, 4, 4))))
print(f"  a generator's ConvTranspose2d(64, 32, k4 s2 p1): (2, 64, 4, 4) -> "
      f"{tuple(upsampled.shape)}")

# %% [markdown]
# ## Checkerboards
#
# The painted copies overlap unevenly when $k$ is not a multiple of $s$: with $k = 3$,
# $s = 2$, output pixels receive alternately 1 and 2 (1D) contributions, a checkerboard
# seen in many early GAN images. With $k = 4$, $s = 2$ (DCGAN's choice) every interior
# pixel receives the same NUMBER of copies (2 per axis), but not the same kernel
# entries. Along one axis, output pixel $t$ (before cropping) is painted by $W_i$ with
# $i = t - sr$, so $i$ runs over ONE parity class: even $t$ sees $W_0, W_2$, odd $t$
# sees $W_1, W_3$. In 2-D the interior pixels fall into four phases (row parity $a$,
# column parity $b$), and on a constant input $c$ a phase-$(a, b)$ pixel gets
#
# $$c \sum_{i \equiv a,\; j \equiv b \;(\mathrm{mod}\ 2)} W_{i,j},$$
#
# $c$ times the sum of one of the four 2x2 "phase sub-kernels" `W[a::2, b::2]` of $W$
# (4 x 4). So a k4 s2 layer paints a flat image from a flat input only if its four
# phase sub-kernels have equal sums. An all-ones kernel does (4 each), a learned one in
# general does not: k4 s2 still paints checkerboards, it merely makes them avoidable
# (with k3 s2 the sub-kernels have 4, 2, 2 and 1 entries, so even an all-ones kernel
# paints one). That is why G has to learn them away (or why some upsample by resizing
# and then convolving: Odena et al., "Deconvolution and Checkerboard Artifacts", 2016).
#
# Below, the overlaps are counted with an all-ones kernel on an image of ones; then a
# constant image is painted with k4 s2 and a random kernel (a checkerboard: the four
# phase sums) and with the same kernel adjusted so that its four phase sub-kernels have
# equal sums (flat). Both use `transposed_conv`, so `col2im` paints them.

# %%
lesson.section("4. overlaps: why k3 s2 paints a checkerboard on ANY kernel, and k4 s2 "
               "on most")
maps = {}
for k, p in ((3, 1), (4, 1)):
    size = (6 - 1) * 2 - 2 * p + k                              # H' of a 6x6 input
    # an all-ones kernel counts the copies that land on each pixel
    maps[k] = transposed_conv(np.ones((1, 1, 6, 6)), np.ones((1, 1, k, k)), 2, p,
                              size)[0, 0]
    interior = maps[k][2:-2, 2:-2]
    counts = sorted(set(interior.ravel().tolist()))
    print(f"  k={k}, s=2: 6x6 of ones -> {maps[k].shape}; interior overlap counts "
          f"{counts}")
lesson.check_that("k=4, s=2: every interior pixel gets the same number of copies (4)",
                  set(maps[4][2:-2, 2:-2].ravel().tolist()) == {4.0}, "")
lesson.check_that("k=3, s=2: uneven overlaps (1, 2 and 4 copies): a checkerboard",
                  set(maps[3][2:-2, 2:-2].ravel().tolist()) == {1.0, 2.0, 4.0}, "")


def paint_constant(W):
    """The transposed convolution (1 -> 1, k4 s2 p1) with kernel W (4, 4) applied to a
    6x6 image of ones -> the 8x8 interior of its 12x12 output."""
    return transposed_conv(np.ones((1, 1, 6, 6)), W.reshape(1, 1, 4, 4), 2, 1,
                           12)[0, 0, 2:-2, 2:-2]


def checkerboard(img):
    """(max - min) / max |value|: 0 for a flat image."""
    return float((img.max() - img.min()) / abs(img).max())


W_random = rng.standard_normal((4, 4))                          # a "learned" kernel
phase_sums = {(a, b): float(W_random[a::2, b::2].sum()) for a in (0, 1) for b in (0, 1)}
W_equal = W_random.copy()       # shift each phase sub-kernel to the mean sum
target = float(np.mean(list(phase_sums.values())))
for (a, b), total in phase_sums.items():
    W_equal[a::2, b::2] += (target - total) / 4
painted = {"random": paint_constant(W_random),
           "equal phase sums": paint_constant(W_equal)}
# the prediction: an interior output pixel t (t = 3..10 before the p = 1 crop) sees
# W[t % 2::2] along each axis
rows = np.arange(2, 10) + 1     # interior rows/columns, uncropped coordinates
predicted = np.array([[phase_sums[(r % 2, q % 2)] for q in rows] for r in rows])
values = sorted({round(float(v), 3) for v in painted["random"].ravel()})
print(f"  k4 s2, random kernel: phase sub-kernel sums "
      f"{[round(v, 3) for v in phase_sums.values()]}; interior of the painted "
      f"constant takes the values {values}")
lesson.check("k4 s2, random kernel: each interior pixel = the sum of its phase "
             "sub-kernel W[a::2, b::2] (max abs err)",
             abs(painted["random"] - predicted).max(), 1e-13)
amp_random = checkerboard(painted["random"])
amp_equal = checkerboard(painted["equal phase sums"])
lesson.check_that("k4 s2 with a random kernel still paints a checkerboard on a "
                  "constant input",
                  amp_random > 0.05, f"(max - min)/max|.| = {amp_random:.2f} > 0.05")
lesson.check("k4 s2 with the four phase sub-kernels' sums made equal: flat "
             "((max - min)/max|.|)", amp_equal, 1e-13)

fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
for ax, k in zip(axes[:2], (3, 4)):
    im = ax.imshow(maps[k], cmap="viridis", vmin=0, vmax=4)
    ax.set_title(f"transposed conv k{k} s2 of ones: copies per pixel", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
lo = min(v.min() for v in painted.values())
hi = max(v.max() for v in painted.values())
for ax, (name, img) in zip(axes[2:], painted.items()):
    im = ax.imshow(img, cmap="viridis", vmin=lo, vmax=hi)   # one colour scale for both
    ax.set_title(f"k4 s2, {name} kernel, constant input\n"
                 f"(interior; (max - min)/max = {checkerboard(img):.2g})", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
lesson.savefig(fig, "checkerboard.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Section 2 checks $\langle Cx, y\rangle = \langle x, C^\top y\rangle$ on one random
#    pair $(x, y)$ per layer, not the whole matrix. Why is that enough to catch a wrong
#    flip, offset or stride in the transposed convolution?
# 2. Is the transposed convolution the inverse of the convolution? Use the shape of $C$
#    that section 1 prints for the 5x5 -> 3x3 layer.
# 3. col2im must ADD where windows overlap. With an all-ones kernel on an image of ones,
#    what would section 4's overlap counts be for a col2im that assigns (`=`) instead,
#    and why do the adjoint checks of section 2 fail for it even at $s = 1$?
# 4. With k4 s2 every interior pixel receives 4 copies, yet a random kernel paints a
#    checkerboard on a constant input. Why, and why does k3 s2 paint one even with an
#    all-ones kernel?
#
# Short answers: `lessons/ANSWERS.md`.
