# %% [markdown]
# # Lesson 32 — Gradient penalties: R1 and WGAN-GP on a real network
#
# A gradient penalty charges the discriminator for its SLOPE in the input:
#
# - **R1** (Mescheder et al. 2018): $\frac{\gamma}{2}\,\mathbb{E}_x
#   \|\nabla_x D(x)\|^2$ on the REAL data, which makes the real points flat tops of D;
# - **WGAN-GP** (Gulrajani et al. 2017): $\lambda\,\mathbb{E}_{\hat x}
#   (\|\nabla_x D(\hat x)\| - 1)^2$ at random points $\hat x$ between a real and a fake
#   sample, which keeps a Wasserstein critic close to 1-Lipschitz.
#
# Lesson 12 put R1 on the Dirac-GAN, where D is one number and every derivative is
# written by hand. On a real network the penalty's gradient in the parameters
# $\theta$ needs a SECOND derivative, $\partial_\theta \nabla_x D$, and minigan's layers
# only know first derivatives. `minigan/penalties.py` gets it from two more ordinary
# forward/backward passes: with $v$ held fixed,
#
# $$\partial_\theta \big(v \cdot \nabla_x D(x)\big) \approx \partial_\theta\,
#   \frac{D(x + h v) - D(x - h v)}{2h},$$
#
# a (mixed) Hessian-vector product by central differences. Both penalties are of the
# form $P = \frac1N\sum_i \phi(g_i)$ with $g_i = \nabla_x D(x_i)$, so
# $\partial_\theta P = \frac1N \sum_i \partial_\theta(\phi'(g_i)\cdot g_i)$ with
# $\phi'(g_i)$ frozen: ONE function serves both. The checks compare it with central
# differences of the penalty itself in $\theta$ (float64) and with minigan's
# `r1_penalty`; section 3 measures what R1 does to D's slope on the digits.
#
# **Exercise.** Write `hessian_vector_product` in
# `lessons/exercises/32_gradient_penalties.py`, then run
# `python lessons/32_gradient_penalties.py --exercise`: every check then uses yours.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import numpy as np

import minigan
from minigan import backend
from minigan.data import load_digits
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.layers import Dense, Flatten, LeakyReLU, Sequential
from minigan.models import build
from minigan.penalties import input_gradient, r1_penalty
from minigan.train import GAN

lesson = Lesson("32_gradient_penalties")
minigan.set_default_dtype("float64")   # central differences need float64 (lesson 02)
A, H = backend.asarray, backend.to_numpy
xp = lesson.xp
rng = np.random.default_rng(lesson.seed)
images_host, _ = load_digits()          # (1797, 1, 8, 8) in [-1, 1]

# %% [markdown]
# ## 1. R1's gradient as a Hessian-vector product
#
# `hessian_vector_product(D, x, v, h)` ADDS into D's parameter gradients
#
# $$\partial_\theta \sum_i v_i \cdot \nabla_x D(x_i)
#   \approx \partial_\theta \sum_i \frac{D(x_i + h v_i) - D(x_i - h v_i)}{2h}:$$
#
# one forward of the $2N$ shifted rows as a single batch, one backward with upstream
# gradients $+1/(2h)$ and $-1/(2h)$. For R1, $\phi(g) = \frac{\gamma}{2}\|g\|^2$,
# $\phi'(g) = \gamma g$: call it with $v_i = g_i$ and scale by $\gamma/N$. `h` is
# chosen so that the longest shift is `step` (in pixel units), as in `penalties.py`.
#
# The network: an MLP D on the 8x8 digits (64-32-32-1, LeakyReLU 0.2, no BatchNorm:
# a penalty on $\nabla_x D(x_i)$ needs D to judge each sample on its own). Its
# LeakyReLU kinks are why $h$ must be small for an exact check: the difference
# quotient averages the slope over the segment $x \pm h v$ (at minigan's default
# step, $10^{-2}$, it is the gradient of a smoothed R1, not of R1: `step_size.png`).
# The checks (at step $10^{-5}$): relative error, over all parameters at once, against
# central differences of $R_1(\theta)$, and against `r1_penalty`.

# %%
def hessian_vector_product(D, x, v, h):
    """Add d/dtheta sum_i v_i . dD(x_i)/dx_i into D's parameter gradients."""
    xp, n = backend.get_array_module(x), x.shape[0]
    D(xp.concatenate([x + h * v, x - h * v]))
    c = 1.0 / (2 * h)
    upstream = xp.concatenate([xp.full((n, 1), c, dtype=x.dtype),
                               xp.full((n, 1), -c, dtype=x.dtype)])
    D.backward(upstream, input_grad=False)


