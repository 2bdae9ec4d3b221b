# %% [markdown]
# # Lesson 34 — Debugging a layer with `check_layer`
#
# Every minigan layer writes its backward by hand, and a wrong backward does not
# crash: the GAN trains a little worse, or not at all, and nothing says why. The
# remedy is `minigan.gradcheck.check_layer(layer, x)`: in float64 it compares the
# layer's backward with central differences of $f = \sum y \odot G$ for a random
# $G$, and returns ONE relative error per array: the input `x` and each parameter.
# A correct layer scores about $10^{-10}$; a wrong term scores $10^{-2}$ to $1$.
#
# Because the errors come per array, a failing check also says WHERE the bug is:
# if only `W` fails, the mistake is in the line computing `dW`. This lesson uses
# that twice:
#
# 1. **Find the bug.** A `DenseTanh` layer, $y = \tanh(xW + b)$, has one planted
#    mistake in its backward. `check_layer` points at it; you fix it.
# 2. **Write a new layer.** SiLU (Swish), $y = x\,\sigma(x)$: a forward that never
#    overflows, and a backward that passes `check_layer`.
#
# **Exercises.** Write `fixed_backward`, `silu_forward` and `silu_backward` in
# `lessons/exercises/34_debugging_a_layer.py`, then run
# `python lessons/34_debugging_a_layer.py --exercise`: every check then uses yours.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import check_layer, rel_error
from minigan.layers.activations import sigmoid
from minigan.layers.base import Module

lesson = Lesson("34_debugging_a_layer")
minigan.set_default_dtype("float64")   # central differences need float64 (lesson 02)
A, H = backend.asarray, backend.to_numpy
xp = lesson.xp
rng = np.random.default_rng(lesson.seed)
TOL = 1e-7

# %% [markdown]
# ## 1. Find the bug
#
# `DenseTanh` computes $z = xW + b$, $y = \tanh z$ (x: (N, n_in), W: (n_in, n_out),
# b: (n_out,)). Its backward is a function `backward_fn(x, W, b, grad_out)` returning
# `(dx, dW, db)`, so that we can swap it. The shipped one, `buggy_backward`, has one
# planted mistake. Read it, or better: let `check_layer` find it first.

# %%
class DenseTanh(Module):
    """y = tanh(x W + b).    Shapes: (N, n_in) -> (N, n_out)."""

    def __init__(self, n_in, n_out, backward_fn, seed=0):
        super().__init__()
        r = np.random.default_rng(seed)
        self.add_param("W", A(r.standard_normal((n_in, n_out)) / np.sqrt(n_in)))
        self.add_param("b", A(0.1 * r.standard_normal(n_out)))
        self.backward_fn = backward_fn

    def forward(self, x):
        self.save_for_backward(x)
        return xp.tanh(x @ self.params["W"] + self.params["b"])

    def backward(self, grad_out, input_grad=True, param_grads=True):
        x, = self.saved()
        if not (input_grad or param_grads):
            return None
        dx, dW, db = self.backward_fn(x, self.params["W"], self.params["b"], grad_out)
        if param_grads:
            self.grads["W"] += dW
            self.grads["b"] += db
        return dx if input_grad else None


def buggy_backward(x, W, b, grad_out):
    y = xp.tanh(x @ W + b)
    dz = grad_out * (1 - y * y)
    return dz @ W.T, x.T @ grad_out, dz.sum(axis=0)


def fixed_backward(x, W, b, grad_out):
    """The backward of y = tanh(x W + b): (dx, dW, db)."""
    mod = backend.get_array_module(x)
    y = mod.tanh(x @ W + b)
    dz = grad_out * (1 - y * y)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)


fixed_backward = lesson.exercises(fixed_backward)

N, N_IN, N_OUT = (4, 5, 3) if lesson.quick else (16, 8, 6)
x = A(rng.standard_normal((N, N_IN)))

lesson.section(f"1. DenseTanh {N_IN} -> {N_OUT} on a batch of {N}, float64")
buggy = check_layer(DenseTanh(N_IN, N_OUT, buggy_backward, seed=lesson.seed), x)
print("  buggy_backward, rel err per array: "
      + ", ".join(f"{k} {v:.1e}" for k, v in buggy.items()))
lesson.check_that("the planted bug shows in W alone (x and b pass)",
                  buggy["W"] > 1e-3 and buggy["x"] <= TOL and buggy["b"] <= TOL,
                  f"W {buggy['W']:.1e}, x {buggy['x']:.1e}, b {buggy['b']:.1e}")

# %% [markdown]
# Only `W` fails, so the bug is in the `dW` line: `x.T @ grad_out` is the gradient
# of $xW + b$, not of $\tanh(xW + b)$; the chain rule's factor $1 - y^2$ is missing
# there (and only there: `dx` and `db` use `dz`). Your `fixed_backward` is plugged in
# below: first its shapes, then `check_layer`, which must pass for every array.

# %%
W0 = A(rng.standard_normal((N_IN, N_OUT)))
b0 = A(rng.standard_normal(N_OUT))
G0 = A(rng.standard_normal((N, N_OUT)))
shapes = [tuple(a.shape) for a in fixed_backward(x, W0, b0, G0)]
want = [(N, N_IN), (N_IN, N_OUT), (N_OUT,)]
lesson.check_that("fixed_backward returns (dx, dW, db) of the right shapes",
                  shapes == want, f"{shapes}")
