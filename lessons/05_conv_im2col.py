# %% [markdown]
# # Lesson 05 — Convolution as im2col + one matrix product (GEMM), beside naive loops
#
# A convolution is a small dot product repeated at every position of every image.
# Written as loops it is slow in Python; but every one of those dot products uses the
# SAME kernel, so if we first copy each window into a column of a matrix ("im2col"),
# the whole layer becomes ONE matrix product, which BLAS (or cuBLAS on a GPU) computes
# at close to the machine's peak. The copy costs memory, the product wins time, by
# orders of magnitude.
#
# **Exercise.** Write `im2col` in `lessons/exercises/05_conv_im2col.py`, then run
# `python lessons/05_conv_im2col.py --exercise`: every check below that uses `im2col`
# then runs on your function instead of minigan's.
#
# ## The definition
#
# Cross-correlation, as PyTorch: "convolution" in deep learning never flips the kernel.
# The input $x$ is $(N, C, H, W)$: $N$ images of $C$ channels. The kernel $W$ is
# $(O, C, k, k)$: $O$ filters, each $C \times k \times k$, with a bias $b$ of shape
# $(O,)$. With stride $s$ and zero padding $p$ ($x_{pad}$ is $x$ with $p$ zeros on
# every side), the output $y$ is $(N, O, H_o, W_o)$ with
#
# $$H_o = \Big\lfloor \frac{H + 2p - k}{s} \Big\rfloor + 1, \qquad
#   W_o = \Big\lfloor \frac{W + 2p - k}{s} \Big\rfloor + 1,$$
#
# $$y_{n,o,r,q} = b_o + \sum_{c,i,j} W_{o,c,i,j}\; x_{pad}[n, c, sr + i, sq + j].$$
#
# Cost: $N\,O\,H_o W_o\, C k^2$ multiply-adds (MACs).

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend
from _common import timeit

import itertools
import os
import time

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import rel_error
from minigan.layers import Conv2d, conv_ops
from minigan.layers.conv_naive import conv2d_naive

lesson = Lesson("05_conv_im2col")
A, H = backend.asarray, backend.to_numpy
rng = backend.rng(lesson.seed)

# %% [markdown]
# ## im2col
#
# Make a matrix $X_{cols}$ with one ROW per kernel entry $(c, i, j)$ and one COLUMN per
# output position $(r, q, n)$:
#
# $$X_{cols}[(c, i, j),\, (r, q, n)] = x_{pad}[n,\, c,\, sr + i,\, sq + j],
#   \qquad X_{cols} \text{ is } (C k^2,\; H_o W_o N),$$
#
# the rows in the order $(c, i, j)$ ($j$ fastest), the columns in the order $(r, q, n)$
# ($n$ fastest: minigan puts the batch innermost, so that every copy below moves runs of
# $N$ contiguous values). Flatten the kernels into the rows of
# $W_{mat}$ = `W.reshape(O, C*k*k)`, whose columns are in the same order $(c, i, j)$.
# Then the sum above is
#
# $$Y = W_{mat}\, X_{cols}, \qquad
#   (O,\, C k^2)\,(C k^2,\, H_o W_o N) = (O,\, H_o W_o N),$$
#
# and $y$ is $Y$ reshaped to $(O, H_o, W_o, N)$ and transposed to $(N, O, H_o, W_o)$.
# Building $X_{cols}$ needs only $k^2$ strided slab copies (one per kernel offset
# $(i, j)$, each moving the whole batch), not $N H_o W_o$ windows. The price: $X_{cols}$
# holds every input pixel about $k^2/s^2$ times (4 times for $k = 4$, $s = 2$).
#
# The cell below is the function the exercise asks for. Outside exercise mode it is
# minigan's `conv_ops.im2col`, reshaped to the matrix; with `--exercise` it is yours.

# %%
def im2col(x, kernel_size, stride, padding):
    """minigan's im2col as a matrix: x (N, C, H, W) -> cols (C*k*k, Ho*Wo*N).

    cols[(c, i, j), (r, q, n)] = x_pad[n, c, s*r + i, s*q + j] (NumPy in and out).
    """
    k = kernel_size
    cols = conv_ops.im2col(A(x), k, k, stride, padding)     # (C, k, k, Ho, Wo, N)
    return H(cols).reshape(x.shape[1] * k * k, -1)


im2col = lesson.exercises(im2col)


