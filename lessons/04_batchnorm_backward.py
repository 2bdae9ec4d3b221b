# %% [markdown]
# # Lesson 04 — BatchNorm's backward pass, derived, simplified and checked
#
# Most layers treat the samples of a batch independently. BatchNorm does not: in
# training mode each output depends on EVERY input of the batch, through the batch mean
# and variance. Its backward must carry those two extra paths. Done carefully they
# collapse into a three-term formula with a clean geometric meaning: $dx$ is $dy$ with
# two directions projected out.
#
# **Exercise.** Write `batchnorm_backward` in
# `lessons/exercises/04_batchnorm_backward.py`, then run
# `python lessons/04_batchnorm_backward.py --exercise`: every check below then runs on
# your function instead of minigan's.
#
# ## The forward pass
#
# For one feature (BatchNorm1d: one column of $x$ of shape $(N, C)$, so $m = N$ values;
# BatchNorm2d: one channel of $x$ of shape $(N, C, H, W)$, so $m = NHW$ values), in
# training mode:
#
# $$\mu = \frac{1}{m}\sum_i x_i, \qquad
#   \sigma^2 = \frac{1}{m}\sum_i (x_i - \mu)^2, \qquad
#   \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad
#   y_i = \gamma \hat x_i + \beta .$$
#
# The variance is the biased one (divide by $m$), as PyTorch normalises; $\gamma, \beta$
# have shape $(C,)$, one pair per feature. Evaluation mode replaces $\mu$ and $\sigma^2$
# by running averages collected during training (with momentum $0.1$):
#
# $$\mu_{run} \leftarrow 0.9\,\mu_{run} + 0.1\,\mu, \qquad
#   \sigma^2_{run} \leftarrow 0.9\,\sigma^2_{run} + 0.1\,\tfrac{m}{m-1}\sigma^2$$
#
# (the running variance is the unbiased one, again as PyTorch does).

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import check_layer, numerical_gradient, rel_error
from minigan.layers import BatchNorm1d, BatchNorm2d

lesson = Lesson("04_batchnorm_backward")
minigan.set_default_dtype("float64")
A, H = backend.asarray, backend.to_numpy
rng = backend.rng(lesson.seed)

# %% [markdown]
# ## The backward pass
#
# Given $dy_i = \partial L / \partial y_i$, the parameters are the easy part:
#
# $$d\beta = \sum_i dy_i, \qquad d\gamma = \sum_i dy_i\,\hat x_i, \qquad
#   d\hat x_i = \gamma\, dy_i .$$
#
# The hard part: $\hat x_i$ depends on $x_j$ for EVERY $j$. Write $s = \sqrt{\sigma^2 +
# \epsilon}$ and $\delta_{ij} = 1$ if $i = j$, else $0$. Then
#
# $$\frac{\partial \mu}{\partial x_j} = \frac1m, \qquad
#   \frac{\partial \sigma^2}{\partial x_j} = \frac2m \sum_i (x_i - \mu)
#   \Big(\delta_{ij} - \frac1m\Big) = \frac2m (x_j - \mu), \qquad
#   \frac{\partial s}{\partial x_j} = \frac{1}{2s}\frac{\partial \sigma^2}{\partial x_j}
#   = \frac{\hat x_j}{m},$$
#
# using $\sum_i (x_i - \mu) = 0$. So
#
# $$\frac{\partial \hat x_i}{\partial x_j}
#   = \frac{1}{s}\Big(\delta_{ij} - \frac1m - \frac{\hat x_i \hat x_j}{m}\Big),$$
#
# and summing over $i$,
#
# $$dx_j = \sum_i d\hat x_i \frac{\partial \hat x_i}{\partial x_j}
#   = \frac{\gamma}{s}\Big(dy_j - \overline{dy} - \hat x_j\,\overline{dy\,\hat x}\Big)
#   = \frac{\gamma}{s}\Big(dy_j - \frac{d\beta + \hat x_j\, d\gamma}{m}\Big),$$
#
# where a bar is a mean over the batch. The last form is the one minigan uses: it reuses
# $d\beta$ and $d\gamma$, costs two reductions, and needs no $\mu$ or $\sigma^2$, only
# $\hat x$ and $1/s$.
#
# The cell below is the function the exercise asks for. Outside exercise mode it is
# minigan's layer, seen as a function of arrays; with `--exercise` it is yours.

