# %% [markdown]
# # Lesson 02 — Gradient checking a hand-written backward, and why only in float64
#
# A backward pass written by hand is a claim: "this is the derivative of the forward".
# Central differences test that claim with nothing but the forward pass. Done right
# (float64, a sensible $h$, a relative error) a correct layer scores $\sim 10^{-10}$,
# and a gross bug (a missing transpose, a forgotten term) $\sim 10^{-2}$ or worse. But
# subtle bugs land in between, in a grey zone from $10^{-7}$ to $10^{-2}$: BatchNorm
# normalised with the unbiased variance (divide by $m - 1$) scores a few times
# $10^{-3}$ at $m = 32$, BatchNorm whose backward drops the $\epsilon$ in
# $\sqrt{\sigma^2 + \epsilon}$ scores $\sim 10^{-5}$ on an input of variance $1/4$. So a
# figure above $\sim 10^{-7}$ in float64 is worth explaining, however small it looks:
# a bug, or one of two honest causes. A KINK (ReLU, LeakyReLU, the hinge loss at 0): a
# central difference whose $\pm h$ straddles it averages two slopes, so correct code
# scores up to $\sim 1$ at that input. And ROUNDING through a deep path: each layer adds
# its float64 rounding, and small weights can make the true gradient tiny beside it
# (lesson 19 scales its U-Net's weights up for its check). Done
# in float32 the test cannot tell a right layer from a wrong one.
#
# **Exercise.** Write `numerical_gradient` and `relative_error` in
# `lessons/exercises/02_gradient_checking.py`, then run
# `python lessons/02_gradient_checking.py --exercise`: the checks of sections 1, 2, 3b
# and 4b then run on your functions instead of minigan's.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import copy

import numpy as np

import minigan
from minigan import backend, gradcheck
from minigan.gradcheck import check_layer
from minigan.layers import (BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Dense,
                            Flatten, LeakyReLU, ReLU, Reshape, Sequential, Sigmoid,
                            Tanh, no_grad)

lesson = Lesson("02_gradient_checking")
minigan.set_default_dtype("float64")
A, H = backend.asarray, backend.to_numpy
rng = backend.rng(lesson.seed)

# %% [markdown]
# ## Central differences
#
# Taylor's formula around $x$, for a step $h$:
#
# $$f(x + h) = f(x) + h f'(x) + \tfrac{h^2}{2} f''(x) + \tfrac{h^3}{6} f'''(x) + \dots$$
#
# $$f(x - h) = f(x) - h f'(x) + \tfrac{h^2}{2} f''(x) - \tfrac{h^3}{6} f'''(x) + \dots$$
#
# Subtracting, the even terms cancel:
#
# $$\frac{f(x + h) - f(x - h)}{2h} = f'(x) + \frac{h^2}{6} f'''(x) + \dots
#   \qquad\text{truncation error} \sim h^2,$$
#
# whereas the one-sided (forward) difference keeps the $h^2$ term:
#
# $$\frac{f(x + h) - f(x)}{h} = f'(x) + \frac{h}{2} f''(x) + \dots
#   \qquad\text{truncation error} \sim h .$$
#
# A layer's output $y$ is a tensor, not a scalar. So we check the scalar
# $f = \sum y \odot G$ for a random $G$ of $y$'s shape: its gradient with respect to $x$
# (or $W$) is exactly what `backward(G)` returns. One perturbed entry at a time gives
# every entry of the gradient (cost: 2 forward passes per entry; fine for tiny layers).
#
# The cell below is the first function the exercise asks for. Outside exercise mode it
# is minigan's; with `--exercise` it is yours. `numeric` runs it on a backend array (a
# parameter, an input) through a host copy, as the exercise works on NumPy arrays.

# %%
def numerical_gradient(f, x, h):
    """minigan's central-difference gradient of the scalar f() w.r.t. the array x.

    x (any shape) is a NumPy array that f() reads; it is perturbed in place, one entry
    at a time, and restored. h a float. Returns an array of x's shape.
    """
    return H(gradcheck.numerical_gradient(f, x, h))