def conv_im2col(x, W, s, p):
    """y = W_mat @ im2col(x), reshaped to (N, O, Ho, Wo).

    x (N, C, H, W), W (O, C, k, k): NumPy arrays.
    """
    N, _, Hh, Ww = x.shape
    O, k = W.shape[0], W.shape[2]
    Ho, Wo = conv_ops.conv_out_size(Hh, k, s, p), conv_ops.conv_out_size(Ww, k, s, p)
    Y = W.reshape(O, -1) @ im2col(x, k, s, p)   # THE one GEMM: (O, Ckk) @ (Ckk, HoWoN)
    return Y.reshape(O, Ho, Wo, N).transpose(3, 0, 1, 2)


# %% [markdown]
# ## A hand example
#
# $x$ of shape $(1, 1, 3, 3)$ = `[[1, 2, 3], [4, 5, 6], [7, 8, 9]]`, $W$ of shape
# $(1, 1, 2, 2)$ = `[[1, 0], [0, -1]]`, $s = 1$, $p = 0$. Then $H_o = W_o = 2$ and
# $y_{r,q} = x_{r,q} - x_{r+1,q+1} = -4$ everywhere: $y$ = `[[-4, -4], [-4, -4]]`.
#
# $X_{cols}$ has 4 kernel entries $\times$ 4 positions; row $(i, j)$ holds the pixels
# that entry sees at each position:
#
# | row $(i, j)$ | $(0,0)$ | $(0,1)$ | $(1,0)$ | $(1,1)$ |
# |---|---|---|---|---|
# | pixels | 1, 2, 4, 5 | 2, 3, 5, 6 | 4, 5, 7, 8 | 5, 6, 8, 9 |
#
# $W_{mat} = (1, 0, 0, -1)$, and
#
# $$W_{mat} X_{cols} = (1-5,\; 2-6,\; 4-8,\; 5-9) = (-4, -4, -4, -4).$$

# %%
lesson.section("1. the hand example: 3x3 image, 2x2 kernel [[1, 0], [0, -1]]")
minigan.set_default_dtype("float64")
x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
W = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
hand_cols = np.asarray(im2col(x, 2, 1, 0))
print("  X_cols (rows: kernel entries (i, j); columns: output positions):")
for (i, j), row in zip(itertools.product(range(2), range(2)), hand_cols):
    print(f"    ({i},{j}): {row.tolist()}")
y_hand = conv_im2col(x, W, 1, 0)[0, 0]
print(f"  W_mat @ X_cols -> y = {y_hand.tolist()}")
lesson.check("hand example: y = [[-4, -4], [-4, -4]] (max abs err)",
             abs(y_hand + 4).max(), 0.0)
expected_cols = [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]
lesson.check("hand example: the im2col matrix (max abs err)",
             abs(hand_cols - expected_cols).max(), 0.0)

# %% [markdown]
# ## Four implementations, one answer
#
# On random data with several channels, a stride and padding, four implementations of
# the same forward must agree to rounding error ($\sim 10^{-16}$): a 7-deep pure-Python
# loop (the definition, one multiply-add at a time),
# `minigan.layers.conv_naive.conv2d_naive` (loops over output pixels, NumPy over the
# rest), `im2col` above + one GEMM, and `minigan.layers.Conv2d` (im2col + GEMM).

# %%
lesson.section("2. four implementations, one answer: x (2, 3, 7, 7), W (4, 3, 3, 3), "
               "stride 2, padding 1")


def conv_python_loops(x, W, s, p):
    """The definition, one multiply-add at a time (host NumPy arrays, Python floats)."""
    N, C, Hh, Ww = x.shape
    O, _, k, _ = W.shape
    Ho, Wo = (Hh + 2 * p - k) // s + 1, (Ww + 2 * p - k) // s + 1
    # lists: what pure Python is good at
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))).tolist()
    Wl = W.tolist()
    y = np.zeros((N, O, Ho, Wo))
    for n, o, r, c2 in itertools.product(range(N), range(O), range(Ho), range(Wo)):
        acc = 0.0
        for c in range(C):
            for i in range(k):
                row, wrow = x_pad[n][c][s * r + i], Wl[o][c][i]
                for j in range(k):
                    acc += wrow[j] * row[s * c2 + j]
        y[n, o, r, c2] = acc
    return y


x_h = rng.standard_normal((2, 3, 7, 7))
layer = Conv2d(3, 4, 3, stride=2, padding=1, bias=False)
W_h = H(layer.params["W"])
y_loops = conv_python_loops(x_h, W_h, 2, 1)                # (2, 4, 4, 4)
y_naive = conv2d_naive(A(x_h), A(W_h), 2, 1)
y_im2col = conv_im2col(x_h, W_h, 2, 1)
y_layer = layer(A(x_h))
print(f"  output shape {tuple(y_layer.shape)} = (N, O, (7 + 2 - 3)//2 + 1, ...)")
lesson.check("conv2d_naive vs pure-Python loops (rel err)",
             rel_error(y_naive, y_loops), 1e-13)
