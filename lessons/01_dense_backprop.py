"""Lesson 01 — a Dense layer's forward and backward pass, by hand.

THE IDEA
--------
Backpropagation never builds a Jacobian. Each layer only has to turn the gradient of the loss
with respect to its OUTPUT (dL/dy, handed down from the layer above, same shape as y) into the
gradient with respect to its INPUT (dL/dx, handed further down) and to its PARAMETERS (dL/dW,
dL/db, kept for the optimiser). This lesson does that for the simplest layer, by hand.

FORWARD (Keras' layout: one sample per row, W is (in, out))
    x  (N, in)       a batch of N samples
    W  (in, out)
    b  (out,)
    y = x @ W + b    (N, out)         written entry by entry:
    y[n, j] = sum_i x[n, i] * W[i, j] + b[j]

BACKWARD
Call G = dL/dy, shape (N, out). L depends on W[i, j] only through the y's, so the chain rule says
    dL/dW[i, j] = sum_{n, k} G[n, k] * dy[n, k]/dW[i, j].
From the formula for y[n, k]: dy[n, k]/dW[i, j] = x[n, i] when k = j, and 0 otherwise. So
    dL/dW[i, j] = sum_n x[n, i] * G[n, j]       that is   dW = x^T @ G     (in, N) @ (N, out) = (in, out)
In the same way, dy[n, k]/dx[m, i] = W[i, k] when m = n (a sample never touches another), 0 otherwise:
    dL/dx[n, i] = sum_k G[n, k] * W[i, k]       that is   dx = G @ W^T     (N, out) @ (out, in) = (N, in)
and dy[n, k]/db[j] = 1 when k = j:
    dL/db[j]    = sum_n G[n, j]                 that is   db = G.sum(axis=0)                   (out,)

Two habits make this easy to get right:
  * write the entry-wise sum first, then recognise the matrix product in it;
  * check shapes: dW must be (in, out) like W, and x^T @ G is the only product of x and G that is.
Note the SUM over the batch in dW and db: every sample contributes to the same weights.

A 2x2 EXAMPLE TO DO ON PAPER (N = 2 samples, in = 2, out = 2)
    x = [[1, 2],      W = [[0.5, -1],      b = [0.1, 0.2]
         [3, 4]]           [2.0,  0]]
    y = x @ W + b = [[1*0.5 + 2*2 + 0.1,  1*(-1) + 2*0 + 0.2],   = [[4.6, -0.8],
                     [3*0.5 + 4*2 + 0.1,  3*(-1) + 4*0 + 0.2]]      [9.6, -2.8]]
Take the loss L = sum(y * G) for a fixed G = [[1, -1], [0, 2]]: then dL/dy = G exactly, and
    L  = 4.6 + 0.8 + 0 - 5.6 = -0.2
    dW = x^T @ G = [[1, 3], [2, 4]] @ [[1, -1], [0, 2]] = [[1, 5], [2, 6]]
    dx = G @ W^T = [[1, -1], [0, 2]] @ [[0.5, 2], [-1, 0]] = [[1.5, 2], [-2, 0]]
    db = G.sum(axis=0) = [1, 1]
The lesson checks these paper values against minigan.layers.Dense.

ACCUMULATION
minigan's backward ADDS into layer.grads (as PyTorch's .grad): a discriminator sees a real batch
and a fake batch, and the gradient of the sum of the two losses is the sum of the two gradients.
zero_grad() resets them. Forgetting zero_grad() silently doubles the next step: the lesson shows it.

WHAT THE LESSON DOES
  1. the paper example above, against Dense's forward and backward;
  2. the entry-wise sums written as Python loops, against the matrix formulas, on random data;
  3. what a derivative MEANS: nudge one weight by +-h, watch L move by dL/dW * h;
  4. accumulation and zero_grad;
  5. uses the gradients: fits a linear regression with nothing but Dense.backward and plain
     gradient descent, and recovers the true weights (figure: loss curve, weights found vs true).
Run:  python lessons/01_dense_backprop.py [--quick] [--backend cupy] [--out DIR]
"""
from _common import Lesson, plt  # first: sets up the path, BLAS threads, matplotlib's Agg backend

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import rel_error
from minigan.layers import Dense

lesson = Lesson(__file__, __doc__)
minigan.set_default_dtype("float64")  # exact comparisons below need float64 (lesson 02 says why)
xp, A, H = lesson.xp, backend.asarray, backend.to_numpy  # A: to the backend, H: back to the host

# ---------------------------------------------------------------------------------------------
lesson.section("1. the 2x2 example, on paper and in code")
layer = Dense(2, 2)
layer.params["W"][...] = A([[0.5, -1.0], [2.0, 0.0]])
layer.params["b"][...] = A([0.1, 0.2])
x = A([[1.0, 2.0], [3.0, 4.0]])            # (N=2, in=2)
G = A([[1.0, -1.0], [0.0, 2.0]])           # (N=2, out=2) = dL/dy for L = sum(y * G)

y = layer(x)
layer.zero_grad()
dx = layer.backward(G)
paper = {"y": [[4.6, -0.8], [9.6, -2.8]], "dx": [[1.5, 2.0], [-2.0, 0.0]],
         "dW": [[1.0, 5.0], [2.0, 6.0]], "db": [1.0, 1.0]}
code = {"y": y, "dx": dx, "dW": layer.grads["W"], "db": layer.grads["b"]}
for key in paper:
    print(f"  {key:2s} paper {np.array(paper[key]).tolist()}   code {np.round(H(code[key]), 12).tolist()}")
    lesson.check(f"{key}: paper vs Dense (rel err)", rel_error(np.array(paper[key]), code[key]), 1e-12)
lesson.check("L = sum(y * G) = -0.2 (abs err)", abs(float((y * G).sum()) - (-0.2)), 1e-12)

