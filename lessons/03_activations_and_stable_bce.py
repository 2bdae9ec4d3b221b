# %% [markdown]
# # Lesson 03 — Activations, their derivatives, and a cross-entropy that never overflows
#
# An elementwise activation $y = f(x)$ has a diagonal Jacobian, so its backward is one
# multiplication: $\partial L/\partial x = \partial L/\partial y \cdot f'(x)$. The
# interesting part is not the calculus but the floating point: the sigmoid and the log
# in the GAN loss (a binary cross-entropy) must be computed TOGETHER, from the logit, or
# the loss is first wrong and then infinite, exactly when the discriminator is
# confident.
#
# **Exercise.** Write `bce_with_logits` in
# `lessons/exercises/03_activations_and_stable_bce.py`, then run
# `python lessons/03_activations_and_stable_bce.py --exercise`: the checks of sections 3
# and 4 then run on your function instead of minigan's.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import decimal
import warnings

import numpy as np

from minigan import backend, losses
from minigan.gradcheck import rel_error
from minigan.layers import LeakyReLU, ReLU, Sigmoid, Tanh, sigmoid

lesson = Lesson("03_activations_and_stable_bce")
A, H = backend.asarray, backend.to_numpy
decimal.getcontext().prec = 100  # digits: enough for 1 + e^-100 to keep its tail

# %% [markdown]
# ## Activations
#
# Shapes: any $\to$ the same; the backward multiplies elementwise.
#
# | layer | $y = f(x)$ | $f'(x)$ |
# |---|---|---|
# | ReLU | $\max(x, 0)$ | $1$ if $x > 0$ else $0$ |
# | LeakyReLU | $x$ if $x > 0$ else $a x$ | $1$ if $x > 0$ else $a$ |
# | Tanh | $\tanh x$ | $1 - \tanh^2 x = 1 - y^2$ |
# | Sigmoid | $s(x) = 1/(1 + e^{-x})$ | $s(x)(1 - s(x)) = y(1 - y)$ |
#
# ($a = 0.2$ in a DCGAN's D; for the sigmoid,
# $f'(x) = e^{-x}/(1 + e^{-x})^2 = s(x)(1 - s(x))$.)
#
# Tanh and Sigmoid write the derivative with the OUTPUT $y$, so backward keeps $y$ and
# needs no $x$. $f'(x) \le 1/4$ for the sigmoid (at $x = 0$) and $\le 1$ for tanh: both
# tend to $0$ for large $|x|$ ("saturation"), which is why deep stacks of them pass
# vanishing gradients, and why GANs use (Leaky)ReLU inside. At the kink $x = 0$ ReLU has
# no derivative; any value in $[0, 1]$ is a valid subgradient; minigan uses $0$.
#
# The cell below checks each activation's backward against central differences, and
# plots $f$ and $f'$ (figure `activations.png`).

# %%
lesson.section("1. activations: backward vs central differences")
x = np.linspace(-4, 4, 401)
x = x[abs(x) > 1e-3]                          # keep off the kink of (Leaky)ReLU at 0
h = 1e-6
fig, axes = plt.subplots(1, 4, figsize=(15, 3.5))
for ax, layer in zip(axes, [ReLU(), LeakyReLU(0.2), Tanh(), Sigmoid()]):
    name = type(layer).__name__
    y = H(layer(A(x)))
    dy_dx = H(layer.backward(A(np.ones_like(x))))      # dL/dy = 1 gives f'(x) itself
    numeric = (H(layer(A(x + h))) - H(layer(A(x - h)))) / (2 * h)
    lesson.check(f"{name:9s} f'(x) from backward vs (f(x+h) - f(x-h))/2h (rel err)",
                 rel_error(dy_dx, numeric), 1e-8)
    ax.plot(x, y, label="f(x)")
    ax.plot(x, dy_dx, label="f'(x) (backward)")
    ax.set_title(name)
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.legend(fontsize=8)
lesson.savefig(fig, "activations.png")
sig = Sigmoid()
sig(A(x))
lesson.check("max of the sigmoid's derivative is 1/4 (abs err)",
             abs(H(sig.backward(A(np.ones_like(x)))).max() - 0.25), 1e-4)