# %%
def batchnorm_backward(x, gamma, eps, dy):
    """BatchNorm1d's training-mode backward from minigan's layer: (dx, dgamma, dbeta).

    x, dy (m, C); gamma (C,); eps a float. dx (m, C); dgamma, dbeta (C,).
    """
    bn = BatchNorm1d(x.shape[1], eps=eps)
    bn.params["gamma"][...] = A(gamma)
    bn(A(x))
    dx = bn.backward(A(dy))
    return H(dx), H(bn.grads["gamma"]), H(bn.grads["beta"])


batchnorm_backward = lesson.exercises(batchnorm_backward)

# %% [markdown]
# ## A hand example, and a batch of two
#
# With $m = 4$, $\gamma = 1$, $\beta = 0$, $\epsilon = 0$: $x = (1, 1, 3, 3)$ gives
# $\mu = 2$, $\sigma^2 = 1$, $\hat x = (-1, -1, 1, 1)$. For $dy = (1, 0, 0, 0)$:
# $\overline{dy} = 1/4$ and $\overline{dy\,\hat x} = -1/4$, so
#
# $$dx = dy - \tfrac14 + \tfrac14 \hat x = (\tfrac12, -\tfrac12, 0, 0).$$
#
# Raising $y_1$ can only be done by pulling $x_1$ away from its twin $x_2$; moving $x_3$
# or $x_4$ would change $\mu$ and $s$ in a way that cancels.
#
# **A batch of two.** Write $d = (x_2 - x_1)/2 > 0$, so $\sigma^2 = d^2$ and
# $\hat x = (-r, r)$ with $r = d/\sqrt{d^2 + \epsilon}$. With $\epsilon = 0$, $r = 1$:
# the outputs are always $-1$ and $+1$ whatever $x$ is, and $dx = 0$ — BatchNorm over a
# batch of two passes no gradient at all (in floating point: zero up to rounding). With
# $\epsilon > 0$ (minigan's default $10^{-5}$) $r$ is a hair below 1 and the projection
# leaves a sliver. Then $1 - r^2 = \epsilon / s^2$ and
#
# $$dx = \frac{\gamma\,\epsilon}{2 s^3}\,(dy_1 - dy_2)\,(1, -1),
#   \qquad s = \sqrt{d^2 + \epsilon}.$$
#
# That is small (for $x = (0.3, 7.0)$: $\epsilon / 2s^3 \approx 1.3\times 10^{-7}$) but
# not zero, and it grows as the two values approach each other.

# %%
lesson.section("1. hand examples: eps = 0, then a batch of two with eps = 1e-5")
x4 = np.array([[1.0], [1.0], [3.0], [3.0]])
dx4, _, _ = batchnorm_backward(x4, np.ones(1), 0.0, np.array([[1.0], [0], [0], [0]]))
print(f"  x = [1, 1, 3, 3], dy = [1, 0, 0, 0] -> dx = {dx4[:, 0].tolist()}")
lesson.check("m=4: dx = [1/2, -1/2, 0, 0] (max abs err)",
             abs(dx4[:, 0] - [0.5, -0.5, 0, 0]).max(), 1e-15)
x2 = np.array([[0.3], [7.0]])
dx2, _, _ = batchnorm_backward(x2, np.ones(1), 0.0, rng.standard_normal((2, 1)))
print(f"  m=2, eps = 0: x = [0.3, 7.0] -> dx = {dx2[:, 0].tolist()}")
lesson.check("m=2, eps = 0: no gradient passes (max |dx|, zero up to rounding)",
             abs(dx2).max(), 1e-15)
