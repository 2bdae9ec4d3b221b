# %% [markdown]
# # Lesson 01 — A Dense layer's forward and backward pass, by hand
#
# Backpropagation never builds a Jacobian. Each layer only has to turn the gradient of
# the loss with respect to its OUTPUT ($\partial L/\partial y$, handed down from the
# layer above, same shape as $y$) into the gradient with respect to its INPUT
# ($\partial L/\partial x$, handed further down) and to its PARAMETERS
# ($\partial L/\partial W$, $\partial L/\partial b$, kept for the optimiser). This
# lesson does that for the simplest layer, by hand.
#
# **Exercise.** Write `dense_backward` in `lessons/exercises/01_dense_backprop.py`, then
# run `python lessons/01_dense_backprop.py --exercise`: the checks of sections 1 to 3
# then run on your function instead of minigan's.
#
# ## The forward pass
#
# Keras' layout: one sample per row, $W$ is (in, out).
#
# | array | shape | |
# |---|---|---|
# | $x$ | $(N, \text{in})$ | a batch of $N$ samples |
# | $W$ | $(\text{in}, \text{out})$ | |
# | $b$ | $(\text{out},)$ | |
# | $y = x W + b$ | $(N, \text{out})$ | |
#
# Written entry by entry:
#
# $$y_{nj} = \sum_i x_{ni} W_{ij} + b_j .$$
#
# ## The backward pass
#
# Call $G = \partial L/\partial y$, shape $(N, \text{out})$. $L$ depends on $W_{ij}$
# only through the $y$'s, so the chain rule says
#
# $$\frac{\partial L}{\partial W_{ij}}
#   = \sum_{n,k} G_{nk}\, \frac{\partial y_{nk}}{\partial W_{ij}} .$$
#
# From the formula for $y_{nk}$: $\partial y_{nk}/\partial W_{ij} = x_{ni}$ when
# $k = j$, and $0$ otherwise. So
#
# $$\frac{\partial L}{\partial W_{ij}} = \sum_n x_{ni}\, G_{nj},
#   \qquad\text{that is}\qquad dW = x^\top G
#   \quad (\text{in}, N)(N, \text{out}) = (\text{in}, \text{out}).$$
#
# In the same way, $\partial y_{nk}/\partial x_{mi} = W_{ik}$ when $m = n$ (a sample
# never touches another), $0$ otherwise:
#
# $$\frac{\partial L}{\partial x_{ni}} = \sum_k G_{nk}\, W_{ik},
#   \qquad\text{that is}\qquad dx = G\, W^\top
#   \quad (N, \text{out})(\text{out}, \text{in}) = (N, \text{in}),$$
#
# and $\partial y_{nk}/\partial b_j = 1$ when $k = j$:
#
# $$\frac{\partial L}{\partial b_j} = \sum_n G_{nj}, \qquad\text{that is}\qquad
#   db = \textstyle\sum_n G_{n\cdot} \quad (\text{out},).$$
#
# Two habits make this easy to get right:
#
# - write the entry-wise sum first, then recognise the matrix product in it;
# - check shapes: $dW$ must be (in, out) like $W$, and $x^\top G$ is the only product of
#   $x$ and $G$ that is.
#
# Note the SUM over the batch in $dW$ and $db$: every sample contributes to the same
# weights.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import rel_error
from minigan.layers import Dense

lesson = Lesson("01_dense_backprop")
# exact comparisons below need float64 (lesson 02 says why)
minigan.set_default_dtype("float64")
xp, A, H = lesson.xp, backend.asarray, backend.to_numpy  # A: to the backend, H: to host

# %% [markdown]
# The cell below is the function the exercise asks for. Outside exercise mode it is
# minigan's `Dense` layer, seen as a function of arrays; with `--exercise` it is yours.

# %%
def dense_backward(x, W, dy):
    """Dense's backward from minigan's layer: (dx, dW, db), NumPy in and out.

    x (N, in); W (in, out); dy = dL/dy (N, out). dx (N, in); dW (in, out); db (out,).
    """
    layer = Dense(*W.shape)
    layer.params["W"][...] = A(W)
    layer(A(x))
    layer.zero_grad()
    dx = layer.backward(A(dy))
    return H(dx), H(layer.grads["W"]), H(layer.grads["b"])


dense_backward = lesson.exercises(dense_backward)