# %% [markdown]
# ## The stable sigmoid
#
# $1/(1 + \exp(-x))$ overflows for $x < -88$ in float32 ($e^{-x} > 3.4\times10^{38}$):
# NumPy warns and returns $0$, which happens to be right, but a warning in every step of
# a training run hides real problems. Compute $\exp$ only of $-|x| \le 0$, which cannot
# overflow:
#
# $$s(x) = \begin{cases}
#   \dfrac{1}{1 + e} & x \ge 0, \quad e = e^{-x} \in (0, 1] \\[1ex]
#   \dfrac{e}{1 + e} & x < 0, \quad e = e^{x} \in (0, 1)
# \end{cases}$$
#
# The cell below shows the naive sigmoid overflowing (the warning is caught and shown),
# and checks minigan's stable one against a 100-digit reference (Python's `decimal`).

# %%
lesson.section("2. the sigmoid: naive 1/(1 + exp(-x)) vs the stable one")
x_big = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], dtype=np.float32)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    # NumPy on the host: this is about IEEE floats, not the backend
    naive = 1 / (1 + np.exp(-x_big))
naive_warnings = [str(w.message) for w in caught
                  if issubclass(w.category, RuntimeWarning)]
print(f"  naive float32 sigmoid of {x_big.tolist()}:\n    {naive.tolist()}  "
      f"warnings: {naive_warnings}")
lesson.check_that("naive sigmoid overflows (a RuntimeWarning is raised)",
                  len(naive_warnings) > 0, f"{len(naive_warnings)} warning(s)")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    stable = H(sigmoid(A(x_big)))
print(f"  stable float32 sigmoid: {stable.tolist()}")
lesson.check_that("stable sigmoid: no warning at all", len(caught) == 0,
                  f"{len(caught)} warning(s)")


def sigmoid_reference(v):
    """1 / (1 + e^-v) with 100 significant digits (Python's decimal), as a float."""
    d = decimal.Decimal(float(v))
    return float(1 / (1 + (-d).exp()))


x_grid = np.concatenate([-np.logspace(np.log10(700), -3, 40),      # s(-700) ~ 1e-304
                         np.logspace(-3, np.log10(700), 40)])
ref = np.array([sigmoid_reference(v) for v in x_grid])
ours = H(sigmoid(A(x_grid)))
# relative error entry by entry: the tiny values s(-700) ~ 1e-304 must be right too
lesson.check("stable sigmoid (float64) vs a 100-digit reference, worst entrywise "
             "rel err", float((abs(ours - ref) / ref).max()), 1e-14)

# %% [markdown]
# ## Binary cross-entropy from logits
#
# D outputs a logit $x$, and $D(x) = s(x)$ is its probability that the input is real.
# For a target $t$ (1 = real, 0 = fake) the loss of one sample is
#
# $$l(x, t) = -t \log s(x) - (1 - t) \log(1 - s(x)).$$
#
# The naive way computes $s(x)$, then the logs. For $x = 40$ and $t = 0$ (D sure a fake
# is real): $s(40) = 1 - 4.2\times10^{-18}$, which rounds to exactly $1.0$ in float32
# AND float64, so $\log(1 - s) = \log 0 = -\infty$. Worse, before that: at $x = 15$ in
# float32, $1 - s(x)$ keeps only a few correct digits (catastrophic cancellation), and
# the loss is wrong by 1% with no warning at all.
#
# The cure is algebra. Since $1 - s(x) = s(-x)$ and $\log s(x) = -\log(1 + e^{-x})$:
#
# $$-\log s(x) = \log(1 + e^{-x}) = \mathrm{softplus}(-x), \qquad
#   -\log(1 - s(x)) = \log(1 + e^{x}) = \mathrm{softplus}(x),$$
#
# $$\mathrm{softplus}(x) = \max(x, 0) + \mathrm{log1p}(e^{-|x|})$$
#
# ($\exp$ of a value $\le 0$ only; `log1p` accurate near $0$, where `log(1 + u)` loses
# the digits of $u$), so
#
# $$l(x, t) = t\,\mathrm{softplus}(-x) + (1 - t)\,\mathrm{softplus}(x)
#   = \max(x, 0) - x t + \mathrm{log1p}(e^{-|x|}).$$
#
# `minigan.losses.bce_with_logits(logits, targets)` returns the batch mean of $l$ and
# its gradient (section 4), with logits of shape $(N,)$ or $(N, 1)$. The cell below is
# the function the exercise asks for: outside exercise mode minigan's, on NumPy arrays;
# with `--exercise` yours.