hessian_vector_product = lesson.exercises(hessian_vector_product)


def small_d(width=32):
    return Sequential(Flatten(), Dense(64, width), LeakyReLU(0.2),
                      Dense(width, width), LeakyReLU(0.2), Dense(width, 1))


def grads_of(D):
    return [H(g).copy() for _, _, g in D.parameters()]


def worst(a, b):
    """rel_error over all parameters at once (the last bias's true gradient is 0)."""
    return rel_error(np.concatenate([p.ravel() for p in a]),
                     np.concatenate([q.ravel() for q in b]))


def r1_value(D, x, gamma):
    g = input_gradient(D, x)
    return 0.5 * gamma * float((g * g).reshape(len(x), -1).sum(axis=1).mean())


def penalty_grads(D, x, v, scale, step):
    """scale * d/dtheta sum_i v_i . grad_x D(x_i), with the longest shift = step."""
    D.zero_grad()
    longest = float(xp.sqrt((v * v).reshape(len(x), -1).sum(axis=1).max()))
    hessian_vector_product(D, x, v, step / longest)
    grads = grads_of(D)
    D.zero_grad()
    return [scale * g for g in grads]


def numeric_grads(D, f):
    """Central differences of the scalar f() in every parameter of D (float64)."""
    return [H(numerical_gradient(f, p, h=1e-6)) for _, p, _ in D.parameters()]


N, GAMMA, STEP = 8, 10.0, 1e-5
backend.seed(lesson.seed)
D = small_d()
x_real = A(images_host[rng.choice(len(images_host), N, replace=False)]
           .astype(np.float64))

lesson.section(f"1. R1 (gamma {GAMMA}) on {N} real digits, MLP D with "
               f"{D.num_parameters():,} parameters, float64")
g = input_gradient(D, x_real)
ours = penalty_grads(D, x_real, g, GAMMA / N, STEP)
numeric = numeric_grads(D, lambda: r1_value(D, x_real, GAMMA))
D.zero_grad()
value = r1_penalty(D, x_real, GAMMA, step=STEP)
library = grads_of(D)
D.zero_grad()
print(f"  R1 = {value:.4f}; |dR1/dtheta| = "
      f"{np.sqrt(sum((n_ ** 2).sum() for n_ in numeric)):.3e}")
err_r1_num = worst(ours, numeric)
lesson.check("HVP-based dR1/dtheta vs central differences of R1 (max rel err)",
             err_r1_num, 1e-6)
lesson.check("HVP-based dR1/dtheta vs minigan's r1_penalty (max rel err)",
             worst(ours, library), 1e-8)
lesson.check("r1_penalty vs central differences (max rel err)",
             worst(library, numeric), 1e-6)

# how the finite-difference step trades truncation (kinks) against rounding
steps = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
errors = [worst(penalty_grads(D, x_real, g, GAMMA / N, s), numeric) for s in steps]
for s, e in zip(steps, errors):
    print(f"  step {s:.0e}: rel err {e:.1e}")

# %% [markdown]
# ## 2. WGAN-GP: the same product, another direction
#
# At $\hat x_i = \epsilon_i x_i + (1 - \epsilon_i)\tilde x_i$ ($\epsilon_i$ uniform,
# $\tilde x_i$ a fake), $\phi(g) = \lambda(\|g\| - 1)^2$, so
# $\phi'(g) = 2\lambda(1 - 1/\|g\|)\,g$: the direction is $g$ again, now weighted by
# how far $\|g\|$ is from 1 and pointing BACKWARDS when the slope is too small (the
# penalty then asks for a steeper D). Here the "fakes" are noise images and the
# interpolates are drawn once and held fixed. The check: the gradient built from
# `hessian_vector_product` against central differences of the penalty in $\theta$.

# %%
LAMBDA = 10.0


def gp_value(D, x_hat, lam):
    g = input_gradient(D, x_hat)
    norms = xp.sqrt((g * g).reshape(len(x_hat), -1).sum(axis=1))
    return lam * float(((norms - 1) ** 2).mean())


def gp_grads(D, x_hat, lam, step):
    n = len(x_hat)
    g = input_gradient(D, x_hat)
    norms = xp.sqrt((g * g).reshape(n, -1).sum(axis=1)).reshape(n, *[1] * (g.ndim - 1))
    return penalty_grads(D, x_hat, (1 - 1 / norms) * g, 2 * lam / n, step)