numerical_gradient = lesson.exercises(numerical_gradient)


def numeric(loss, array, h=1e-6):
    """numerical_gradient of loss() w.r.t. a backend array, through a host copy."""
    host = H(array)              # NumPy: the array itself; CuPy: a copy on the host

    def f():
        if host is not array:
            array[...] = A(host)
        return loss()

    grad = numerical_gradient(f, host, h)
    if host is not array:
        array[...] = A(host)
    return grad


# %% [markdown]
# ## Relative error
#
# An absolute error of $10^{-6}$ is excellent for a gradient of size $10^3$ and damning
# for one of size $10^{-6}$. minigan uses one number per array:
#
# $$\mathrm{rel\_error}(a, b) = \frac{\max_i |a_i - b_i|}
#   {\max\big(10^{-8},\ \max_i (|a_i| + |b_i|)\big)} .$$
#
# Below $10^{-7}$ in float64: correct. Around $10^{-2}$ or more: a gross bug (a missing
# transpose, a forgotten term), unless an input sits within $h$ of a kink. In between:
# first rule out a kink and rounding through a deep path, then it is a subtle bug, not
# "nearly right" (section 4b works out two). The floor $10^{-8}$ keeps a gradient that
# is exactly zero from dividing by zero; section 3b shows the price.
#
# The cell below is the exercise's second function, checked on hand examples first.

# %%
def relative_error(a, b):
    """minigan's rel_error: max|a - b| / max(1e-8, max(|a| + |b|)), a float.

    a, b NumPy arrays of one shape (or floats).
    """
    return gradcheck.rel_error(a, b)


relative_error = lesson.exercises(relative_error)

lesson.section("1. relative error: one number per array, on hand examples")
a, b = np.array([1.0, -2.0, 4.0]), np.array([1.5, -2.0, 4.0])
print(f"  a = {a.tolist()}, b = {b.tolist()}: max|a - b| = 0.5, max(|a| + |b|) = 8")
lesson.check("relative_error(a, b) = 0.5 / 8 = 0.0625 (abs err)",
             abs(relative_error(a, b) - 0.0625), 1e-15)
lesson.check("relative_error(b, a) = 0.0625 too (abs err)",
             abs(relative_error(b, a) - 0.0625), 1e-15)
big = relative_error(np.array([1e3]), np.array([1e3 + 1e-6]))
small = relative_error(np.array([1e-6]), np.array([2e-6]))
print(f"  the same absolute error 1e-6: on a gradient of 1e3 rel err {big:.1e}, "
      f"on one of 1e-6 rel err {small:.2f}")
lesson.check("absolute error 1e-6 on a gradient of 1e3: correct (rel err)", big, 1e-7)
lesson.check_that("absolute error 1e-6 on a gradient of 1e-6: a gross error",
                  small > 1e-2, f"rel err {small:.2f} > 1e-2")
zero = relative_error(np.array([0.0]), np.array([1e-10]))
lesson.check("a zero gradient vs noise 1e-10: 1e-10 / max(1e-8, 1e-10) = 1e-2 "
             "(abs err)", abs(zero - 1e-2), 1e-15)

