"""Lesson 05 — convolution as im2col + one matrix product (GEMM), beside the naive loops, with timings.

THE IDEA
--------
A convolution is a small dot product repeated at every position of every image. Written as loops it
is slow in Python; but every one of those dot products uses the SAME kernel, so if we first copy each
window into a column of a matrix ("im2col"), the whole layer becomes ONE matrix product, which BLAS
(or cuBLAS on a GPU) computes at close to the machine's peak. The copy costs memory, the product wins
time, by orders of magnitude.

THE DEFINITION (cross-correlation, as PyTorch; "convolution" in deep learning never flips the kernel)
    x  (N, C, H, W)      N images, C channels
    W  (O, C, k, k)      O filters, each C x k x k;  b (O,)
    stride s, zero padding p:  x_pad is x with p zeros on every side
    Ho = (H + 2p - k) // s + 1,    Wo = (W + 2p - k) // s + 1
    y[n, o, r, c'] = b[o] + sum_{c, i, j} W[o, c, i, j] * x_pad[n, c, s*r + i, s*c' + j]     y (N, O, Ho, Wo)
Cost: N*O*Ho*Wo*C*k*k multiply-adds (MACs).

IM2COL
Make a matrix X_cols with one ROW per kernel entry (c, i, j) and one COLUMN per output position (n, r, c'):
    X_cols[(c, i, j), (n, r, c')] = x_pad[n, c, s*r + i, s*c' + j]          X_cols (C*k*k, N*Ho*Wo)
and flatten the kernels into the rows of W_mat = W.reshape(O, C*k*k). Then the sum above is
    Y = W_mat @ X_cols                    (O, C*k*k) @ (C*k*k, N*Ho*Wo) = (O, N*Ho*Wo)
and y is Y reshaped to (O, N, Ho, Wo) and transposed to (N, O, Ho, Wo). Building X_cols needs only k*k
strided slab copies (one per kernel offset (i, j), each moving the whole batch), not N*Ho*Wo windows.
The price: X_cols holds every input pixel about k*k/s^2 times (4 times for k=4, s=2).

THE BACKWARD USES THE SAME COLUMNS. With G = dL/dy reshaped like Y, (O, N*Ho*Wo):
    dW_mat = G @ X_cols^T      (O, N*Ho*Wo) @ (N*Ho*Wo, C*k*k) = (O, C*k*k)     another GEMM
    db     = G summed over n, r, c'
    dX_cols = W_mat^T @ G, then "col2im" adds each column back where it came from: that is dL/dx,
    and it is a transposed convolution (lesson 06).

A HAND EXAMPLE: x (1, 1, 3, 3) = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], W (1, 1, 2, 2) = [[1, 0], [0, -1]], s=1, p=0.
    Ho = Wo = 2, and y[r, c'] = x[r, c'] - x[r+1, c'+1] = -4 everywhere: y = [[-4, -4], [-4, -4]].
    X_cols (4 kernel entries x 4 positions): row (i, j) = the pixels that entry sees at each position
        (0,0): [1, 2, 4, 5]     (0,1): [2, 3, 5, 6]     (1,0): [4, 5, 7, 8]     (1,1): [5, 6, 8, 9]
    W_mat = [1, 0, 0, -1], and W_mat @ X_cols = [1-5, 2-6, 4-8, 5-9] = [-4, -4, -4, -4].

WHAT THE LESSON DOES
  1. the hand example, with the im2col matrix printed and drawn;
  2. four implementations of the same forward on random data, agreeing to ~1e-16: a 7-deep pure-Python
     loop (the definition), minigan.layers.conv_naive.conv2d_naive (loops over output pixels, numpy over
     the rest), the teaching im2col written in this file, and minigan.layers.Conv2d (im2col + GEMM);
     and dW, db from Conv2d.backward against the loops;
  3. times them on a DCGAN-sized layer and prints the speed-up (figure conv_speed.png).
Run:  python lessons/05_conv_im2col.py [--quick] [--backend cupy] [--out DIR]
"""
from _common import Lesson, plt, timeit  # first: sets up the path, BLAS threads, matplotlib's Agg backend

import itertools
import os
import time

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import rel_error
from minigan.layers import Conv2d
from minigan.layers.conv_naive import conv2d_naive