lesson.check("im2col + GEMM vs loops (rel err)", rel_error(y_im2col, y_loops), 1e-13)
lesson.check("minigan Conv2d vs loops (rel err)", rel_error(y_layer, y_loops), 1e-13)

# %% [markdown]
# ## The backward uses the same columns
#
# With $G = \partial L/\partial y$ reshaped like $Y$, $(O, H_o W_o N)$:
#
# $$dW_{mat} = G\, X_{cols}^\top, \qquad
#   (O,\, H_o W_o N)\,(H_o W_o N,\, C k^2) = (O,\, C k^2) \quad\text{(another GEMM)},$$
#
# $$db_o = \sum_{n, r, q} G_{n,o,r,q}, \qquad dX_{cols} = W_{mat}^\top G,$$
#
# then "col2im" adds each column of $dX_{cols}$ back where it came from: that is
# $\partial L/\partial x$, and it is a transposed convolution (lesson 06). Below, $dW$
# from `im2col` above and from `Conv2d.backward` are checked against loops over
# $dW_{o,c,i,j} = \sum_{n,r,q} G_{n,o,r,q}\, x_{pad}[n, c, sr + i, sq + j]$.

# %%
# dW and db: the same windows, summed against G = dL/dy
G_h = rng.standard_normal(y_loops.shape)
layer_b = Conv2d(3, 4, 3, stride=2, padding=1)
layer_b.params["W"][...] = A(W_h)
layer_b.zero_grad()
layer_b(A(x_h))
layer_b.backward(A(G_h))
x_pad = np.pad(x_h, ((0, 0), (0, 0), (1, 1), (1, 1)))
# dW[o, c, i, j] = sum_{n, r, q} G[n, o, r, q] x_pad[n, c, 2r+i, 2q+j]
dW_loops = np.zeros_like(W_h)
for o, c, i, j in itertools.product(range(4), range(3), range(3), range(3)):
    dW_loops[o, c, i, j] = (G_h[:, o] * x_pad[:, c, i:i + 7:2, j:j + 7:2]).sum()
G_mat = G_h.transpose(1, 2, 3, 0).reshape(4, -1)            # (O, Ho*Wo*N), like Y
dW_im2col = (G_mat @ im2col(x_h, 3, 2, 1).T).reshape(W_h.shape)
lesson.check("dW: G @ im2col(x)^T vs loops (rel err)",
             rel_error(dW_im2col, dW_loops), 1e-13)
lesson.check("dW: Conv2d.backward (G @ X_cols^T) vs loops (rel err)",
             rel_error(layer_b.grads["W"], dW_loops), 1e-13)
lesson.check("db: Conv2d.backward vs sum of G (rel err)",
             rel_error(layer_b.grads["b"], G_h.sum(axis=(0, 2, 3))), 1e-13)

# %% [markdown]
# ## Speed
#
# The four implementations timed on a DCGAN discriminator's second layer,
# `Conv2d(64, 128, k4 s2 p1)` in float32 (the pure-Python loops on a small layer,
# extrapolated by the number of multiply-adds: their time is linear in it). The
# `im2col` above runs on NumPy arrays, so on the CuPy backend its bar is a CPU time.

# %%
N = 8 if lesson.quick else 64
lesson.section(f"3. speed: a DCGAN discriminator's 2nd layer, x ({N}, 64, 14, 14) -> "
               f"y ({N}, 128, 7, 7), k4 s2 p1, float32")
minigan.set_default_dtype("float32")
layer = Conv2d(64, 128, 4, stride=2, padding=1, bias=False)
x_big = A(rng.standard_normal((N, 64, 14, 14)), dtype="float32")
W_big = layer.params["W"]
x_big_h, W_big_h = H(x_big), H(W_big)
macs = N * 128 * 7 * 7 * 64 * 4 * 4
t_layer = timeit(lambda: layer(x_big), repeats=5)
t_im2col = timeit(lambda: conv_im2col(x_big_h, W_big_h, 2, 1), repeats=5)
t_naive = timeit(lambda: conv2d_naive(x_big, W_big, 2, 1), repeats=2)
# pure Python: time a small layer, and extrapolate by the number of multiply-adds
x_small, W_small = rng.standard_normal((1, 8, 6, 6)), rng.standard_normal((8, 8, 4, 4))
t0 = time.perf_counter()
conv_python_loops(x_small, W_small, 2, 1)
per_mac = (time.perf_counter() - t0) / (1 * 8 * 3 * 3 * 8 * 4 * 4)
t_python = per_mac * macs