# %% [markdown]
# ## Rounding: why $h$ cannot be tiny, and why float32 is hopeless
#
# The computer returns $f(x \pm h)$ with a relative rounding error of about $\epsilon$
# (machine epsilon: $2.2\times10^{-16}$ in float64, $1.2\times10^{-7}$ in float32), so
# each value is off by $\sim\epsilon|f|$, and their difference, divided by $2h$, is off
# by $\sim\epsilon|f|/h$. The total error is therefore
#
# $$\text{error}(h) \sim C_1 h^2 + C_2 \frac{\epsilon}{h},$$
#
# a U in log-log axes: slope $+2$ on the right (truncation), slope $-1$ on the left
# (rounding), bottom at $h^* \sim \epsilon^{1/3}$:
#
# | | $h^*$ | best error |
# |---|---|---|
# | float64 | $\sim 10^{-5}$ | $\sim 10^{-11}$ |
# | float32 | $\sim 10^{-2}$ to $10^{-3}$ | $\sim 10^{-5}$ |
#
# So in float32 the best possible check is $\sim 10^{-5}$, far above the $\sim 10^{-7}$
# that separates right from wrong, and at the $h = 10^{-6}$ a float64 check uses,
# float32 gives an error of order $10^{-2}$ to $1$: noise. (In float32 even $x + h$ is
# rounded: the step actually taken is not $h$.) `minigan.gradcheck.check_layer`
# therefore refuses float32 layers outright.
#
# The cell below measures $\text{error}(h)$ of central and forward differences, in
# float64 and float32, on a small Dense-Tanh-Dense-Tanh network: the U-shaped curves
# (figure `error_vs_h.png`), their slopes, their bottoms.

# %%
lesson.section("2. error of the finite difference vs the step h (float64 and float32)")
# smooth, so f''' != 0: a real U
net64 = Sequential(Dense(4, 6), Tanh(), Dense(6, 3), Tanh())
net32 = copy.deepcopy(net64).astype("float32")               # the same weights, rounded
x = rng.standard_normal((5, 4))                              # (N=5, in=4)
G = rng.standard_normal((5, 3))                  # (N=5, out=3): f = sum(net(x) * G)
net64(A(x))
exact = H(net64.backward(A(G)))                  # (5, 4): the analytic dL/dx, float64


def central(net, dtype, h):
    xs, Gs = A(x, dtype=dtype), A(G, dtype=dtype)
    return numeric(lambda: float((net(xs) * Gs).sum()), xs, h)


def forward_diff(h):
    """(f(x + h e_i) - f(x)) / h for each entry i, in float64."""
    xs, Gs = A(x), A(G)
    f0 = float((net64(xs) * Gs).sum())
    grad = np.zeros_like(x)
    flat = xs.reshape(-1)
    for i in range(x.size):
        old = float(flat[i])
        flat[i] = old + h
        grad.flat[i] = (float((net64(xs) * Gs).sum()) - f0) / h
        flat[i] = old
    return grad


hs = np.logspace(-1, -12, 12 if lesson.quick else 23)
err64 = np.array([relative_error(exact, central(net64, "float64", h)) for h in hs])
err32 = np.array([relative_error(exact, central(net32, "float32", h)) for h in hs])
err_fw = np.array([relative_error(exact, forward_diff(h)) for h in hs])
print("      h    central64  central32  forward64")
for h, e64, e32, efw in zip(hs, err64, err32, err_fw):
    print(f"  {h:.0e}   {e64:.1e}    {e32:.1e}    {efw:.1e}")

right = hs >= 1e-3 - 1e-12          # large h: truncation dominates in float64
slope_c = np.polyfit(np.log10(hs[right]), np.log10(err64[right]), 1)[0]
slope_f = np.polyfit(np.log10(hs[right]), np.log10(err_fw[right]), 1)[0]
lesson.check_that("central differences: error ~ h^2 at large h (slope in [1.8, 2.2])",
                  1.8 <= slope_c <= 2.2, f"slope {slope_c:.2f}")
lesson.check_that("forward differences: error ~ h at large h (slope in [0.8, 1.2])",
                  0.8 <= slope_f <= 1.2, f"slope {slope_f:.2f}")
best64, best32 = err64.min(), err32.min()
print(f"  the bottom of the U: float64 {best64:.1e} at h = {hs[err64.argmin()]:.0e}, "
      f"float32 {best32:.1e} at h = {hs[err32.argmin()]:.0e}")
lesson.check("float64: best central-difference error", best64, 1e-9)
lesson.check_that("float64: the error grows again for tiny h (rounding: the left arm "
                  "of the U)", err64[-1] > 100 * best64,
                  f"{err64[-1]:.1e} at h={hs[-1]:.0e} > 100 x {best64:.1e}")