lesson = Lesson(__file__, __doc__)
A, H = backend.asarray, backend.to_numpy
rng = backend.rng(lesson.seed)


def im2col_teaching(x, k, s, p):
    """x (N, C, H, W) -> X_cols (C*k*k, N*Ho*Wo); row (c, i, j), column (n, r, c') = x_pad[n, c, s*r+i, s*c'+j]."""
    xp = backend.get_array_module(x)
    N, C, Hh, Ww = x.shape
    Ho, Wo = (Hh + 2 * p - k) // s + 1, (Ww + 2 * p - k) // s + 1
    x_pad = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    cols = xp.empty((C, k, k, N, Ho, Wo), dtype=x.dtype)
    for i in range(k):                          # k*k slab copies, each of the whole batch
        for j in range(k):
            window = x_pad[:, :, i:i + s * (Ho - 1) + 1:s, j:j + s * (Wo - 1) + 1:s]   # (N, C, Ho, Wo)
            cols[:, i, j] = window.transpose(1, 0, 2, 3)
    return cols.reshape(C * k * k, N * Ho * Wo), (N, Ho, Wo)


def conv_im2col_teaching(x, W, s, p):
    """y = W_mat @ X_cols, reshaped to (N, O, Ho, Wo). x (N, C, H, W), W (O, C, k, k)."""
    O, k = W.shape[0], W.shape[2]
    cols, (N, Ho, Wo) = im2col_teaching(x, k, s, p)
    Y = W.reshape(O, -1) @ cols                 # THE one GEMM: (O, C*k*k) @ (C*k*k, N*Ho*Wo)
    return Y.reshape(O, N, Ho, Wo).transpose(1, 0, 2, 3)


def conv_python_loops(x, W, s, p):
    """The definition, one multiply-add at a time (host NumPy arrays, Python floats)."""
    N, C, Hh, Ww = x.shape
    O, _, k, _ = W.shape
    Ho, Wo = (Hh + 2 * p - k) // s + 1, (Ww + 2 * p - k) // s + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))).tolist()   # lists: what pure Python is good at
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


# ---------------------------------------------------------------------------------------------
lesson.section("1. the hand example: 3x3 image, 2x2 kernel [[1, 0], [0, -1]]")
minigan.set_default_dtype("float64")
x = A(np.arange(1.0, 10.0).reshape(1, 1, 3, 3))
W = A([[[[1.0, 0.0], [0.0, -1.0]]]])
cols, _ = im2col_teaching(x, 2, 1, 0)
print("  X_cols (rows: kernel entries (i, j); columns: output positions):")
for (i, j), row in zip(itertools.product(range(2), range(2)), H(cols)):
    print(f"    ({i},{j}): {row.tolist()}")
y_hand = H(conv_im2col_teaching(x, W, 1, 0))[0, 0]
print(f"  W_mat @ X_cols -> y = {y_hand.tolist()}")
lesson.check("hand example: y = [[-4, -4], [-4, -4]] (max abs err)", abs(y_hand + 4).max(), 0.0)
expected_cols = [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]
lesson.check("hand example: the im2col matrix (max abs err)", abs(H(cols) - expected_cols).max(), 0.0)
hand_cols = H(cols)

# ---------------------------------------------------------------------------------------------
lesson.section("2. four implementations, one answer: x (2, 3, 7, 7), W (4, 3, 3, 3), stride 2, padding 1")
x_h = rng.standard_normal((2, 3, 7, 7))
layer = Conv2d(3, 4, 3, stride=2, padding=1, bias=False)
W_h = H(layer.params["W"])
y_loops = conv_python_loops(x_h, W_h, 2, 1)                # (2, 4, 4, 4)
y_naive = conv2d_naive(A(x_h), A(W_h), 2, 1)
y_teach = conv_im2col_teaching(A(x_h), A(W_h), 2, 1)
y_layer = layer(A(x_h))
print(f"  output shape {tuple(y_layer.shape)} = (N, O, (7 + 2 - 3)//2 + 1, ...)")
lesson.check("conv2d_naive vs pure-Python loops (rel err)", rel_error(y_naive, y_loops), 1e-13)
lesson.check("teaching im2col + GEMM vs loops (rel err)", rel_error(y_teach, y_loops), 1e-13)
lesson.check("minigan Conv2d vs loops (rel err)", rel_error(y_layer, y_loops), 1e-13)