# the same batch with minigan's default eps = 1e-5: a tiny gradient, the formula above
eps, gamma2 = 1e-5, 1.7
dy2 = np.array([[1.0], [0.0]])
dx3 = batchnorm_backward(x2, np.array([gamma2]), eps, dy2)[0][:, 0]
s2 = float(np.sqrt(((x2[1, 0] - x2[0, 0]) / 2) ** 2 + eps))
expected3 = gamma2 * eps / (2 * s2 ** 3) * (dy2[0, 0] - dy2[1, 0]) * np.array([1, -1.0])
print(f"  m=2, eps = {eps}: dx = {dx3.tolist()};\n"
      f"  gamma eps/(2 s^3) (dy_1 - dy_2) (1, -1) = {expected3.tolist()}")
lesson.check_that("m=2, eps = 1e-5: the gradient is small but NOT zero "
                  "(1e-9 < |dx| < 1e-6)",
                  1e-9 < abs(dx3).min() <= abs(dx3).max() < 1e-6,
                  f"|dx| = {abs(dx3).max():.2e}")
lesson.check("m=2, eps = 1e-5: dx = gamma eps/(2 s^3) (dy_1 - dy_2) (1, -1) (rel err)",
             rel_error(dx3, expected3), 1e-6)

# %% [markdown]
# ## The long way against the compact formula
#
# A first derivation walks the graph backwards through every intermediate:
# $\mu \to x_c = x - \mu \to \sigma^2 = \overline{x_c^2} \to s \to \hat x = x_c / s$.
# Each step is one line of the chain rule, written next to the forward formula it
# differentiates. It must agree with the compact three-term formula to rounding error.

# %%
lesson.section("2. the long way (staged graph) vs the compact formula, x (N=16, C=5)")


def backward_long_way(x, gamma, eps, dy):
    """BatchNorm1d's dL/dx through every intermediate. x, dy (m, C); gamma (C,)."""
    m = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc * xc).mean(axis=0)
    s = np.sqrt(var + eps)
    dxhat = dy * gamma                             # y = gamma xhat + beta
    dxc = dxhat / s                                # xhat = xc / s: the direct path ...
    ds = -(dxhat * xc).sum(axis=0) / s ** 2        # ... and the path through s
    dvar = ds / (2 * s)                            # s = sqrt(var + eps)
    dxc += dvar * 2 * xc / m                       # var = mean(xc^2)
    dmu = -dxc.sum(axis=0)                         # xc = x - mu
    return dxc + dmu / m                           # mu = mean(x)


x = rng.standard_normal((16, 5)) * 3 + 1
dy = rng.standard_normal((16, 5))
gamma = rng.uniform(0.5, 2.0, 5)
dx_compact, dgamma, dbeta = batchnorm_backward(x, gamma, 1e-5, dy)
lesson.check("long way vs compact gamma/s (dy - (dbeta + xhat dgamma)/m) (rel err)",
             rel_error(backward_long_way(x, gamma, 1e-5, dy), dx_compact), 1e-12)

# %% [markdown]
# ## Central differences
#
# The independent judge: perturb each input and each parameter by $\pm h$, recompute the
# loss $L = \sum_i y_i\, dy_i$ (whose gradient with respect to $y$ is exactly $dy$), and
# divide. `check_layer` does this for minigan's layers, in train and in eval mode; the
# first check here does it for `batchnorm_backward` itself.
#
# In eval mode $\mu$ and $s = \sqrt{\sigma^2_{run} + \epsilon}$ are constants, the layer
# is a per-feature affine map, and $dx = (\gamma / s)\, dy$.

# %%
lesson.section("3. central differences: your function, then check_layer in both modes")


def bn_loss(x, gamma, beta, eps, dy):
    """L = sum(y * dy) for BatchNorm1d's training-mode forward, written out in NumPy."""
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return float(((gamma * xhat + beta) * dy).sum())