lesson.check_that("float32: even the best h cannot reach the 1e-7 bar a correct layer "
                  "must pass", best32 > 1e-7,
                  f"best {best32:.1e} at h={hs[err32.argmin()]:.0e}")
at_1e6 = err32[np.argmin(abs(np.log10(hs) + 6))]
lesson.check_that("float32 at h=1e-6 (float64's choice) is noise", at_1e6 > 1e-3,
                  f"rel err {at_1e6:.1e} > 1e-3")

fig, ax = plt.subplots(figsize=(7, 5))
ax.loglog(hs, err64, "o-", label="central, float64")
ax.loglog(hs, err32, "s-", label="central, float32")
ax.loglog(hs, err_fw, "^-", label="forward, float64")
ax.axhline(1e-7, color="gray", linestyle="--", linewidth=0.8,
           label="1e-7: the pass mark")
ax.set_xlabel("step h")
ax.set_ylabel("relative error vs the analytic gradient")
ax.set_title("finite differences: truncation (right) vs rounding (left)")
ax.invert_xaxis()
ax.legend()
lesson.savefig(fig, "error_vs_h.png")

# %% [markdown]
# ## Every layer of minigan
#
# `check_layer` compares a layer's backward with central differences ($h = 10^{-6}$,
# float64) for its input and every parameter. Every layer of minigan scores below
# $10^{-7}$.

# %%
lesson.section("3. check_layer on every layer, float64, h = 1e-6")


def normal(*shape):
    return A(rng.standard_normal(shape))


cases = [
    ("Dense(5, 3)", Dense(5, 3), normal(4, 5)),
    ("LeakyReLU(0.2)", LeakyReLU(0.2), normal(4, 5)),
    ("ReLU", ReLU(), normal(4, 5)),
    ("Tanh", Tanh(), normal(4, 5)),
    ("Sigmoid", Sigmoid(), normal(4, 5)),
    ("BatchNorm1d(5), train", BatchNorm1d(5), normal(6, 5)),
    ("BatchNorm2d(3), train", BatchNorm2d(3), normal(3, 3, 4, 4)),
    ("Conv2d(3, 4, k3 s2 p1)", Conv2d(3, 4, 3, stride=2, padding=1),
     normal(2, 3, 6, 6)),
    ("ConvTranspose2d(3, 2, k4 s2 p1)", ConvTranspose2d(3, 2, 4, stride=2, padding=1),
     normal(2, 3, 3, 3)),
    ("Flatten", Flatten(), normal(2, 3, 2, 2)),
    ("Reshape(2, 3)", Reshape(2, 3), normal(4, 6)),
]
worst = {}
for label, layer, x_in in cases:
    errors = check_layer(layer, x_in)
    worst[label] = max(errors.values())
    detail = ", ".join(f"{k} {v:.1e}" for k, v in errors.items())
    lesson.check(f"{label:32s} [{detail}]", worst[label], 1e-7)

# %% [markdown]
# ## A trap: the relative error of a gradient that is exactly zero
#
# A small DCGAN discriminator. Its second `Conv2d` has a bias, and `BatchNorm2d` comes
# right after it: BatchNorm subtracts each channel's batch mean, so a constant added per
# channel cancels, and $\partial L/\partial b$ of that conv is EXACTLY zero. The finite
# difference then measures pure rounding noise ($\sim 10^{-10}$), and `rel_error`
# divides it by $\max(10^{-8}, \sim 10^{-10})$: a "$10^{-2}$" that is no error at all
# (section 1's last hand example). A relative error of noise over zero means nothing:
# compare absolute errors.

# %%
lesson.section("3b. a trap: the relative error of a gradient that is exactly zero")
D = Sequential(Conv2d(1, 4, 4, 2, 1), LeakyReLU(0.2), Conv2d(4, 8, 4, 2, 1),
               BatchNorm2d(8), LeakyReLU(0.2), Flatten(), Dense(8 * 2 * 2, 1))