# %%
def bce_with_logits(logits, targets):
    """minigan.losses.bce_with_logits on NumPy arrays: (mean loss, dL/dlogits).

    logits (N,); targets a float or (N,). The loss a float, dL/dlogits (N,), in the
    logits' dtype.
    """
    t = targets if np.ndim(targets) == 0 else A(targets)
    value, grad = losses.bce_with_logits(A(logits), t)
    return value, H(grad)


bce_with_logits = lesson.exercises(bce_with_logits)

# %% [markdown]
# The naive BCE, wrong then infinite, against `bce_with_logits`, correct to the last
# digits against a 100-digit reference for logits up to $10^4$ in magnitude, in float32
# and float64: worst relative error at most $2\epsilon$, with $\epsilon$ the machine
# epsilon ($2^{-23} = 1.2\times10^{-7}$ in float32, $2^{-52} = 2.2\times10^{-16}$ in
# float64), which is less than 4 units in the last place (figure `bce.png`).

# %%
lesson.section("3. binary cross-entropy, target t = 0 (D facing a fake): naive vs "
               "bce_with_logits")


def bce_reference(v, t):
    """l(v, t) = t softplus(-v) + (1 - t) softplus(v), with 100 digits."""
    d = decimal.Decimal(float(v))
    t = decimal.Decimal(t)
    return float(t * (1 + (-d).exp()).ln() + (1 - t) * (1 + d.exp()).ln())


def bce_naive(v, t, dtype):
    v = np.asarray(v, dtype=dtype)
    s = 1 / (1 + np.exp(-v))
    return -t * np.log(s) - (1 - t) * np.log(1 - s)


def bce_stable(v, t, dtype):
    """Per-sample values: bce_with_logits of a batch of one, for each logit."""
    return np.array([bce_with_logits(np.array([vi], dtype=dtype), t)[0]
                     for vi in np.atleast_1d(v)])


with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    naive40 = float(bce_naive([40.0], 0.0, np.float32)[0])
    naive15 = float(bce_naive([15.0], 0.0, np.float32)[0])
print(f"  naive float32: l(15, 0) = {naive15:.6f} (exact {bce_reference(15, 0):.6f}),  "
      f"l(40, 0) = {naive40}")
lesson.check_that("naive BCE is infinite at x = 40 (log(1 - 1.0))", np.isinf(naive40),
                  f"l = {naive40}, warnings: {[str(w.message) for w in caught]}")
naive15_err = abs(naive15 - bce_reference(15, 0)) / bce_reference(15, 0)
lesson.check_that("naive BCE is silently WRONG before it is infinite (x = 15, float32)",
                  naive15_err > 1e-3, f"rel err {naive15_err:.1e} > 1e-3")

extremes = np.array([-1e4, -1e3, -100.0, -40.0, -15.0, -1.0, 0.0, 1.0, 15.0, 40.0,
                     100.0, 1e3, 1e4])
for dtype in ("float32", "float64"):
    # 2 eps: under 4 units in the last place, whatever the value
    tol = 2 * float(np.finfo(dtype).eps)
    for t in (0.0, 1.0):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = bce_stable(extremes, t, dtype)
        ref = np.array([bce_reference(v, t) for v in extremes])
        # relative error, except for losses below `floor` (1e-30 in float32, 1e-300 in
        # float64), compared absolutely: near the bottom of the float range values turn
        # subnormal and carry fewer digits by design (a GPU may even flush them to
        # zero), and a loss of 1e-44 is 0 for every purpose
        floor = 1e-30 if dtype == "float32" else 1e-300
        err = float((abs(values - ref) / np.maximum(ref, floor)).max())
        finite = bool(np.isfinite(values).all()) and not caught
        lesson.check_that(f"bce_with_logits {dtype}, t={t:.0f}: finite, no warning, "
                          "|x| up to 1e4", finite, f"{len(caught)} warning(s)")
        lesson.check(f"bce_with_logits {dtype}, t={t:.0f} vs the 100-digit reference "
                     f"(worst rel err, tolerance 2 eps = {tol:.2e})", err, tol)

# the picture: loss and its error over a range of logits
xs = np.linspace(-50, 50, 201 if lesson.quick else 1001)
ref = np.array([bce_reference(v, 0) for v in xs])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")      # the naive curves are supposed to break here
    curves = {"naive float32": bce_naive(xs, 0.0, np.float32),
              "naive float64": bce_naive(xs, 0.0, np.float64)}