# dW and db: the same windows, summed against G = dL/dy
G_h = rng.standard_normal(y_loops.shape)
layer_b = Conv2d(3, 4, 3, stride=2, padding=1)
layer_b.params["W"][...] = A(W_h)
layer_b.zero_grad()
layer_b(A(x_h))
layer_b.backward(A(G_h))
x_pad = np.pad(x_h, ((0, 0), (0, 0), (1, 1), (1, 1)))
dW_loops = np.zeros_like(W_h)                # dW[o, c, i, j] = sum_{n, r, c'} G[n, o, r, c'] x_pad[n, c, 2r+i, 2c'+j]
for o, c, i, j in itertools.product(range(4), range(3), range(3), range(3)):
    dW_loops[o, c, i, j] = (G_h[:, o] * x_pad[:, c, i:i + 7:2, j:j + 7:2]).sum()
lesson.check("dW: Conv2d.backward (G @ X_cols^T) vs loops (rel err)", rel_error(layer_b.grads["W"], dW_loops), 1e-13)
lesson.check("db: Conv2d.backward vs sum of G (rel err)", rel_error(layer_b.grads["b"], G_h.sum(axis=(0, 2, 3))),
             1e-13)

# ---------------------------------------------------------------------------------------------
N = 8 if lesson.quick else 64
lesson.section(f"3. speed: a DCGAN discriminator's 2nd layer, x ({N}, 64, 14, 14) -> y ({N}, 128, 7, 7), "
               "k4 s2 p1, float32")
minigan.set_default_dtype("float32")
layer = Conv2d(64, 128, 4, stride=2, padding=1, bias=False)
x_big = A(rng.standard_normal((N, 64, 14, 14)), dtype="float32")
W_big = layer.params["W"]
macs = N * 128 * 7 * 7 * 64 * 4 * 4
t_layer = timeit(lambda: layer(x_big), repeats=5)
t_teach = timeit(lambda: conv_im2col_teaching(x_big, W_big, 2, 1), repeats=5)
t_naive = timeit(lambda: conv2d_naive(x_big, W_big, 2, 1), repeats=2)
# pure Python: time a small layer, and extrapolate by the number of multiply-adds (it is linear in them)
x_small, W_small = rng.standard_normal((1, 8, 6, 6)), rng.standard_normal((8, 8, 4, 4))
t0 = time.perf_counter()
conv_python_loops(x_small, W_small, 2, 1)
per_mac = (time.perf_counter() - t0) / (1 * 8 * 3 * 3 * 8 * 4 * 4)
t_python = per_mac * macs

times = {"pure Python loops\n(extrapolated)": t_python, "conv2d_naive\n(loop over pixels)": t_naive,
         "teaching im2col\n+ GEMM": t_teach, "minigan Conv2d\n(im2col + GEMM)": t_layer}
print(f"  {macs / 1e6:.0f} million multiply-adds per forward pass "
      f"(BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')})")
for label, t in times.items():
    print(f"  {label.replace(chr(10), ' '):40s} {t * 1e3:10.1f} ms   {2 * macs / t / 1e9:7.2f} GFLOP/s")
lesson.check("minigan Conv2d vs conv2d_naive on this layer, float32 (rel err)",
             rel_error(layer(x_big), conv2d_naive(x_big, W_big, 2, 1)), 1e-5)
speedup = t_naive / t_layer
# On a GPU every small operation costs a kernel launch (~10 microseconds) whatever its size, which
# narrows the gap for a small batch; on a CPU the loops pay Python's overhead and numpy temporaries.
need = 5 if backend.name == "numpy" else 2
lesson.check_that(f"im2col + GEMM beats the pixel loops by more than {need}x", speedup > need,
                  f"{speedup:.0f}x faster ({t_naive * 1e3:.1f} ms -> {t_layer * 1e3:.2f} ms)")
print(f"  memory: X_cols holds {64 * 16 * N * 49 / (N * 64 * 14 * 14):.1f}x the input's values (k*k/s^2 = 4)")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1, 1.6]})
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
ax2.barh(range(len(labels)), [times[k] * 1e3 for k in labels], color=["gray", "tab:orange", "tab:blue", "tab:green"])
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