x_in = normal(4, 1, 8, 8)                   # (N=4, C=1, 8, 8) -> logits (4, 1)
errors = check_layer(D, x_in)
for name, err in errors.items():
    print(f"  {name:8s} rel err {err:.1e}")
G_D = normal(4, 1)
D.zero_grad()
D(x_in)
D.backward(G_D)
bias = D[2].params["b"]
analytic_b = H(D[2].grads["b"]).copy()
numeric_b = numeric(lambda: float((D(x_in) * G_D).sum()), bias)
others = {k: v for k, v in errors.items() if k != "2.b"}
lesson.check("DCGAN discriminator, every array but 2.b (worst rel err)",
             max(others.values()), 1e-7)
lesson.check("the conv bias before BatchNorm: analytic gradient (max |dL/db|)",
             abs(analytic_b).max(), 1e-12)
lesson.check("... and its ABSOLUTE error vs the finite difference",
             abs(analytic_b - numeric_b).max(), 1e-8)
print(f"  (its rel err {errors['2.b']:.1e} is rounding noise divided by ~0: when a "
      "gradient is ~0, compare absolute errors)")
print("  (this is why DCGAN builds the convs that feed a BatchNorm with bias=False: "
      "those biases never learn)")

# %% [markdown]
# ## Two gross planted bugs
#
# A Dense layer whose backward forgets the transpose ($dx = G W$ instead of $G W^\top$;
# the shapes still agree when in = out, so nothing crashes), and a BatchNorm whose
# training-mode backward forgets that the batch mean and variance depend on $x$
# ($dx = \gamma\, dy / \sigma$, eval mode's formula). The check must catch both, above
# $10^{-2}$ (figure `layer_checks.png`).

# %%
lesson.section("4. two gross planted bugs: does the check catch them?")


class DenseMissingTranspose(Dense):
    """dx = G @ W instead of G @ W^T: shapes agree when in == out; nothing crashes."""

    def backward(self, grad_out, input_grad=True, param_grads=True):
        super().backward(grad_out, input_grad=False, param_grads=param_grads)
        return grad_out @ self.params["W"] if input_grad else None


class BatchNormForgetsStatistics(BatchNorm1d):
    """Train mode, but dx = gamma / sigma * dy: mean and variance taken as constants."""

    def backward(self, grad_out, input_grad=True, param_grads=True):
        x_hat, inv_std, m, training = self.saved()
        self.save_for_backward(x_hat, inv_std, m, training)  # the parent's pops it
        super().backward(grad_out, input_grad=False, param_grads=param_grads)
        if not input_grad:
            return None
        return grad_out * (self.params["gamma"] * inv_std)


bugs = {}
for label, layer, x_in in [
        ("Dense: missing transpose", DenseMissingTranspose(4, 4), normal(3, 4)),
        ("BatchNorm: batch statistics treated as constants",
         BatchNormForgetsStatistics(4), normal(8, 4))]:
    errors = check_layer(layer, x_in)
    bugs[label] = errors["x"]
    lesson.check_that(f"caught: {label}", errors["x"] > 1e-2,
                      f"x rel err {errors['x']:.1e} > 1e-2")