curves["bce_with_logits float32"] = bce_stable(xs, 0.0, "float32")
curves["bce_with_logits float64"] = bce_stable(xs, 0.0, "float64")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 4.5))
for (label, values), style in zip(curves.items(), ["-", "--", "-", ":"]):
    ax1.plot(xs, np.where(np.isfinite(values), values, np.nan), style, label=label)
    rel = abs(values.astype(np.float64) - ref) / ref
    ax2.semilogy(xs, np.where(np.isfinite(rel), np.maximum(rel, 1e-18), 1e1), style,
                 label=label)                 # 0 drawn at 1e-18
for label, values in list(curves.items())[:2]:
    bad = xs[~np.isfinite(values)]
    if bad.size:
        ax1.axvline(bad.min(), color="red", linewidth=0.6)
        ax1.annotate(f"{label}: inf from x = {bad.min():.1f}",
                     (bad.min(), 5 + 10 * label.endswith("64")), fontsize=8,
                     color="red")
ax1.set_xlabel("logit x")
ax1.set_ylabel("l(x, t=0) = -log(1 - s(x))")
ax1.set_title("BCE of a fake judged real: naive breaks, stable does not")
ax1.legend(fontsize=8)
ax2.set_xlabel("logit x")
ax2.set_ylabel("relative error vs 100-digit reference (inf drawn at 10)")
ax2.set_title("accuracy")
ax2.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
lesson.savefig(fig, "bce.png")

# %% [markdown]
# ## The gradient
#
# The derivative of $l$ is the cleanest formula in deep learning:
#
# $$\frac{\partial l}{\partial x} = -t\,(1 - s(x)) + (1 - t)\, s(x) = s(x) - t .$$
#
# `bce_with_logits` returns the batch MEAN, so its gradient is
# $\partial L/\partial x_n = (s(x_n) - t_n)/N$. (The naive chain rule,
# $\frac{\partial l}{\partial s}\frac{\partial s}{\partial x}
# = \frac{s - t}{s (1 - s)} \cdot s (1 - s)$, computes $\infty \cdot 0 = \text{NaN}$ at
# $x = 40$.) The cell below checks $(s(x) - t)/N$ against central differences, on 0/1
# labels and soft labels, and shows the naive chain rule's NaN.

# %%
lesson.section("4. the gradient dl/dx = s(x) - t")
rng = backend.rng(lesson.seed)
logits = rng.standard_normal(8) * 3                         # (N=8,)
targets = np.array([0, 1, 1, 0, 1, 0, 0.3, 0.9])          # 0/1 labels, and soft labels
value, grad = bce_with_logits(logits, targets)
numeric = np.zeros(8)
for i in range(8):
    e = np.zeros(8)
    e[i] = 1e-6
    numeric[i] = (bce_with_logits(logits + e, targets)[0]
                  - bce_with_logits(logits - e, targets)[0]) / 2e-6
lesson.check("gradient (s(x) - t) / N vs central differences (rel err)",
             rel_error(grad, numeric), 1e-8)
expected = (1 / (1 + np.exp(-logits)) - targets) / 8
lesson.check("gradient equals (s(x) - t) / N exactly (rel err)",
             rel_error(grad, expected), 1e-12)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    s = 1 / (1 + np.exp(-np.float64(40.0)))
    naive_grad = (1 / (1 - s)) * (s * (1 - s))              # dl/ds * ds/dx for t = 0
stable_grad = float(bce_with_logits(np.array([40.0]), 0.0)[1][0])
print(f"  at x = 40, t = 0: naive chain rule {naive_grad}, "
      f"bce_with_logits {stable_grad}")
lesson.check_that("naive chain rule gives NaN (inf * 0) at x = 40",
                  np.isnan(naive_grad), f"{naive_grad}")
lesson.check("bce_with_logits gradient at x = 40 is s(40) - 0 = 1 (abs err)",
             abs(stable_grad - 1.0), 1e-15)

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. In float32 the naive BCE is wrong at $x = 15$ before it is infinite at $x = 40$.
#    Where exactly are the digits lost, and why does no warning appear?
# 2. The true gradient at $x = 40$, $t = 0$ is $s(40) \approx 1$, yet the naive chain
#    rule returns NaN. Which factor is infinite, which is zero, and why does
#    $s(x) - t$ avoid both?
# 3. `bce_with_logits` returns $(s(x) - t)/N$, not $s(x) - t$. What would a trainer that
#    forgot the $1/N$ do to its effective learning rate when the batch size doubles?
# 4. The sigmoid's derivative is at most $1/4$. What does that mean for the gradient
#    that reaches the first of ten stacked sigmoid layers?
#
# Short answers: `lessons/ANSWERS.md`.