# %% [markdown]
# ## A 2×2 example to do on paper
#
# $N = 2$ samples, in $= 2$, out $= 2$:
#
# $$x = \begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}, \qquad
#   W = \begin{pmatrix} 0.5 & -1 \\ 2 & 0 \end{pmatrix}, \qquad
#   b = (0.1,\ 0.2),$$
#
# $$y = x W + b
#   = \begin{pmatrix} 1 \cdot 0.5 + 2 \cdot 2 + 0.1 & 1 \cdot (-1) + 2 \cdot 0 + 0.2 \\
#                     3 \cdot 0.5 + 4 \cdot 2 + 0.1 & 3 \cdot (-1) + 4 \cdot 0 + 0.2
#     \end{pmatrix}
#   = \begin{pmatrix} 4.6 & -0.8 \\ 9.6 & -2.8 \end{pmatrix}.$$
#
# Take the loss $L = \sum y \odot G$ for a fixed
# $G = \begin{pmatrix} 1 & -1 \\ 0 & 2 \end{pmatrix}$: then $\partial L/\partial y = G$
# exactly, and
#
# $$L = 4.6 + 0.8 + 0 - 5.6 = -0.2,$$
#
# $$dW = x^\top G
#   = \begin{pmatrix} 1 & 3 \\ 2 & 4 \end{pmatrix}
#     \begin{pmatrix} 1 & -1 \\ 0 & 2 \end{pmatrix}
#   = \begin{pmatrix} 1 & 5 \\ 2 & 6 \end{pmatrix}, \qquad
#   dx = G\, W^\top
#   = \begin{pmatrix} 1 & -1 \\ 0 & 2 \end{pmatrix}
#     \begin{pmatrix} 0.5 & 2 \\ -1 & 0 \end{pmatrix}
#   = \begin{pmatrix} 1.5 & 2 \\ -2 & 0 \end{pmatrix},$$
#
# $$db = \textstyle\sum_n G_{n\cdot} = (1,\ 1).$$
#
# The lesson checks these paper values against minigan's `Dense` (its forward for $y$,
# `dense_backward` for the gradients).

# %%
lesson.section("1. the 2x2 example, on paper and in code")
layer = Dense(2, 2)
W = np.array([[0.5, -1.0], [2.0, 0.0]])
layer.params["W"][...] = A(W)
layer.params["b"][...] = A([0.1, 0.2])
x = np.array([[1.0, 2.0], [3.0, 4.0]])     # (N=2, in=2)
G = np.array([[1.0, -1.0], [0.0, 2.0]])    # (N=2, out=2) = dL/dy for L = sum(y * G)

y = H(layer(A(x)))
dx, dW, db = dense_backward(x, W, G)
paper = {"y": [[4.6, -0.8], [9.6, -2.8]], "dx": [[1.5, 2.0], [-2.0, 0.0]],
         "dW": [[1.0, 5.0], [2.0, 6.0]], "db": [1.0, 1.0]}
code = {"y": y, "dx": dx, "dW": dW, "db": db}
for key in paper:
    print(f"  {key:2s} paper {np.array(paper[key]).tolist()}   "
          f"code {np.round(code[key], 12).tolist()}")
    where = "Dense" if key == "y" else "dense_backward"
    lesson.check(f"{key}: paper vs {where} (rel err)",
                 rel_error(np.array(paper[key]), code[key]), 1e-12)
lesson.check("L = sum(y * G) = -0.2 (abs err)", abs(float((y * G).sum()) - (-0.2)),
             1e-12)
print(f"  (a missing transpose, G @ W = {(G @ W).tolist()}, has the right shape here: "
      "in = out)")

# %% [markdown]
# ## The entry-wise sums against the matrix formulas
#
# The paper example is square (in = out), so a formula with a transpose missing still
# has the right shape there. On random data with $N = 5$, in $= 4$, out $= 3$ the three
# sums above, written as Python loops, must equal $x^\top G$, $G W^\top$ and
# $\sum_n G_{n\cdot}$.

# %%
lesson.section("2. entry-wise sums (loops) vs the matrix formulas, random shapes "
               "N=5, in=4, out=3")
rng = backend.rng(lesson.seed)
N, n_in, n_out = 5, 4, 3
layer = Dense(n_in, n_out)
x = rng.standard_normal((N, n_in))   # host arrays: the loops index them entry by entry
G = rng.standard_normal((N, n_out))
W = H(layer.params["W"])
dx_code, dW_code, db_code = dense_backward(x, W, G)

dW_loop = np.zeros((n_in, n_out))          # dL/dW[i, j] = sum_n x[n, i] G[n, j]
for i in range(n_in):
    for j in range(n_out):
        dW_loop[i, j] = sum(x[n, i] * G[n, j] for n in range(N))