if shapes == want:
    fixed = check_layer(DenseTanh(N_IN, N_OUT, fixed_backward, seed=lesson.seed), x)
else:
    fixed = {"x": float("inf"), "W": float("inf"), "b": float("inf")}
for name, err in fixed.items():
    lesson.check(f"fixed DenseTanh, d{name} vs central differences (rel err)",
                 err, TOL)

fig, ax = plt.subplots(figsize=(5.5, 3.5))
names = list(buggy)
pos = np.arange(len(names))
ax.bar(pos - 0.2, [max(buggy[k], 1e-16) for k in names], 0.4, label="buggy_backward")
ax.bar(pos + 0.2, [max(fixed[k], 1e-16) if np.isfinite(fixed[k]) else 1.0
                   for k in names], 0.4, label="fixed_backward")
ax.axhline(TOL, color="k", ls="--", lw=1, label=f"tolerance {TOL:.0e}")
ax.set_yscale("log")
ax.set_xticks(pos, names)
ax.set(ylabel="check_layer rel err", title="The failing array localises the bug")
ax.legend(fontsize=8)
lesson.savefig(fig, "check_layer_errors.png")

# %% [markdown]
# ## 2. Write a new layer: SiLU
#
# SiLU (Swish), $y = x\,\sigma(x)$ with $\sigma(x) = 1/(1 + e^{-x})$. Two things to
# get right:
#
# - **the forward must not overflow.** `x / (1 + exp(-x))` is the textbook formula,
#   but at $x = -1000$ `exp(1000)` overflows (NumPy warns; the answer happens to be
#   0, by luck). minigan's `sigmoid` only ever takes `exp` of $-|x|$;
# - **the backward is a product rule**: $y' = \sigma(x) + x\,\sigma'(x)$, with
#   $\sigma' = \sigma(1 - \sigma)$.
#
# The checks: `check_layer` on a `SiLU` module built on your two functions; the
# forward against the textbook formula evaluated in extended precision
# (`np.longdouble`, where `exp(1000)` is finite); and forward and backward at
# $x = \pm 10^3$ with NumPy's overflow and invalid-value warnings turned into errors.

# %%
def silu_forward(x):
    """y = x sigmoid(x), stable for any x."""
    return x * sigmoid(x)


def silu_backward(x, grad_out):
    """dL/dx of y = x sigmoid(x)."""
    s = sigmoid(x)
    return grad_out * (s + x * s * (1 - s))


silu_forward, silu_backward = lesson.exercises(silu_forward, silu_backward)


class SiLU(Module):
    """y = x sigmoid(x).    Shapes: any -> same."""

    def forward(self, x):
        self.save_for_backward(x)
        return silu_forward(x)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        x, = self.saved()
        return silu_backward(x, grad_out) if input_grad else None


lesson.section("2. SiLU")
xs = A(3 * rng.standard_normal((N, N_IN)))
lesson.check("SiLU dx vs central differences (rel err)", check_layer(SiLU(), xs)["x"],
             TOL)

grid = np.linspace(-1000, 1000, 201 if lesson.quick else 2001)
grid = np.concatenate([grid, np.linspace(-20, 20, 401)])
long = grid.astype(np.longdouble)
reference = long / (1 + np.exp(-long))
try:
    with np.errstate(over="raise", invalid="raise"):
        y_grid = H(silu_forward(A(grid)))
        d_grid = H(silu_backward(A(grid), A(np.ones_like(grid))))
    overflow, detail = False, "no warning"
except FloatingPointError as exc:
    overflow, detail = True, str(exc)
    y_grid = d_grid = np.full_like(grid, np.nan)
lesson.check_that("SiLU forward and backward on [-1e3, 1e3]: no overflow, finite",
                  not overflow and np.isfinite(y_grid).all()
                  and np.isfinite(d_grid).all(), detail)
rel = np.abs(y_grid - reference) / np.maximum(np.abs(reference), 1e-300)
small = np.abs(grid) <= 20
lesson.check("SiLU forward vs x/(1+exp(-x)) in long double, |x| <= 20 "
             "(max rel err per entry)", float(rel[small].max()), 1e-14)
lesson.check("SiLU forward vs long double on [-1e3, 1e3] (rel_error)",
             rel_error(y_grid, reference.astype(np.float64)), 1e-14)

fig, ax = plt.subplots(figsize=(5.5, 3.5))
order = np.argsort(grid)
for arr, label in ((y_grid, "SiLU  x sigmoid(x)"), (d_grid, "its derivative")):
    ax.plot(grid[order][small[order]], arr[order][small[order]], label=label)
ax.set(xlim=(-6, 6), ylim=(-1, 6), xlabel="x", title="SiLU and its derivative")
ax.axhline(0, color="k", lw=0.5)
ax.legend(fontsize=8)
lesson.savefig(fig, "silu.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. `check_layer` returned a small error for `x` and `b` but a large one for `W`.
#    Why does that localise the bug to one line, and why did `dx` stay correct?
# 2. Why does `check_layer` refuse float32, and what error would a correct layer
#    score there?
# 3. The textbook `x / (1 + exp(-x))` returned the right value at $x = -1000$ after
#    an overflow. Why is it still a bug?
#
# Short answers: `lessons/ANSWERS.md`.