x, dy = rng.standard_normal((8, 3)) * 2 + 0.5, rng.standard_normal((8, 3))
gamma, beta = rng.uniform(0.5, 2.0, 3), rng.standard_normal(3)
dx, dgamma, dbeta = batchnorm_backward(x, gamma, 1e-5, dy)
numeric = [numerical_gradient(lambda: bn_loss(x, gamma, beta, 1e-5, dy), v)
           for v in (x, gamma, beta)]
for label, analytic, num in zip(("dx", "dgamma", "dbeta"), (dx, dgamma, dbeta),
                                numeric):
    lesson.check(f"batchnorm_backward's {label} vs central differences (rel err)",
                 rel_error(analytic, num), 1e-7)

for label, layer, shape in [("BatchNorm1d(5)", BatchNorm1d(5), (8, 5)),
                            ("BatchNorm2d(3)", BatchNorm2d(3), (4, 3, 3, 3))]:
    layer.params["gamma"][...] = A(rng.uniform(0.5, 2.0, layer.num_features))
    layer.params["beta"][...] = A(rng.standard_normal(layer.num_features))
    for _ in range(5):                 # move the running statistics off their (0, 1)
        layer(A(rng.standard_normal(shape) * 2 + 0.5))
    x_in = A(rng.standard_normal(shape))
    errors = check_layer(layer.train(), x_in)
    lesson.check(f"{label} train mode (worst rel err of x, gamma, beta)",
                 max(errors.values()), 1e-7)
    errors = check_layer(layer.eval(), x_in)
    lesson.check(f"{label} eval mode  (worst rel err of x, gamma, beta)",
                 max(errors.values()), 1e-7)
    G = A(rng.standard_normal(shape))
    layer(x_in)
    shape_c = (1, -1) + (1,) * (len(shape) - 2)
    running_var = H(layer.buffers["running_var"])
    scale = H(layer.params["gamma"]) / np.sqrt(running_var + layer.eps)
    lesson.check(f"{label} eval mode: dx = gamma/sqrt(running_var + eps) dy (rel err)",
                 rel_error(layer.backward(G), H(G) * scale.reshape(shape_c)), 1e-14)
    layer.train()

# %% [markdown]
# ## What the formula means: a projection
#
# The Jacobian $J = \frac{\gamma}{s}\big(I - \tfrac1m \mathbf 1 \mathbf 1^\top -
# \tfrac1m \hat x \hat x^\top\big)$ is symmetric. The vectors
# $\mathbf 1 = (1, \dots, 1)$ and $\hat x$ are orthogonal ($\hat x$ has mean 0) and,
# for $\epsilon = 0$,
# $|\hat x|^2 = m$, so the bracket is the orthogonal projection that removes the
# components along $\mathbf 1$ and along $\hat x$. Hence
#
# $$\sum_j dx_j = 0 \qquad\text{and}\qquad \sum_j dx_j\, \hat x_j = 0 .$$
#
# That is intuition made exact: shifting all $x$'s by a constant, or stretching them
# about their mean, changes nothing after normalisation, so the gradient has no
# component in those two directions. Its eigenvalues are $\gamma/s$ ($m - 2$ times) and
# $0$ (twice).
#
# The Jacobian can be built from the backward alone: the backward of the unit vector
# $e_i$ is $J^\top e_i$, the gradient of $y_i$ with respect to $x$, which is row $i$ of
# $J$.

# %%
lesson.section("4. dx is dy with two directions projected out (m = 12, eps = 0)")
m, gamma1 = 12, 1.5
x = rng.standard_normal((m, 1)) * 2 + 3
xhat = (x[:, 0] - x.mean()) / x.std()
s = float(x.std())
dy = rng.standard_normal(m)
dx = batchnorm_backward(x, np.array([gamma1]), 0.0, dy[:, None])[0][:, 0]
lesson.check("sum_j dx_j = 0 (relative to |dy|)", abs(dx.sum()) / abs(dy).sum(), 1e-13)
lesson.check("sum_j dx_j xhat_j = 0 (relative to |dy|)",
             abs((dx * xhat).sum()) / abs(dy).sum(), 1e-13)