# %% [markdown]
# ## Two subtle bugs: the grey zone between $10^{-7}$ and $10^{-2}$
#
# Worked out for one feature of $m$ values, with $\hat x = (x - \mu)/\sigma$ and
# $S = \sum_i dy_i\, \hat x_i$ (lesson 04 derives BatchNorm's backward):
#
# - **The unbiased variance.** The forward normalises with the UNBIASED variance,
#   $\sigma^2 \frac{m}{m-1}$ (`np.var(ddof=1)`, `torch.var`'s default), but the backward
#   is the textbook one, written for the biased $\sigma^2$. The true derivative of that
#   forward has $-\hat x_j S/(m - 1)$ where the textbook has $-\hat x_j S/m$, so, for
#   every $j$,
#
#   $$\text{analytic}_j - \text{true}_j = \frac{\gamma}{\sigma}\,
#     \frac{\hat x_j\, S}{m (m - 1)},$$
#
#   relative to the gradient $\sim |\hat x|\,|S| / m^2$: between $m^{-1.5}$
#   ($S \sim \sqrt m$ for a random $dy$) and $1/m$ ($dy$ along $\hat x$, $S \sim m$).
#   Here, $m = 32$, a random $dy$: $\sim 4\times10^{-3}$.
# - **$\epsilon$ dropped in the backward.** The backward uses $1/\sqrt{\sigma^2}$ where
#   the forward used $1/\sqrt{\sigma^2 + \epsilon}$: every entry of $dx$ is multiplied
#   by $k = \sqrt{1 + \epsilon/\sigma^2}$, so (for features of equal variance)
#
#   $$\mathrm{rel\_error} = \frac{k - 1}{k + 1} \approx \frac{\epsilon}{4\sigma^2}:$$
#
#   $10^{-5}$ for $\epsilon = 10^{-5}$ and $\sigma^2 = 1/4$. Harmless-looking, yet 100
#   times above the $10^{-7}$ bar, and the $dx$ it returns is badly wrong for a nearly
#   constant feature ($\sigma^2 \sim \epsilon$).
#
# Both land in the grey zone, each at the size worked out above.

# %%
lesson.section("4b. two subtle bugs: the grey zone between 1e-7 and 1e-2")


class BatchNormUnbiasedVariance(BatchNorm1d):
    """Train mode normalises with var * m/(m - 1); the backward is the textbook one."""

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        with no_grad():
            super().forward(x)                         # the running statistics
        m = x.shape[0]
        _, var, centred, _ = self._statistics(x, m)    # var: the biased variance
        inv_std = 1 / (var * m / (m - 1) + self.eps) ** 0.5
        x_hat = centred * inv_std                      # (x - mu) / sqrt(var_unb + eps)
        self.save_for_backward(x_hat, inv_std, m, True)  # for the unchanged backward
        return x_hat * self.params["gamma"] + self.params["beta"]


class BatchNormBackwardWithoutEps(BatchNorm1d):
    """The forward divides by sqrt(var + eps); the backward by sqrt(var)."""

    def backward(self, grad_out, input_grad=True, param_grads=True):
        x_hat, inv_std, m, training = self.saved()
        without_eps = 1 / (1 / inv_std ** 2 - self.eps) ** 0.5   # 1/sqrt(var)
        self.save_for_backward(x_hat, without_eps, m, training)  # the parent's pops it
        return super().backward(grad_out, input_grad, param_grads)


M = 32
grey = {}
# (a) the unbiased variance, m = 32 (one batch of 32 rows, 4 features; gamma != 1 so
# that it enters the formula)
layer = BatchNormUnbiasedVariance(4)
layer.params["gamma"][...] = A(rng.uniform(0.5, 2.0, 4))
x_in = normal(M, 4)
errors = check_layer(layer, x_in)
label = f"BatchNorm: unbiased variance (m = {M})"
grey[label] = errors["x"]
print(f"  {label}: rel err x {errors['x']:.1e}, gamma {errors['gamma']:.1e}, "
      f"beta {errors['beta']:.1e}   (1/m = {1 / M:.1e}, m^-1.5 = {M ** -1.5:.1e})")
lesson.check_that(f"{label}: in the grey zone", 1e-7 < errors["x"] < 1e-2,
                  f"1e-7 < {errors['x']:.1e} < 1e-2")