# ---------------------------------------------------------------------------------------------
lesson.section("2. entry-wise sums (loops) vs the matrix formulas, random shapes N=5, in=4, out=3")
rng = backend.rng(lesson.seed)
N, n_in, n_out = 5, 4, 3
layer = Dense(n_in, n_out)
x = rng.standard_normal((N, n_in))         # host copies: the loops below index them entry by entry
G = rng.standard_normal((N, n_out))
layer(A(x))
layer.zero_grad()
dx_code = H(layer.backward(A(G)))
W = H(layer.params["W"])

dW_loop = np.zeros((n_in, n_out))          # dL/dW[i, j] = sum_n x[n, i] G[n, j]
for i in range(n_in):
    for j in range(n_out):
        dW_loop[i, j] = sum(x[n, i] * G[n, j] for n in range(N))
dx_loop = np.zeros((N, n_in))              # dL/dx[n, i] = sum_k G[n, k] W[i, k]
for n in range(N):
    for i in range(n_in):
        dx_loop[n, i] = sum(G[n, k] * W[i, k] for k in range(n_out))
db_loop = np.array([sum(G[n, j] for n in range(N)) for j in range(n_out)])
lesson.check("dW: loops vs x^T @ G (rel err)", rel_error(dW_loop, layer.grads["W"]), 1e-12)
lesson.check("dx: loops vs G @ W^T (rel err)", rel_error(dx_loop, dx_code), 1e-12)
lesson.check("db: loops vs G.sum(0) (rel err)", rel_error(db_loop, layer.grads["b"]), 1e-12)

# ---------------------------------------------------------------------------------------------
lesson.section("3. what the number means: nudge W[1, 2] by +-h and watch L")
def loss():  # L = sum(y * G): a scalar whose gradient w.r.t. y is G
    return float((layer(A(x)) * A(G)).sum())

h = 1e-4
Wp = layer.params["W"]
old = float(Wp[1, 2])
Wp[1, 2] = old + h
L_plus = loss()
Wp[1, 2] = old - h
L_minus = loss()
Wp[1, 2] = old
slope = (L_plus - L_minus) / (2 * h)
analytic = float(layer.grads["W"][1, 2])
print(f"  (L(W + h e) - L(W - h e)) / 2h = {slope:.10f}    dW[1, 2] from backward = {analytic:.10f}")
# L is linear in W, so the central difference is exact up to rounding (~1e-16 / h).
lesson.check("one weight: finite difference vs backward (rel err)", rel_error(slope, analytic), 1e-9)

# ---------------------------------------------------------------------------------------------
lesson.section("4. backward ADDS into grads; zero_grad resets")
layer.zero_grad()
layer(A(x))
layer.backward(A(G))
once = H(layer.grads["W"]).copy()
layer(A(x))
layer.backward(A(G))                        # no zero_grad in between: a second, identical batch
lesson.check("two backward passes give twice the gradient (rel err)", rel_error(H(layer.grads["W"]), 2 * once),
             1e-12)
layer.zero_grad()
lesson.check("zero_grad leaves zeros (max |grad|)", float(abs(H(layer.grads["W"])).max()), 0.0)

# ---------------------------------------------------------------------------------------------
lesson.section("5. using the gradient: linear regression by gradient descent on Dense alone")
# Data t = x @ W_true + b_true + noise; loss L = mean over n and j of (y - t)^2.
# dL/dy = 2 (y - t) / (N * out): this is the G that starts backward.
N, n_in, n_out = 256, 6, 3
W_true = rng.standard_normal((n_in, n_out))
b_true = rng.standard_normal(n_out)
x = A(rng.standard_normal((N, n_in)))
noise_std = 0.01
t = x @ A(W_true) + A(b_true) + noise_std * A(rng.standard_normal((N, n_out)))
model = Dense(n_in, n_out)
lr, steps = 0.2, 150 if lesson.quick else 400
losses = []
for step in range(steps):
    y = model(x)
    diff = y - t
    losses.append(float((diff * diff).mean()))
    model.zero_grad()                        # without it each step would add to the previous gradient
    model.backward(2 * diff / diff.size)
    for name, p, g in model.parameters():
        p -= lr * g                          # plain gradient descent, in place
print(f"  loss: {losses[0]:.3f} at step 0 -> {losses[-1]:.2e} at step {steps - 1} "
      f"(noise floor {noise_std ** 2:.0e})")
lesson.check("W found vs W_true (max abs err)", float(abs(H(model.params["W"]) - W_true).max()), 5e-3)
lesson.check("b found vs b_true (max abs err)", float(abs(H(model.params["b"]) - b_true).max()), 5e-3)
lesson.check_that("loss reached the noise floor", losses[-1] < 2 * noise_std ** 2,
                  f"{losses[-1]:.2e} < 2 * {noise_std ** 2:.0e}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.semilogy(losses)
ax1.axhline(noise_std ** 2, color="gray", linestyle="--", label="noise floor (std^2)")
ax1.set_xlabel("gradient-descent step")
ax1.set_ylabel("mean squared error")
ax1.set_title("fitting y = x @ W + b with Dense.backward only")
ax1.legend()
ax2.scatter(W_true.ravel(), H(model.params["W"]).ravel(), label="W")
ax2.scatter(b_true, H(model.params["b"]), marker="s", label="b")
lim = max(abs(W_true).max(), abs(b_true).max()) * 1.1
ax2.plot([-lim, lim], [-lim, lim], color="gray", linewidth=0.8)
ax2.set_xlabel("true value")
ax2.set_ylabel("found by gradient descent")
ax2.set_title("parameters recovered")
ax2.legend()
lesson.savefig(fig, "regression.png")

lesson.finish()