times = {"pure Python loops\n(extrapolated)": t_python,
         "conv2d_naive\n(loop over pixels)": t_naive,
         "im2col above\n+ GEMM (NumPy)": t_im2col,
         "minigan Conv2d\n(im2col + GEMM)": t_layer}
print(f"  {macs / 1e6:.0f} million multiply-adds per forward pass "
      f"(BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')})")
for label, t in times.items():
    print(f"  {label.replace(chr(10), ' '):40s} {t * 1e3:10.1f} ms   "
          f"{2 * macs / t / 1e9:7.2f} GFLOP/s")
y_naive_big = conv2d_naive(x_big, W_big, 2, 1)
lesson.check("minigan Conv2d vs conv2d_naive on this layer, float32 (rel err)",
             rel_error(layer(x_big), y_naive_big), 1e-5)
lesson.check("im2col + GEMM vs conv2d_naive on this layer, float32 (rel err)",
             rel_error(conv_im2col(x_big_h, W_big_h, 2, 1), y_naive_big), 1e-5)
speedup = t_naive / t_layer
# On a GPU every small operation costs a kernel launch (~10 microseconds) whatever its
# size, which narrows the gap for a small batch; on a CPU the loops pay Python's
# overhead and NumPy temporaries.
need = 5 if backend.name == "numpy" else 2
lesson.check_that(f"im2col + GEMM beats the pixel loops by more than {need}x",
                  speedup > need,
                  f"{speedup:.0f}x faster ({t_naive * 1e3:.1f} ms -> "
                  f"{t_layer * 1e3:.2f} ms)")
big_cols = im2col(x_big_h, 4, 2, 1)
print(f"  memory: X_cols {tuple(big_cols.shape)} holds "
      f"{big_cols.size / x_big_h.size:.1f}x the input's values (k*k/s^2 = 4)")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8),
                               gridspec_kw={"width_ratios": [1, 1.6]})
ax1.imshow(hand_cols, cmap="Blues")
for (r, c), v in np.ndenumerate(hand_cols):
    ax1.text(c, r, f"{v:.0f}", ha="center", va="center")
ax1.set_yticks(range(4))
ax1.set_yticklabels(["(0,0)", "(0,1)", "(1,0)", "(1,1)"])
ax1.set_xticks(range(4))
ax1.set_xticklabels(["y[0,0]", "y[0,1]", "y[1,0]", "y[1,1]"])
ax1.set_ylabel("kernel entry (i, j)")
ax1.set_title("im2col of [[1,2,3],[4,5,6],[7,8,9]], 2x2 kernel")
labels = list(times)
ax2.barh(range(len(labels)), [times[k] * 1e3 for k in labels],
         color=["gray", "tab:orange", "tab:blue", "tab:green"])
for i, k in enumerate(labels):
    ax2.text(times[k] * 1e3, i, f" {times[k] * 1e3:.3g} ms", va="center", fontsize=8)
ax2.set_yticks(range(len(labels)))
ax2.set_yticklabels(labels, fontsize=8)
ax2.set_xscale("log")
ax2.invert_yaxis()
ax2.set_xlabel(f"ms per forward pass ({backend.name}, log scale)")
ax2.set_title(f"Conv2d(64, 128, k4 s2 p1), batch {N}: {speedup:.0f}x from im2col")
lesson.savefig(fig, "conv_speed.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. In the hand example every output is $-4$. Why, from the values of $x$? What does
#    this kernel measure, and what does it give on a constant image?
# 2. The rows of $X_{cols}$ are in the order $(c, i, j)$. Suppose an im2col put them in
#    the order $(i, j, c)$ instead: same shape, same values. What goes wrong in
#    $W_{mat} X_{cols}$, which check of section 2 catches it, and how could you fix it
#    by changing $W_{mat}$ only?
# 3. Section 3 prints how many times $X_{cols}$ holds the input's values. Why is it
#    $k^2/s^2$, and what is the price of that in memory for a large batch?
# 4. conv2d_naive and im2col + GEMM do the same multiply-adds, and im2col even copies
#    every input value about 4 times first. Why is the second still so much faster
#    (section 3 prints the factor and each one's GFLOP/s)?
#
# Short answers: `lessons/ANSWERS.md`.