# ... and it is the size worked out above:
# numeric - analytic = -gamma/sigma xhat_j S / (m (m - 1))
G_bn = normal(M, 4)
layer(x_in)
layer.zero_grad()
analytic = H(layer.backward(G_bn))
x_host = H(x_in)                                   # the forward's x_hat and 1/sigma
inv_std = 1 / np.sqrt(x_host.var(axis=0) * M / (M - 1) + layer.eps)
x_hat = (x_host - x_host.mean(axis=0)) * inv_std
S = (H(G_bn) * x_hat).sum(axis=0)
predicted = -H(layer.params["gamma"]) * inv_std * x_hat * S / (M * (M - 1))
numeric_x = numeric(lambda: float((layer(x_in) * G_bn).sum()), x_in)
lesson.check("... its error numeric - analytic = -gamma/sigma xhat S/(m(m-1)), as "
             "derived (rel err)", relative_error(numeric_x - analytic, predicted), 1e-5)

# (b) eps dropped in the backward; each feature standardised to variance exactly
# 1/4, so k is one number
VAR = 0.25
layer = BatchNormBackwardWithoutEps(4)
x_host = rng.standard_normal((8, 4))
x_host = (x_host - x_host.mean(axis=0)) / x_host.std(axis=0) * VAR ** 0.5
errors = check_layer(layer, A(x_host))
k = (1 + layer.eps / VAR) ** 0.5
label = f"BatchNorm: eps dropped in backward (var {VAR})"
grey[label] = errors["x"]
print(f"  {label}: rel err x {errors['x']:.2e}, gamma {errors['gamma']:.1e}, "
      f"beta {errors['beta']:.1e}   ((k - 1)/(k + 1) = {(k - 1) / (k + 1):.2e}, "
      "k = sqrt(1 + eps/var))")
lesson.check_that(f"{label}: in the grey zone", 1e-7 < errors["x"] < 1e-2,
                  f"1e-7 < {errors['x']:.1e} < 1e-2")
lesson.check("... its rel err = (k - 1)/(k + 1) ~ eps/(4 var), as derived (rel err of "
             "the rel err)", abs(errors["x"] / ((k - 1) / (k + 1)) - 1), 1e-3)

fig, ax = plt.subplots(figsize=(8, 5.5))
labels = list(worst) + list(grey) + list(bugs)
values = list(worst.values()) + list(grey.values()) + list(bugs.values())
colors = (["tab:green"] * len(worst) + ["tab:orange"] * len(grey)
          + ["tab:red"] * len(bugs))
ax.barh(range(len(labels)), np.maximum(values, 1e-18), color=colors)
ax.set_yticks(range(len(labels)))
ax.set_yticklabels(labels, fontsize=8)
ax.set_xscale("log")
ax.axvline(1e-7, color="gray", linestyle="--", label="1e-7")
ax.axvline(1e-2, color="gray", linestyle=":", label="1e-2")
ax.invert_yaxis()
ax.set_xlabel("worst relative error (float64, h=1e-6)")
ax.set_title("check_layer: correct (green), subtle bugs (orange), gross bugs (red)",
             fontsize=10)
ax.legend()
lesson.savefig(fig, "layer_checks.png")

# %% [markdown]
# ## float32 is refused
#
# As section 2 measured, no step $h$ makes a float32 check reach the $10^{-7}$ bar, so
# `check_layer` raises a `ValueError` for a float32 layer or input rather than report a
# meaningless figure.

# %%
lesson.section("5. check_layer refuses float32")
try:
    check_layer(Dense(3, 2).astype("float32"),
                A(rng.standard_normal((2, 3)), dtype="float32"))
    refused, message = False, "it ran"
except ValueError as exc:
    refused, message = True, str(exc)
lesson.check_that("float32 layer refused with a ValueError", refused,
                  f"({message[:70]}...)")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Where is the bottom of the U in float64 and in float32 (section 2), and why does
#    the error rise again for smaller $h$?
# 2. Why does section 1 call an absolute error of $10^{-6}$ correct on one gradient and
#    a gross error on another? What does the floor $10^{-8}$ in the denominator cost
#    the conv bias of section 3b?
# 3. Dropping $\epsilon$ in BatchNorm's backward scores only $10^{-5}$. Why is that a
#    bug to find rather than "nearly right"?
# 4. Why does `check_layer` refuse float32 instead of using a looser tolerance?
#
# Short answers: `lessons/ANSWERS.md`.