unit = np.eye(m)[:, :, None]                    # unit[i] = e_i, shaped (m, 1)
J_code = np.stack([batchnorm_backward(x, np.array([gamma1]), 0.0, unit[i])[0][:, 0]
                   for i in range(m)], axis=0)
J_formula = gamma1 / s * (np.eye(m) - np.ones((m, m)) / m - np.outer(xhat, xhat) / m)
lesson.check("Jacobian from backward vs (gamma/s)(I - 11^T/m - xhat xhat^T/m) "
             "(rel err)",
             rel_error(J_code, J_formula), 1e-13)
lesson.check("the Jacobian is symmetric (rel err of J vs J^T)",
             rel_error(J_code, J_code.T), 1e-13)
eig = np.sort(np.linalg.eigvalsh((J_code + J_code.T) / 2)) * s / gamma1
print(f"  eigenvalues of J * s/gamma: {np.round(eig, 12).tolist()}")
lesson.check("eigenvalues: two 0s (the removed directions), m-2 ones",
             max(abs(eig[:2]).max(), abs(eig[2:] - 1).max()), 1e-12)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
i = np.arange(m)
w = 0.2
ax1.bar(i - 1.5 * w, dy, w, label="dy")
ax1.bar(i - 0.5 * w, np.full(m, dy.mean()), w, label="mean(dy) * 1   (shift)")
ax1.bar(i + 0.5 * w, xhat * (dy * xhat).mean(), w,
        label="mean(dy xhat) * xhat   (stretch)")
ax1.bar(i + 1.5 * w, dx * s / gamma1, w, label="dx * s/gamma = the rest")
ax1.axhline(0, color="gray", linewidth=0.5)
ax1.set_xlabel("sample j of the batch")
ax1.set_title("dy = shift part + stretch part + dx*s/gamma")
ax1.legend(fontsize=7)
im = ax2.imshow(J_code * s / gamma1, cmap="RdBu_r", vmin=-1, vmax=1)
ax2.set_title("Jacobian J[i, j] = dy_i/dx_j * s/gamma (from backward)")
fig.colorbar(im, ax=ax2)
lesson.savefig(fig, "batchnorm_backward.png")

# %% [markdown]
# ## The running statistics
#
# minigan follows PyTorch's rule: momentum $0.1$, and the running variance uses the
# unbiased $\tfrac{1}{m-1}$ estimate while the batch is normalised by the biased one.

# %%
lesson.section("5. running statistics follow PyTorch (unbiased variance, momentum 0.1)")
bn = BatchNorm1d(3, momentum=0.1)
x = rng.standard_normal((10, 3)) * 2 + 1
bn(A(x))
lesson.check("running_mean = 0.9 * 0 + 0.1 * mean (rel err)",
             rel_error(bn.buffers["running_mean"], 0.1 * x.mean(axis=0)), 1e-14)
lesson.check("running_var = 0.9 * 1 + 0.1 * unbiased var (rel err)",
             rel_error(bn.buffers["running_var"], 0.9 + 0.1 * x.var(axis=0, ddof=1)),
             1e-14)
ratio = x.var(axis=0, ddof=1) / x.var(axis=0)
print(f"  unbiased / biased variance at m = {len(x)}: {ratio.round(6).tolist()} "
      f"(m/(m-1) = {len(x) / (len(x) - 1):.6f})")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Why is $dx$ exactly zero for a batch of two when $\epsilon = 0$, whatever $dy$ is?
#    What does that say about training with a batch size of 2?
# 2. In eval mode the backward is a per-feature scale. Why can a generator trained with
#    BatchNorm in train mode behave differently when sampled in eval mode?
# 3. The running variance is unbiased ($\tfrac{1}{m-1}$), the normalisation biased
#    ($\tfrac1m$). For the $m = 10$ batch of section 5, by what factor do they differ?
# 4. Which two directions does the projection remove, and why must a normalising layer
#    remove them?
#
# Short answers: `lessons/ANSWERS.md`.