lesson.section(f"2. WGAN-GP (lambda {LAMBDA}) at {N} interpolates real/noise")
x_fake = A(rng.uniform(-1, 1, size=(N, 1, 8, 8)))
eps = A(rng.uniform(size=(N, 1, 1, 1)))
x_hat = eps * x_real + (1 - eps) * x_fake
g_hat = input_gradient(D, x_hat)
slopes = H(xp.sqrt((g_hat * g_hat).reshape(N, -1).sum(axis=1)))
print(f"  |grad_x D(x_hat)|: {slopes.min():.3f} .. {slopes.max():.3f}; "
      f"penalty {gp_value(D, x_hat, LAMBDA):.4f}")
ours_gp = gp_grads(D, x_hat, LAMBDA, STEP)
numeric_gp = numeric_grads(D, lambda: gp_value(D, x_hat, LAMBDA))
err_gp = worst(ours_gp, numeric_gp)
lesson.check("HVP-based dGP/dtheta vs central differences of the penalty "
             "(max rel err)", err_gp, 1e-6)

fig, ax = plt.subplots(figsize=(5.5, 3.8))
ax.loglog(steps, errors, "o-")
ax.axhline(1e-6, color="grey", ls=":", label="the check's tolerance")
ax.set(xlabel="longest shift h|v| (pixel units)", ylabel="max rel err vs numeric",
       title="R1 gradient by finite differences: the step")
ax.legend(fontsize=8)
lesson.savefig(fig, "step_size.png")

# %% [markdown]
# ## 3. What R1 does, measured
#
# Two short GAN runs on the digits, the same seed, minigan's `mlp` pair (D without
# BatchNorm) in float32, once without and once with R1 ($\gamma = 10$, the library's
# `step` of $10^{-2}$). Afterwards we measure $\|\nabla_x D(x)\|$ on 500 real digits.
# The claim checked: R1 makes D flatter at the real data, its median slope there
# several times smaller.

# %%
minigan.set_default_dtype("float32")
STEPS = 100 if lesson.quick else 400
BATCH, Z, R1 = 64, 16, 10.0
data = A(images_host.astype(np.float32))
probe = data[A(rng.choice(len(images_host), 500, replace=False))]


def sample_digits(r, n):
    return data[A(r.choice(len(images_host), n, replace=False))]


lesson.section(f"3. {STEPS} GAN steps on the digits, without and with R1")
slopes_by = {}
for r1 in (0.0, R1):
    backend.seed(lesson.seed)
    G, Dm = build("mlp", (1, 8, 8), z_dim=Z)
    gan = GAN(G, Dm, z_dim=Z, lr_g=5e-4, lr_d=5e-4, seed=lesson.seed, r1=r1)
    gan.fit(sample_digits, STEPS, BATCH)
    gp = input_gradient(Dm, probe)
    slopes_by[r1] = H(xp.sqrt((gp * gp).reshape(len(probe), -1).sum(axis=1)))
    print(f"  r1 = {r1}: median |grad_x D| on real digits "
          f"{np.median(slopes_by[r1]):.3f}")
ratio = np.median(slopes_by[0.0]) / np.median(slopes_by[R1])
lesson.check_that("R1 lowers D's median slope on the real digits at least 3-fold",
                  ratio >= 3, f"{ratio:.1f}x")

fig, ax = plt.subplots(figsize=(5.5, 3.8))
bins = np.logspace(np.log10(min(s.min() for s in slopes_by.values())),
                   np.log10(max(s.max() for s in slopes_by.values())), 40)
for r1, s in slopes_by.items():
    ax.hist(s, bins=bins, alpha=0.6, label=f"r1 = {r1}")
ax.set_xscale("log")
ax.set(xlabel="|grad_x D(x)| on real digits", ylabel="count",
       title=f"D's slope at the data after {STEPS} steps")
ax.legend(fontsize=8)
lesson.savefig(fig, "slopes.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Why is the penalty's parameter gradient a Hessian-vector product, and why may
#    $v = \phi'(g)$ be held fixed while differencing?
# 2. The step plot: why does the error grow as the step shrinks below $10^{-5}$, and
#    why is it of order 1 at minigan's default step $10^{-2}$ on this D?
# 3. Why must D have no BatchNorm for either penalty?
#
# Short answers: `lessons/ANSWERS.md`.