dx_loop = np.zeros((N, n_in))              # dL/dx[n, i] = sum_k G[n, k] W[i, k]
for n in range(N):
    for i in range(n_in):
        dx_loop[n, i] = sum(G[n, k] * W[i, k] for k in range(n_out))
db_loop = np.array([sum(G[n, j] for n in range(N)) for j in range(n_out)])
lesson.check("dW: loops vs x^T @ G (rel err)", rel_error(dW_loop, dW_code), 1e-12)
lesson.check("dx: loops vs G @ W^T (rel err)", rel_error(dx_loop, dx_code), 1e-12)
lesson.check("db: loops vs G.sum(0) (rel err)", rel_error(db_loop, db_code), 1e-12)

# %% [markdown]
# ## What a derivative means
#
# $\partial L/\partial W_{12}$ is the rate at which $L$ moves when $W_{12}$ alone
# moves: nudge that one weight by $\pm h$ and $L$ moves by about
# $\pm h\, \partial L/\partial W_{12}$. The central difference
# $(L(W + h e) - L(W - h e)) / 2h$ measures it with nothing but the forward pass.

# %%
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
analytic = float(dense_backward(x, W, G)[1][1, 2])
print(f"  (L(W + h e) - L(W - h e)) / 2h = {slope:.10f}    "
      f"dW[1, 2] from backward = {analytic:.10f}")
# L is linear in W, so the central difference is exact up to rounding (~1e-16 / h).
lesson.check("one weight: finite difference vs backward (rel err)",
             rel_error(slope, analytic), 1e-9)

# %% [markdown]
# ## Accumulation
#
# minigan's backward ADDS into `layer.grads` (as PyTorch's `.grad`): a discriminator
# sees a real batch and a fake batch, and the gradient of the sum of the two losses is
# the sum of the two gradients. `zero_grad()` resets them. Forgetting `zero_grad()`
# silently adds every earlier gradient into the next step's; with the same batch twice,
# as in the cell below, that doubles it.

# %%
lesson.section("4. backward ADDS into grads; zero_grad resets")
layer.zero_grad()
layer(A(x))
layer.backward(A(G))
once = H(layer.grads["W"]).copy()
layer(A(x))
layer.backward(A(G))      # no zero_grad in between: a second, identical batch
lesson.check("two backward passes give twice the gradient (rel err)",
             rel_error(H(layer.grads["W"]), 2 * once), 1e-12)
layer.zero_grad()
lesson.check("zero_grad leaves zeros (max |grad|)",
             float(abs(H(layer.grads["W"])).max()), 0.0)

# %% [markdown]
# ## Using the gradients: a linear regression
#
# Data $t = x W_{true} + b_{true} + \text{noise}$, and the loss
# $L = \frac{1}{N\,\text{out}} \sum_{n,j} (y_{nj} - t_{nj})^2$, whose gradient
#
# $$\frac{\partial L}{\partial y} = \frac{2\,(y - t)}{N\,\text{out}}$$
#
# is the $G$ that starts the backward. Plain gradient descent with nothing but
# `Dense.backward` recovers the true weights (figure: the loss curve, the weights found
# against the true ones).

# %%
lesson.section("5. using the gradient: linear regression by gradient descent on Dense "
               "alone")
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
    model.zero_grad()      # without it each step would add to the previous gradient
    model.backward(2 * diff / diff.size)
    for name, p, g in model.parameters():
        p -= lr * g                # plain gradient descent, in place
print(f"  loss: {losses[0]:.3f} at step 0 -> {losses[-1]:.2e} at step {steps - 1} "
      f"(noise floor {noise_std ** 2:.0e})")
lesson.check("W found vs W_true (max abs err)",
             float(abs(H(model.params["W"]) - W_true).max()), 5e-3)
lesson.check("b found vs b_true (max abs err)",
             float(abs(H(model.params["b"]) - b_true).max()), 5e-3)
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

# %% [markdown]
# ## Questions
#
# 1. The loss of section 5 is a MEAN over the batch, yet $dW = x^\top G$ SUMS over it.
#    Where did the $1/N$ go, and what would dividing $dW$ by $N$ once more do?
# 2. In the paper example a missing transpose, $dx = G\,W$, has the right shape. Why,
#    and how do the shapes of section 2 catch it before any number is compared?
# 3. Section 3's central difference uses a large step, $h = 10^{-4}$, yet agrees with
#    the backward far inside the tolerance $10^{-9}$. Why is it exact up to rounding
#    here, and would it stay so with a Tanh after the Dense layer?
# 4. What would the regression loop of section 5 compute if `model.zero_grad()` were
#    left out?
#
# Short answers: `lessons/ANSWERS.md`.
