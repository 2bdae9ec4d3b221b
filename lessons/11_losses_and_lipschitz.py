# %% [markdown]
# # Lesson 11 — Five GAN losses, their optimal D, and the Lipschitz constraint
#
# `minigan.losses` offers five GAN losses (four losses for D: minimax and non-saturating
# share one). Each is a different game: D's loss decides which D is best, and the best
# D's loss is a distance (or a function of one) between the real and the fake
# distribution, the thing the game has G shrink. Solved point by point, the
# cross-entropy, least-squares and hinge losses give a bounded best D; the Wasserstein
# critic's loss gives none: its D wants to be infinitely large unless it is made
# 1-Lipschitz. Spectral normalisation does that one layer at a time, dividing each
# weight by its largest singular value, found by power iteration. Every formula below
# is checked on numbers the lesson computes (in float64; integrals by the trapezoid
# rule).
#
# **Exercise.** Write `power_iteration` and `spectral_norm_backward` in
# `lessons/exercises/11_losses_and_lipschitz.py`, then run
# `python lessons/11_losses_and_lipschitz.py --exercise`: the power-iteration checks of
# section 5 and the spectral-norm gradient checks of section 6 then run on your
# functions instead of minigan's.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import math
from typing import NamedTuple

import numpy as np

import minigan
from minigan import backend, losses
from minigan.gradcheck import check_layer, numerical_gradient, rel_error
from minigan.layers import (Conv2d, ConvTranspose2d, Dense, LeakyReLU, Module,
                            Sequential, SpectralNorm)
from minigan.optim import Adam

lesson = Lesson("11_losses_and_lipschitz")
minigan.set_default_dtype("float64")
A, H = backend.asarray, backend.to_numpy
LOG2 = math.log(2)
_trapezoid = getattr(np, "trapezoid", None) or np.trapz   # NumPy >= 2 renamed trapz

# %% [markdown]
# ## 1. The five losses, per sample
#
# In `minigan.losses`, $a$ is D's raw output (a logit for BCE), $s$ the sigmoid and
# $\mathrm{sp}(t) = \log(1 + e^t)$ the softplus. minigan averages over the batch, so
# every gradient it returns carries a factor $1/N$.
#
# | kind | D on a real $r$ | D on a fake $f$ | G on a fake $f$ |
# |---|---|---|---|
# | minimax | $\mathrm{sp}(-r)$ | $\mathrm{sp}(f)$ | $-\mathrm{sp}(f)$ |
# | nonsaturating | $\mathrm{sp}(-r)$ | $\mathrm{sp}(f)$ | $\mathrm{sp}(-f)$ |
# | lsgan | $(r - 1)^2 / 2$ | $f^2 / 2$ | $(f - 1)^2 / 2$ |
# | hinge | $\mathrm{relu}(1 - r)$ | $\mathrm{relu}(1 + f)$ | $-f$ |
# | wasserstein | $-r$ | $f$ | $-f$ |
#
# Their derivatives, with $\partial_r = \partial / \partial r$,
# $\partial_f = \partial / \partial f$, and $[c] = 1$ if $c$ holds, else 0:
#
# | kind | D: $\partial_r$ | D: $\partial_f$ | G: $\partial_f$ |
# |---|---|---|---|
# | minimax | $s(r) - 1$ | $s(f)$ | $-s(f)$ |
# | nonsaturating | $s(r) - 1$ | $s(f)$ | $s(f) - 1$ |
# | lsgan | $r - 1$ | $f$ | $f - 1$ |
# | hinge | $-[r < 1]$ | $[f > -1]$ | $-1$ |
# | wasserstein | $-1$ | $1$ | $-1$ |
#
# Since $\mathrm{sp}(-r) = -\log s(r)$ and $\mathrm{sp}(f) = -\log(1 - s(f))$, the
# minimax and non-saturating games share D's loss, binary cross-entropy, and differ in
# G's (lesson 08).
#
# The code checks each loss's per-sample value against minigan's, the returned gradient
# against central differences of the returned value, and $N$ times the returned
# gradient against the table's derivatives.

# %%
def softplus(t):
    return np.logaddexp(0.0, t)


def sig(t):
    return 0.5 * (1 + np.tanh(0.5 * t))       # the sigmoid, without overflow


def relu(t):
    return np.maximum(t, 0.0)


class Formula(NamedTuple):
    """One loss kind of the table above: per-sample values and their derivatives."""
    real: object
    fake: object
    gen: object
    d_real: object
    d_fake: object
    d_gen: object


ones = np.ones_like
FORMULAS = {
    "minimax": Formula(lambda r: softplus(-r), softplus, lambda f: -softplus(f),
                       lambda r: sig(r) - 1, sig, lambda f: -sig(f)),
    "nonsaturating": Formula(lambda r: softplus(-r), softplus, lambda f: softplus(-f),
                             lambda r: sig(r) - 1, sig, lambda f: sig(f) - 1),
    "lsgan": Formula(lambda r: 0.5 * (r - 1) ** 2, lambda f: 0.5 * f ** 2,
                     lambda f: 0.5 * (f - 1) ** 2,
                     lambda r: r - 1, lambda f: f, lambda f: f - 1),
    "hinge": Formula(lambda r: relu(1 - r), lambda f: relu(1 + f), lambda f: -f,
                     lambda r: -(r < 1).astype(float), lambda f: (f > -1).astype(float),
                     lambda f: -ones(f)),
    "wasserstein": Formula(lambda r: -r, lambda f: f, lambda f: -f,
                           lambda r: -ones(r), ones, lambda f: -ones(f)),
}

lesson.section("1. each loss's value and gradient in D's output, against "
               "minigan.losses")
rng = np.random.default_rng(lesson.seed)


def logits(n):
    """(n, 1) outputs N(0, 2^2), kept 0.05 away from the hinge kinks at +-1 (h = 1e-6
    must not straddle one)."""
    x = 2.0 * rng.standard_normal((n, 1))
    near = abs(abs(x) - 1) < 0.05
    x[near] += 0.2 * np.sign(x[near])
    return x


r, f = logits(7), logits(5)                    # different N: each mean has its own 1/N
R, F = A(r), A(f)
print(f"  {'kind':14s} {'value err':>10s} {'grad vs CD':>11s} {'grad vs formula':>16s}")
for kind, fm in FORMULAS.items():
    d_value, g_real, g_fake = losses.discriminator_loss(R, F, kind)
    g_value, g_gen = losses.generator_loss(F, kind)
    value_err = max(abs(d_value - (fm.real(r).mean() + fm.fake(f).mean())),
                    abs(g_value - fm.gen(f).mean()))
    cd = {"D real": numerical_gradient(
              lambda: losses.discriminator_loss(R, F, kind)[0], R),
          "D fake": numerical_gradient(
              lambda: losses.discriminator_loss(R, F, kind)[0], F),
          "G": numerical_gradient(lambda: losses.generator_loss(F, kind)[0], F)}
    returned = {"D real": g_real, "D fake": g_fake, "G": g_gen}
    cd_err = max(rel_error(returned[k], cd[k]) for k in cd)
    # the per-sample derivative is N times the returned gradient (the loss is a mean)
    formula_err = max(rel_error(H(g_real) * r.shape[0], fm.d_real(r)),
                      rel_error(H(g_fake) * f.shape[0], fm.d_fake(f)),
                      rel_error(H(g_gen) * f.shape[0], fm.d_gen(f)))
    print(f"  {kind:14s} {value_err:10.1e} {cd_err:11.1e} {formula_err:16.1e}")
    lesson.check(f"{kind}: the table's per-sample values, averaged = minigan's values "
                 "(abs err)", value_err, 1e-12)
    lesson.check(f"{kind}: returned gradients vs central differences of the returned "
                 "values", cd_err, 1e-7)
    lesson.check(f"{kind}: N x returned gradients = the table's derivatives (rel err)",
                 formula_err, 1e-12)

# %% [markdown]
# ## 2. The optimal D, point by point
#
# With $p$ the real density and $q$ the fake one, D's expected loss is
#
# $$L(D) = \int \phi\big(a(x)\big)\, dx, \qquad
#   \phi(a) = p(x)\, l_r(a) + q(x)\, l_f(a),$$
#
# and a D free to take any value at each $x$ minimises $\phi$ at each $x$ separately:
#
# - **BCE:** $\phi'(a) = -p\,(1 - s(a)) + q\, s(a) = 0$ gives
#   $D^* = s(a^*) = p / (p + q)$, $a^* = \log(p / q)$ (lesson 09 derives it in full;
#   $\phi$ is convex in $a$, so this is THE minimum).
# - **LSGAN** (minigan's targets: 0 for fakes, 1 for reals, on the RAW output):
#   $\phi'(a) = p\,(a - 1) + q\, a = 0$ gives $a^* = p / (p + q)$, the same number, not
#   squashed. Mao et al. (2017) in general, fake target $a_0$, real target $b$:
#   $a^* = (b\, p + a_0\, q) / (p + q)$.
# - **hinge:** on $[-1, 1]$, $\phi(a) = p\,(1 - a) + q\,(1 + a) = (p + q) + a\,(q - p)$
#   is LINEAR, and outside it $\phi$ only grows, so $a^* = +1$ where $p > q$ and $-1$
#   where $p < q$ (any $a \in [-1, 1]$ where $p = q$): a sign.
# - **Wasserstein:** $\phi(a) = (q - p)\, a$ is linear with no bound: where $p \ne q$,
#   $a \to -\mathrm{sign}(q - p) \cdot \infty$ sends $\phi$ to $-\infty$. There is no
#   optimal unconstrained critic.
#
# The code finds each optimal D by minimising $\phi$ on a grid of outputs at 41 points
# $x$, for $p$ a two-Gaussian mixture and $q$ a Gaussian, and compares it with the
# formulas (figure `optimal_d.png`); for the Wasserstein loss it limits the outputs to
# $[-A, A]$ and watches the minimum follow $A$.

# %%
def mixture(x, parts):
    """Density of sum_i w_i N(m_i, s_i^2) at x."""
    return sum(w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
               for w, m, s in parts)


P_PARTS = ((0.5, -1.5, 0.6), (0.5, 1.0, 0.8))   # the "real" density: two bumps
Q_PARTS = ((1.0, 0.3, 1.2),)                     # the "fake" density: one wide Gaussian
# Pointwise objectives phi(a) = p l_r(a) + q l_f(a) of D's losses; Mao's (a0, b) =
# (-1, 1) added.
PHI = {
    "bce": (FORMULAS["minimax"].real, FORMULAS["minimax"].fake),
    "lsgan (0, 1)": (FORMULAS["lsgan"].real, FORMULAS["lsgan"].fake),
    "lsgan Mao (-1, 1)": (lambda a: 0.5 * (a - 1) ** 2, lambda a: 0.5 * (a + 1) ** 2),
    "hinge": (FORMULAS["hinge"].real, FORMULAS["hinge"].fake),
}
STAR = {   # the derived optimal outputs, from the densities
    "bce": lambda p, q: np.log(p) - np.log(q),       # a* = log(p/q), D* = p/(p+q)
    "lsgan (0, 1)": lambda p, q: p / (p + q),
    "lsgan Mao (-1, 1)": lambda p, q: (p - q) / (p + q),
    "hinge": lambda p, q: np.sign(p - q),
}
GRIDS = {   # candidate outputs a: (low, high, step)
    "bce": (-12.0, 12.0, 1e-4), "lsgan (0, 1)": (-1.0, 2.0, 1e-5),
    "lsgan Mao (-1, 1)": (-2.0, 2.0, 1e-5), "hinge": (-3.0, 3.0, 1e-4),
}

lesson.section("2. the optimal D, point by point: phi minimised on a grid of outputs "
               "vs the formulas")
xs = np.linspace(-3, 3, 41)
p_x, q_x = mixture(xs, P_PARTS), mixture(xs, Q_PARTS)
found = {}
for name, (l_r, l_f) in PHI.items():
    low, high, step = GRIDS[name]
    grid = np.linspace(low, high, int(round((high - low) / step)) + 1)
    found[name] = np.array([grid[np.argmin(p * l_r(grid) + q * l_f(grid))]
                            for p, q in zip(p_x, q_x)])
    err = np.abs(found[name] - STAR[name](p_x, q_x))
    if name == "hinge":   # where p = q every a in [-1, 1] is optimal: skip near-ties
        err = err[np.abs(p_x - q_x) > 1e-3 * (p_x + q_x)]
        lesson.check("hinge: grid argmin = sign(p - q) (largest distance, -1 and +1 "
                     "are grid points)", err.max(), 1e-9)
    else:
        formula = {"bce": "log(p/q), i.e. D* = p/(p+q)",
                   "lsgan (0, 1)": "p/(p+q) on the raw output",
                   "lsgan Mao (-1, 1)": "(b p + a0 q)/(p+q) = (p - q)/(p + q)"}[name]
        lesson.check(f"{name}: grid argmin = {formula} (largest distance, grid step "
                     f"{step:.0e})", err.max(), step)
bce_D = sig(found["bce"])
lesson.check("bce's D* = s(a*) and lsgan's a* are the same number p/(p+q) (largest "
             "difference)", np.abs(bce_D - found["lsgan (0, 1)"]).max(), 1e-4)
wass = {}
for bound in (1.0, 10.0, 100.0):
    grid = np.linspace(-bound, bound, 2001)
    obj = np.array([p * FORMULAS["wasserstein"].real(grid)
                    + q * FORMULAS["wasserstein"].fake(grid)
                    for p, q in zip(p_x, q_x)])
    wass[bound] = (grid[obj.argmin(axis=1)], obj.min(axis=1))
edge_err = max(np.abs(a_best - bound * np.sign(p_x - q_x)).max()
               for bound, (a_best, _) in wass.items())
lesson.check("wasserstein: on [-A, A] the minimum sits at the edge A sign(p - q), for "
             "A = 1, 10, 100", edge_err, 1e-12)
lesson.check("contract (true by construction once the edge check holds): min over "
             "[-A, A] = -A |p - q|, 100x lower for A = 100 than A = 1 (rel err)",
             rel_error(wass[100.0][1], 100 * wass[1.0][1]), 1e-12)

fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
xx = np.linspace(-4, 4, 400)
pp, qq = mixture(xx, P_PARTS), mixture(xx, Q_PARTS)
axes[0].plot(xx, pp, label="p (real): two Gaussians")
axes[0].plot(xx, qq, label="q (fake): one Gaussian")
axes[0].set_title("the two densities")
axes[0].legend(fontsize=8)
styles = {"bce": ("D* = s(a*), BCE", sig(STAR["bce"](pp, qq)), sig(found["bce"])),
          "lsgan (0, 1)": ("a*, LSGAN targets 0/1", STAR["lsgan (0, 1)"](pp, qq),
                           found["lsgan (0, 1)"]),
          "lsgan Mao (-1, 1)": ("a*, LSGAN targets -1/1",
                                STAR["lsgan Mao (-1, 1)"](pp, qq),
                                found["lsgan Mao (-1, 1)"]),
          "hinge": ("a*, hinge", STAR["hinge"](pp, qq), found["hinge"])}
# BCE's D* and LSGAN's a* coincide: BCE drawn wide
for name, (label, curve, points) in styles.items():
    line, = axes[1].plot(xx, curve, "-", lw=5 if name == "bce" else 1.5,
                         alpha=0.4 if name == "bce" else 1, label=label + " (formula)")
    axes[1].plot(xs, points, "o", ms=3, color=line.get_color())
axes[1].set_title("optimal D output: formula (lines), grid argmin (dots)")
axes[1].set_xlabel("x")
axes[1].legend(fontsize=7)
for bound, (_, values) in wass.items():
    axes[2].plot(xs, values, "o-", ms=3,
                 label=f"outputs limited to [-{bound:g}, {bound:g}]")
axes[2].set_yscale("symlog", linthresh=1e-2)
axes[2].set_title("Wasserstein: min of phi = -A |p - q|, unbounded as A grows")
axes[2].set_xlabel("x")
axes[2].legend(fontsize=8)
lesson.savefig(fig, "optimal_d.png")

# %% [markdown]
# ## 3. What each optimal D measures
#
# Write $m = (p + q) / 2$, $\mathrm{KL}(p \,\|\, q) = \int p \log(p / q)$ and
# $\mathrm{TV}(p, q) = \frac12 \int |p - q|$.
#
# - **BCE:** $L(D^*) = 2 \log 2 - 2\, \mathrm{JSD}(p, q)$, with
#   $\mathrm{JSD} = \frac12 (\mathrm{KL}(p \,\|\, m) + \mathrm{KL}(q \,\|\, m))$:
#   the minimax G, which ascends D's loss, minimises the Jensen-Shannon divergence
#   (Goodfellow et al. 2014; lesson 09).
# - **LSGAN:** Mao et al. let G minimise
#   $\frac12 E_p (D - c)^2 + \frac12 E_q (D - c)^2$ with its own target $c$. At $D^*$,
#
#   $$2\, C(G) = \int \frac{\big((b - c)\, p + (a_0 - c)\, q\big)^2}{p + q}\, dx,$$
#
#   and IF $b - c = 1$ and $b - a_0 = 2$ (e.g. $a_0 = -1$, $b = 1$, $c = 0$) this is
#   $\int (p - q)^2 / (p + q)$, which they write as the Pearson
#   $\chi^2(p + q \,\|\, 2q)$. minigan's `"lsgan"` is Mao's other choice, $a_0 = 0$,
#   $b = c = 1$, for which $b - c = 0$: its G loss is not that divergence. Its D's
#   optimal loss is still tied to it:
#
#   $$L(D^*) = \frac12 \int \frac{p\, q}{p + q}
#     = \frac14 - \frac18 \int \frac{(p - q)^2}{p + q}.$$
#
# - **hinge:** $L(D^*) = \int \big(p + q - |p - q|\big) = 2 - 2\, \mathrm{TV}(p, q)$:
#   the optimal hinge D's loss measures the total variation distance (the hinge game of
#   Lim & Ye 2017, "Geometric GAN").
# - **Wasserstein:** with the outputs limited to $[-A, A]$ the best loss is
#   $-A \int |p - q|$, which falls without bound as $A$ grows; section 4 gives the
#   constraint that makes it a distance.
#
# The code integrates the grid minimum of $\phi$ over $x$ and compares it with each
# formula.

# %%
lesson.section("3. what the optimal D's loss measures: the grid minimum of phi, "
               "integrated over x")
X = np.linspace(-8, 8, 1601)                   # dx = 0.01
PX, QX = mixture(X, P_PARTS), mixture(X, Q_PARTS)


def integral(values):
    return float(_trapezoid(values, X))


def grid_min(l_r, l_f, low, high, step, chunk=100):
    """min over the output grid of phi at every x of X (in chunks of x, to bound the
    memory)."""
    grid = np.linspace(low, high, int(round((high - low) / step)) + 1)
    lr, lf = l_r(grid), l_f(grid)
    return np.concatenate([(PX[i:i + chunk, None] * lr + QX[i:i + chunk, None] * lf)
                           .min(axis=1) for i in range(0, X.size, chunk)])


m = 0.5 * (PX + QX)
jsd = 0.5 * integral(PX * np.log(PX / m)) + 0.5 * integral(QX * np.log(QX / m))
chi2 = integral((PX - QX) ** 2 / (PX + QX))
tv = 0.5 * integral(np.abs(PX - QX))
print(f"  p, q integrate to {integral(PX):.9f}, {integral(QX):.9f}; JSD = {jsd:.6f}, "
      f"int (p - q)^2/(p + q) = {chi2:.6f}, TV = {tv:.6f}")
# a* = log(p/q) spans [-35, 17] on X
L_bce = integral(grid_min(*PHI["bce"], -40, 25, 0.002))
L_ls = integral(grid_min(*PHI["lsgan (0, 1)"], -1, 2, 1e-4))
L_hinge = integral(grid_min(*PHI["hinge"], -3, 3, 1e-3))
# Mao's G objective for (a0, b, c) = (-1, 1, 0): 2 C = E_p (D* - c)^2 + E_q (D* - c)^2
# at the D* that minimises D's loss p (D - b)^2 + q (D - a0)^2, found on a grid of D
# (step 1e-4) at every x, not taken from the formula (p - q)/(p + q)
d_grid = np.linspace(-1, 1, 20001)

def d_loss_argmin(i, chunk=2000):
    """The grid's D minimising p (D - 1)^2 + q (D + 1)^2 at x[i:i + chunk]."""
    p, q = PX[i:i + chunk, None], QX[i:i + chunk, None]
    return d_grid[(p * (d_grid - 1) ** 2 + q * (d_grid + 1) ** 2).argmin(axis=1)]


a_star = np.concatenate([d_loss_argmin(i) for i in range(0, X.size, 2000)])
two_C = integral(PX * a_star ** 2 + QX * a_star ** 2)
rows = (("bce: L(D*) = 2 log 2 - 2 JSD", L_bce, 2 * LOG2 - 2 * jsd, 1e-7),
        ("lsgan 0/1: L(D*) = 1/4 - (1/8) int (p - q)^2/(p + q)", L_ls, 0.25 - chi2 / 8,
         1e-8),
        ("lsgan Mao (-1, 1, 0): 2 C(G) at D* = int (p - q)^2/(p + q) (Pearson chi^2; "
         "D* on a 1e-4 grid)", two_C, chi2, 1e-5),
        ("hinge: L(D*) = 2 - 2 TV", L_hinge, 2 - 2 * tv, 1e-8))
for name, measured, formula, tol in rows:
    print(f"    {name:80s} grid {measured:.9f}  formula {formula:.9f}")
    lesson.check(name + " (abs err)", abs(measured - formula), tol)
W_LOSS = (FORMULAS["wasserstein"].real, FORMULAS["wasserstein"].fake)
w_low = {bound: integral(grid_min(*W_LOSS, -bound, bound, bound / 1000))
         for bound in (1.0, 10.0, 100.0)}
print("    wasserstein, outputs limited to [-A, A]: L = "
      + ", ".join(f"{v:.4f} (A = {k:g})" for k, v in w_low.items())
      + f";  -A int |p - q| = -A x {2 * tv:.4f}")
lesson.check("wasserstein: L(best D on [-A, A]) = -A int |p - q|, A = 1, 10, 100 "
             "(worst rel err)",
             max(abs(v + k * 2 * tv) / (k * 2 * tv) for k, v in w_low.items()), 1e-9)

# %% [markdown]
# ## 4. The Wasserstein distance, and the critic that reaches it
#
# Restricted to 1-Lipschitz $f$,
# $\sup_f \big(E_p f - E_q f\big) = W_1(p, q)$, the earth mover's distance
# (Kantorovich-Rubinstein duality), so $-L(D^*) = W_1$. In 1-D,
# $W_1 = \int |F_p - F_q|\, dx$ ($F$ the CDFs), reached by $f$ with
# $f' = \mathrm{sign}(F_q - F_p)$: integrating by parts,
#
# $$E_p f - E_q f = \int f'(x)\, \big(F_q(x) - F_p(x)\big)\, dx .$$
#
# For $p = N(0, 1)$ and $q = N(\mu, 1)$: $W_1 = |\mu|$, reached by
# $f(x) = -\mathrm{sign}(\mu)\, x$. The code computes both integrals for four $\mu$ and
# for the mixture of sections 2-3.

# %%
lesson.section("4. W1 = int |F_p - F_q| dx, and the 1-Lipschitz critic that reaches it")
XW = np.linspace(-12, 16, 28001)               # dx = 1e-3


def cdf(density):
    """Cumulative trapezoid integral on XW (F(-12) = 0: the densities are ~1e-32
    there)."""
    return np.concatenate([[0.0],
                           np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(XW))])


def w1_and_critic(p_parts, q_parts):
    p, q = mixture(XW, p_parts), mixture(XW, q_parts)
    Fp, Fq = cdf(p), cdf(q)
    w1 = float(_trapezoid(np.abs(Fp - Fq), XW))
    f_star = cdf(np.sign(Fq - Fp))             # f' = sign(F_q - F_p): slope +-1
    return w1, float(_trapezoid(f_star * (p - q), XW)), f_star


MUS = (0.5, 1.0, 2.0, 4.0)
for mu in MUS:
    w1, reached, _ = w1_and_critic(((1, 0, 1),), ((1, mu, 1),))
    print(f"  N(0, 1) vs N({mu:g}, 1): int |F_p - F_q| = {w1:.7f}, "
          f"E_p f* - E_q f* = {reached:.7f}")
    lesson.check(f"mu = {mu:g}: W1 = |mu| (abs err)", abs(w1 - mu), 1e-6)
    lesson.check(f"mu = {mu:g}: the critic f' = sign(F_q - F_p) reaches it (abs err)",
                 abs(reached - w1), 1e-6)
w1_mix, reached_mix, _ = w1_and_critic(P_PARTS, Q_PARTS)
print(f"  the mixture p vs q of sections 2-3: W1 = {w1_mix:.6f}, "
      f"reached {reached_mix:.6f}")
lesson.check("mixture p vs q: E_p f* - E_q f* = W1 (abs err)",
             abs(reached_mix - w1_mix), 1e-6)

# %% [markdown]
# ## 5. Why the critic needs a constraint, and power iteration
#
# Scaling a critic $f$ to $c f$ scales its objective $E_p f - E_q f$ by $c$: a critic
# that separates the two batches at all can make its loss as negative as it likes, and
# gradient descent does so: the loss runs off (measured in section 7). A function's
# Lipschitz constant is at most the product of its layers': $\|W\|_2 = \sigma_{\max}(W)$
# for a linear layer, 1 for LeakyReLU(0.2). Two cures:
#
# - **weight clipping** (WGAN, Arjovsky et al. 2017): every parameter clipped to
#   $[-c, c]$ after each step, so $\|W\|_2 \le \|W\|_F \le c \sqrt{m n}$ for an
#   $(m, n)$ weight and $\mathrm{Lip}(D) \le \prod_l c \sqrt{m_l n_l}$: bounded, but by
#   an unknown and (for $c = 0.01$) tiny constant: the loss estimates $W_1$ times at
#   most that factor, and most weights end pinned at $\pm c$ (measured in section 7):
#   the critic wants to be steeper than allowed.
# - **spectral normalisation** (Miyato et al. 2018): each weight divided by its largest
#   singular value, $W_{sn} = W / \sigma(W)$, so each layer has $\|W_{sn}\|_2 = 1$ and
#   $\mathrm{Lip}(D) \le 1$: $-L$ estimates $W_1$ itself.
#
# **Power iteration: $\sigma_{\max}$ without an SVD.** With the weight as a matrix
# $W_m$ of shape (out, m), repeat
#
# $$v = \mathrm{normalise}(W_m^\top u), \qquad u = \mathrm{normalise}(W_m v),
#   \qquad\text{then}\qquad \sigma = u^\top W_m v,$$
#
# where minigan's $\mathrm{normalise}(a) = a / \max(\|a\|, \epsilon)$ with
# $\epsilon = 10^{-12}$, as `torch.nn.functional.normalize` ($\epsilon$ keeps a zero
# vector finite). Write $u_0 = \sum_i c_i u_i$ in $W_m$'s left singular vectors: $u_k$
# is proportional to $\sum_i c_i \sigma_i^{2k} u_i$, so every other component shrinks
# like $(\sigma_2 / \sigma_1)^{2k}$, and $\sigma$, a maximum of $u^\top W_m v$ over unit
# vectors, is off by the SQUARE of that: its error falls like
# $(\sigma_2 / \sigma_1)^{4k}$. A small gap is slow. SpectralNorm runs ONE iteration per
# training forward and keeps $u$: $W$ moves little per step, so $u$ tracks its top
# singular vector across steps (measured during training in section 7).
#
# Caveat: for a convolution, $W_m$ is the reshaped kernel (out, in·k·k), as in Miyato
# et al. and PyTorch; the convolution as an operator on images can have a larger norm
# (each input pixel enters up to $\lceil k/s \rceil^2$ patches, so at most
# $\lceil k/s \rceil\, \sigma(W_m)$): a spectrally normalised Conv2d is not exactly
# 1-Lipschitz (measured below).
#
# The cell below is the exercise's first function, `power_iteration(W, u, n_iterations)`
# on a matrix $W$ (out, in): outside exercise mode it is SpectralNorm's train forward on
# a Dense layer, with `--exercise` it is yours. The code then runs it against
# `numpy.linalg.svd`, measures its rate $(\sigma_2 / \sigma_1)^4$ per iteration, checks
# that SpectralNorm's forwards give the same numbers, and measures a spectrally
# normalised Conv2d's operator norm (figure `power_iteration.png`, drawn in section 7).

# %%
def spectral_dense(W, n_power_iterations=1):
    """SpectralNorm(Dense) whose weight as a matrix Wm is W (out, in): the Dense layer
    keeps W^T (in, out). Its initial weights come from a generator of its own
    (``backend.seeded``): the lesson's later draws must not depend on how often the
    functions below ran."""
    out, m = W.shape
    with backend.seeded(0):
        sn = SpectralNorm(Dense(m, out, bias=False), n_power_iterations)
    sn.layer.params["W"][...] = A(W.T)
    return sn


def power_iteration(W, u, n_iterations):
    """minigan's power iteration: one train forward of SpectralNorm on a Dense layer.

    W (out, in), u (out,), n_iterations >= 1 -> sigma (float), u (out,), v (in,).
    """
    sn = spectral_dense(W, n_iterations)
    sn.buffers["u"][...] = A(u)
    sn.train()(A(np.zeros((1, W.shape[1]))))
    return float(sn.sigma), H(sn.u), H(sn.v)    # the u, v that forward used


power_iteration = lesson.exercises(power_iteration)

# %%
lesson.section("5. power iteration vs numpy.linalg.svd")
backend.seed(lesson.seed)


def svd_top(M, k=1):
    return np.linalg.svd(H(M), compute_uv=False)[:k]


def power_history(Wm, u, iterations):
    """(sigma_max - sigma) / sigma_max after each of ``iterations`` calls of
    power_iteration(Wm, u, 1), u carried from call to call as SpectralNorm carries it
    from forward to forward (signed: a power-iteration sigma u.(Wm v) = ||Wm v|| with v
    a unit vector is never above sigma_max)."""
    s1 = svd_top(Wm)[0]
    out = []
    for _ in range(iterations):
        sigma, u, _ = power_iteration(Wm, u, 1)
        out.append((s1 - sigma) / s1)
    return np.array(out)


def sigma_history(sn, input_shape, forwards):
    """The same numbers from SpectralNorm's own sigma after each of ``forwards`` train
    forwards of the layer ``sn``."""
    s1 = svd_top(sn.weight_matrix())[0]
    x = A(np.zeros((1,) + input_shape))
    out = []
    for _ in range(forwards):
        sn.train()(x)
        out.append((s1 - float(sn.sigma)) / s1)
    return np.array(out)


# (a) a 32 x 64 weight with a known spectrum, sigma_2 / sigma_1 = 0.8
Q1, _ = np.linalg.qr(rng.standard_normal((64, 32)))
Q2, _ = np.linalg.qr(rng.standard_normal((32, 32)))
spectrum = np.r_[1.0, 0.8, 0.5 * np.linspace(1, 0.1, 30)]
gapped = SpectralNorm(Dense(64, 32))
Wm_gapped = Q2 @ np.diag(spectrum) @ Q1.T                   # Wm (out, in) = (32, 64)
gapped.layer.params["W"][...] = A(Wm_gapped.T)             # Dense's W is (in, out)
u0_gapped = H(gapped.buffers["u"]).copy()
signed_gapped = power_history(Wm_gapped, u0_gapped, 40)
err_gapped = np.abs(signed_gapped)
# the layer itself, 40 train forwards from the same u: the same numbers
layer_gapped = sigma_history(gapped, (64,), 40)
sigma40, u40, v40 = power_iteration(Wm_gapped, u0_gapped, 40)
agreement = max(np.abs(signed_gapped - layer_gapped).max(),
                abs(sigma40 - float(gapped.sigma)) / spectrum[0],
                np.abs(u40 - H(gapped.u)).max(), np.abs(v40 - H(gapped.v)).max())
# (outside --exercise this compares the lesson's power_iteration with SpectralNorm's,
# the same few lines written twice: a contract that they agree, evidence only for a
# student's function)
lesson.check("contract: power_iteration(Wm, u, 1), u carried = SpectralNorm's sigma "
             "after each of 40 train forwards; power_iteration(Wm, u0, 40) = its last "
             "sigma, u, v (max abs err)", agreement, 1e-12)
# (b) a plain random 32 x 64 weight (fan-in uniform): its top singular values are close
plain = SpectralNorm(Dense(64, 32))
s_plain = svd_top(plain.weight_matrix(), 2)
u0_plain = H(plain.buffers["u"]).copy()
signed_plain = power_history(H(plain.weight_matrix()).copy(), u0_plain,
                             400 if lesson.quick else 1500)
err_plain = np.abs(signed_plain)
# per-iteration factor, once the second singular vector dominates
ratio = err_gapped[9:16] / err_gapped[8:15]
print("  gap 0.8: rel err of sigma after 1, 5, 10, 20, 40 iterations: "
      + ", ".join(f"{err_gapped[i]:.1e}" for i in (0, 4, 9, 19, 39)))
print(f"  measured factor per iteration (iterations 10-16): "
      f"{ratio.min():.4f}..{ratio.max():.4f}; (sigma_2/sigma_1)^4 = {0.8 ** 4:.4f}")
lesson.check("gap 0.8: sigma = svd's top singular value after 40 iterations (rel err)",
             err_gapped[-1], 1e-12)
lesson.check("gap 0.8: error factor per iteration = (sigma_2/sigma_1)^4 (worst rel "
             "deviation)", np.abs(ratio / 0.8 ** 4 - 1).max(), 0.05)
below = err_plain < 1e-6
needed = int(np.argmax(below)) + 1 if below.any() else None
print(f"  random fan-in weight: sigma_2/sigma_1 = {s_plain[1] / s_plain[0]:.4f} "
      f"((sigma_2/sigma_1)^4 = {(s_plain[1] / s_plain[0]) ** 4:.4f}), rel err "
      f"after 1, 10, 100 iterations: {err_plain[0]:.1e}, {err_plain[9]:.1e}, "
      f"{err_plain[99]:.1e}; below 1e-6 after "
      f"{needed if needed else 'more than ' + str(err_plain.size)} iterations")
lowest = min(signed_gapped.min(), signed_plain.min())
lesson.check_that("every power-iteration sigma is <= sigma_max (both weights, every "
                  "iteration)", lowest >= -1e-12,
                  f"smallest (sigma_max - sigma) / sigma_max: {lowest:.1e}")
for name, make, shape in (
        ("Conv2d(8, 16, 3)", lambda: Conv2d(8, 16, 3, padding=1), (8, 6, 6)),
        ("ConvTranspose2d(16, 8, 4, 2, 1)", lambda: ConvTranspose2d(16, 8, 4, 2, 1),
         (16, 3, 3))):
    sn = SpectralNorm(make(), n_power_iterations=1)
    err = np.abs(sigma_history(sn, shape, 600))
    print(f"  {name}: Wm {tuple(sn.weight_matrix().shape)}, rel err after 600 train "
          f"forwards {err[-1]:.1e}")
    lesson.check(f"{name}: sigma = svd's top singular value of Wm (rel err)", err[-1],
                 1e-6)


def operator_norm(sn, shape, iterations):
    """||x -> conv_{W_sn}(x)|| on images of ``shape`` by power iteration through forward
    and its adjoint (the input gradient), bias excluded."""
    z = rng.standard_normal((1,) + shape)
    b = sn.layer.params.get("b")
    saved = None if b is None else b.copy()
    if b is not None:
        b[...] = 0
    sn.eval()
    for _ in range(iterations):
        z /= np.linalg.norm(z)
        y = sn(A(z))
        z = H(sn.backward(y, param_grads=False))
    z /= np.linalg.norm(z)
    norm = float(np.linalg.norm(H(sn(A(z)))))
    if b is not None:
        b[...] = saved
    return norm


conv = SpectralNorm(Conv2d(2, 3, 3, padding=1), n_power_iterations=2000)
conv.train()(A(np.zeros((1, 2, 16, 16))))          # sigma(Wm) converged
op = operator_norm(conv, (2, 16, 16), 300)
print(f"  spectrally normalised Conv2d(2, 3, 3, padding 1): ||Wm / sigma||_2 = "
      f"{svd_top(conv.weight_matrix(conv.weight_sn))[0]:.6f}, but the convolution on "
      f"16 x 16 images has norm {op:.3f}")
lesson.check_that("a SN Conv2d is not exactly 1-Lipschitz: its operator norm is in "
                  "(1, ceil(k/s)] = (1, 3]", 1 < op <= 3, f"{op:.3f}")

# %% [markdown]
# ## 6. The backward of spectral normalisation
#
# With $G = \partial L / \partial W_{sn}$ (the wrapped layer's weight gradient, computed
# with $W_{sn}$) and $u$, $v$ held constant (as PyTorch does: the iteration runs without
# gradient):
#
# $$\sigma = u^\top W_m v \;\Rightarrow\; \frac{\partial \sigma}{\partial W} = u v^\top,
#   \qquad W_{sn} = \frac{W}{\sigma},$$
#
# $$\frac{\partial L}{\partial W_{ij}} = \frac{G_{ij}}{\sigma}
#   - \frac{\sum_{kl} G_{kl} W_{kl}}{\sigma^2}\, (u v^\top)_{ij},
#   \qquad\text{so}\qquad
#   \frac{\partial L}{\partial W}
#   = \frac{G - \langle G, W_{sn} \rangle\, u v^\top}{\sigma}.$$
#
# $dL/dx$ and $dL/db$ are the wrapped layer's, with $W_{sn}$. Checking it by central
# differences needs care: in train mode every forward moves $u$, so the two forward
# passes of a difference quotient see different functions (with a fresh $u$ the
# relative error is ~1, shown below). In eval mode ($u$ fixed,
# $v = \mathrm{normalise}(W_m^\top u)$, so $\sigma = \|W_m^\top u\|$, whose gradient is
# exactly $u v^\top$) the check is clean; in train mode it is clean with $u$ put back to
# a converged $u_0$ before each forward, the power iteration still running.
#
# The cell below is the exercise's second function,
# `spectral_norm_backward(W, u, v, sigma, dW_sn)` on a matrix $W$ (out, in): outside
# exercise mode it is SpectralNorm's backward on a Dense layer. The checks then run
# `minigan.gradcheck.check_layer` on minigan's SpectralNorm, and on a SpectralNorm whose
# power iteration and weight gradient are the two exercise functions, the trap
# included.

# %%
def spectral_norm_backward(W, u, v, sigma, dW_sn):
    """minigan's spectral-norm weight gradient: SpectralNorm's backward, on a Dense.

    W, dW_sn (out, in); u (out,), v (in,), sigma a float, held fixed -> dL/dW (out, in).
    """
    m = W.shape[1]
    sn = spectral_dense(W)
    sn.eval()(A(np.eye(m)))        # Dense keeps x = I: its weight gradient x^T dy = dy
    sn.saved()                     # the forward's (u, v, sigma, W_sn), replaced:
    sn.save_for_backward(A(u), A(v), sigma, A(W.T) / sigma)
    sn.layer.zero_grad()
    sn.backward(A(dW_sn.T), input_grad=False)   # dy = G in Dense's (in, out) layout
    return H(sn.layer.grads["W"]).T


spectral_norm_backward = lesson.exercises(spectral_norm_backward)

# %%
lesson.section("6. SpectralNorm's backward against central differences "
               "(minigan.gradcheck.check_layer)")


class HeldU(Module):
    """``sn`` in train mode, with u put back to u0 before every forward: the power
    iteration still runs in each forward, but always from the same u0, so the forward
    is a fixed function (what central differences need)."""

    def __init__(self, sn):
        super().__init__()
        self.sn, self.u0 = sn, sn.buffers["u"].copy()

    def children(self):
        return iter((("sn", self.sn),))

    def forward(self, x):
        self.sn.buffers["u"][...] = self.u0
        return self.sn.forward(x)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        return self.sn.backward(grad_out, input_grad, param_grads)


class ExerciseSN(SpectralNorm):
    """SpectralNorm with its train-mode power iteration done by power_iteration and its
    weight gradient by spectral_norm_backward (the exercise's functions, on Wm); the
    eval forward, the layouts and the wrapped layer are SpectralNorm's."""

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        W = self.layer.params["W"]
        sigma, u, v = power_iteration(np.array(H(self.weight_matrix(W))),
                                      np.array(H(self.buffers["u"])),
                                      self.n_power_iterations)
        u, v, W_sn = A(u), A(v), W / sigma
        self.buffers["u"][...] = u
        self.save_for_backward(u, v, sigma, W_sn)
        self.u, self.v, self.sigma, self.weight_sn = u, v, sigma, W_sn
        with self._with_weight(W_sn):
            return self.layer.forward(x)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        if not param_grads:
            return super().backward(grad_out, input_grad, param_grads)
        u, v, sigma, W_sn = self.saved()
        W = self.layer.params["W"]
        G = backend.get_array_module(W_sn).zeros_like(W_sn)   # dL/dW_sn, this call's
        with self._with_weight(W_sn, G):
            grad_in = self.layer.backward(grad_out, input_grad=input_grad)
        dWm = spectral_norm_backward(np.array(H(self.weight_matrix(W))),
                                     np.array(H(u)), np.array(H(v)), float(sigma),
                                     np.array(H(self.weight_matrix(G))))
        self.layer.grads["W"] += self._from_matrix(A(dWm), W.shape)
        return grad_in if input_grad else None


def converged(sn, x):
    """``sn`` after one train forward of 3000 power iterations, then 1 per forward."""
    sn.n_power_iterations = 3000
    sn.train()(x)
    sn.n_power_iterations = 1
    return sn


CASES = (("Dense(5, 3)", lambda: Dense(5, 3), (4, 5)),
         ("Conv2d(2, 3, 3, 2, 1)", lambda: Conv2d(2, 3, 3, stride=2, padding=1),
          (2, 2, 5, 5)),
         ("ConvTranspose2d(2, 3, 4, 2, 1)",
          lambda: ConvTranspose2d(2, 3, 4, stride=2, padding=1), (2, 2, 3, 3)))
for name, make, shape in CASES:
    x = A(rng.standard_normal(shape))
    eval_err = check_layer(SpectralNorm(make()).eval(), x)
    naive_err = check_layer(SpectralNorm(make()).train(), x)   # a fresh u, moving
    held_err = check_layer(HeldU(converged(SpectralNorm(make()), x)), x)
    worst = max(naive_err, key=naive_err.get)
    print(f"  {name:30s} eval: worst {max(eval_err.values()):.1e}   train, u moving: "
          f"worst {max(naive_err.values()):.1e} ({worst})   train, converged u held: "
          f"worst {max(held_err.values()):.1e}")
    lesson.check(f"SN({name}) eval mode: backward vs central differences (worst of x, "
                 "W, b)", max(eval_err.values()), 1e-7)
    lesson.check(f"SN({name}) train mode, power iteration run from a converged u held "
                 "fixed (worst)", max(held_err.values()), 1e-7)
    lesson.check_that(f"SN({name}) train mode with u moving between forwards: the "
                      "check is meaningless", max(naive_err.values()) > 1e-3,
                      f"worst {max(naive_err.values()):.1e} > 1e-3")
print("  the same checks with power_iteration and spectral_norm_backward inside:")
for name, make, shape in CASES:
    x = A(rng.standard_normal(shape))
    eval_err = check_layer(ExerciseSN(make()).eval(), x)
    held_err = check_layer(HeldU(converged(ExerciseSN(make()), x)), x)
    lesson.check(f"{name}, eval mode: spectral_norm_backward vs central differences "
                 "(worst of x, W, b)", max(eval_err.values()), 1e-7)
    lesson.check(f"{name}, train mode from a converged u held: power_iteration and "
                 "spectral_norm_backward (worst)", max(held_err.values()), 1e-7)

# %% [markdown]
# ## 7. Three Wasserstein critics
#
# Three small Dense critics (1 → 64 → 64 → 1, LeakyReLU(0.2)) trained by Adam with the
# `"wasserstein"` loss on $N(0, 1)$ (real) against $N(\mu, 1)$ (fake): unconstrained
# (the loss runs off), weight-clipped and spectrally normalised (bounded); then the SN
# critic's estimate of $W_1 = |\mu|$ for several $\mu$, and the power iteration kept up
# during training, one iteration per step (figures `power_iteration.png`,
# `critics.png`, `w1_estimates.png`).

# %%
STEPS = 600 if lesson.quick else 2000
MU, CLIP, WIDTH, BATCH = 2.0, 0.01, 64, 256
lesson.section(f"7. Wasserstein critics on N(0, 1) (real) vs N({MU:g}, 1) (fake), "
               f"{STEPS} Adam steps each")


def critic(kind):
    backend.seed(lesson.seed)
    wrap = SpectralNorm if kind == "spectral norm" else (lambda layer: layer)
    return Sequential(wrap(Dense(1, WIDTH)), LeakyReLU(0.2), wrap(Dense(WIDTH, WIDTH)),
                      LeakyReLU(0.2), wrap(Dense(WIDTH, 1)))


def sn_layers(D):
    return [m for m in D.modules() if isinstance(m, SpectralNorm)]


def sigma_error(s):
    """|sigma - sigma_max| / sigma_max of one SpectralNorm layer's last forward."""
    top = svd_top(s.weight_matrix())[0]
    return abs(float(s.sigma) - top) / top


def train_critic(kind, mu, steps, track_sigma=False):
    """Adam on discriminator_loss(kind "wasserstein"), fresh batches each step.
    -> (critic, losses, sigma errors)"""
    D = critic(kind)
    opt = Adam(D, lr=1e-3, betas=(0.5, 0.999))
    data = np.random.default_rng(lesson.seed + 1)
    history, tracking = [], []
    for step in range(steps):
        real = A(data.standard_normal((BATCH, 1)))
        fake = A(mu + data.standard_normal((BATCH, 1)))
        D.zero_grad()
        loss_real, grad = losses.discriminator_loss_real(D(real), "wasserstein")
        D.backward(grad, input_grad=False)
        loss_fake, grad = losses.discriminator_loss_fake(D(fake), "wasserstein")
        D.backward(grad, input_grad=False)
        if track_sigma and step % 10 == 0:   # this step's last sigma vs svd of its W
            tracking.append([sigma_error(s) for s in sn_layers(D)])
        opt.step()
        if kind == "weight clipping":
            for _, p, _ in D.parameters():
                p[...] = backend.get_array_module(p).clip(p, -CLIP, CLIP)
        history.append(loss_real + loss_fake)
    return D.eval(), np.array(history), np.array(tracking)


def estimate(D, mu):
    """E_p f - E_q f by the trapezoid rule (no sampling noise), f's largest |slope| on
    that grid, and f there."""
    grid = np.linspace(-10, 10 + mu, 4001)
    fx = D(A(grid.reshape(-1, 1)))
    slope = H(D.backward(backend.xp.ones_like(fx), param_grads=False)).ravel()
    fx = H(fx).ravel()
    p, q = mixture(grid, ((1, 0, 1),)), mixture(grid, ((1, mu, 1),))
    return float(_trapezoid(fx * (p - q), grid)), float(np.abs(slope).max()), grid, fx


results = {}
for kind in ("unconstrained", "weight clipping", "spectral norm"):
    D, history, tracking = train_critic(kind, MU, STEPS,
                                        track_sigma=kind == "spectral norm")
    est, slope, grid, fx = estimate(D, MU)
    results[kind] = (D, history, tracking, est, slope, grid, fx)
    print(f"  {kind:16s} loss after 1, {STEPS // 4}, {STEPS // 2}, {STEPS} steps: "
          + ", ".join(f"{history[i]:.4g}"
                      for i in (0, STEPS // 4 - 1, STEPS // 2 - 1, STEPS - 1))
          + f";  E_p f - E_q f = {est:.4g}, max |f'| = {slope:.4g}")

_, h_free, _, est_free, slope_free, _, _ = results["unconstrained"]
lesson.check_that(f"unconstrained: the loss runs off, far below -W1 = -{MU:g} (final "
                  "batch loss < -100 W1)", h_free[-1] < -100 * MU, f"{h_free[-1]:.3g}")
lesson.check_that("unconstrained: and it is still falling (last loss < 2 x the loss at "
                  "half-way)", h_free[-1] < 2 * h_free[STEPS // 2 - 1],
                  f"{h_free[-1]:.3g} < 2 x {h_free[STEPS // 2 - 1]:.3g}")
D_clip, h_clip, _, est_clip, slope_clip, _, _ = results["weight clipping"]
clip_bound = ((CLIP * math.sqrt(1 * WIDTH)) * (CLIP * WIDTH)
              * (CLIP * math.sqrt(WIDTH * 1)))
lesson.check_that(f"clipping: max |f'| <= prod c sqrt(m n) = {clip_bound:.6g} (the "
                  "clipping bound)", slope_clip <= clip_bound * (1 + 1e-9),
                  f"{slope_clip:.6g}")
weights = np.concatenate([H(p).ravel() for name, p, _ in D_clip.parameters()
                          if name.endswith("W")])
at_edge = float(np.mean(np.abs(weights) >= CLIP * (1 - 1e-9)))
print(f"  clipping: {100 * at_edge:.1f} % of the {weights.size} weights sit at "
      f"+-c = +-{CLIP:g}")
lesson.check_that("clipping: most weights are pinned at +-c (the critic wants to be "
                  "steeper than allowed)", at_edge > 0.5, f"{100 * at_edge:.1f} %")
lesson.check_that("clipping: bounded, 0 < E_p f - E_q f <= max|f'| W1 "
                  "(Kantorovich-Rubinstein)",
                  0 < est_clip <= slope_clip * MU * (1 + 1e-6),
                  f"{est_clip:.4g} <= {slope_clip * MU:.4g}")
lesson.check_that("clipping: every batch loss after the first clip is within "
                  "[-10 x bound x W1, 1]",
                  h_clip[1:].min() >= -10 * clip_bound * MU and h_clip[1:].max() <= 1,
                  f"min {h_clip[1:].min():.3g}")
D_sn, h_sn, tracking, est_sn, slope_sn, grid_sn, fx_sn = results["spectral norm"]
lip_sn = math.prod(svd_top(s.weight_matrix(s.weight_sn))[0] for s in sn_layers(D_sn))
print(f"  spectral norm: prod of ||W_l / sigma_l||_2 (svd) = {lip_sn:.6f}; the run's "
      f"largest |sigma - sigma_max| / sigma_max in the last half of training: "
      f"{tracking[len(tracking) // 2:].max():.1e}")
lesson.check_that("spectral norm: max |f'| <= prod ||W_l / sigma_l||_2 (the Lipschitz "
                  "bound)", slope_sn <= lip_sn * (1 + 1e-9),
                  f"{slope_sn:.6f} <= {lip_sn:.6f}")
lesson.check("spectral norm: prod ||W_l / sigma_l||_2 = 1 (one power iteration per "
             "step kept up, abs err)", abs(lip_sn - 1), 1e-3)
lesson.check_that("spectral norm: the whole run's batch losses stay above -1.5 W1 "
                  "(bounded)", h_sn.min() > -1.5 * MU, f"min {h_sn.min():.4g}")
# measured: 0.8 % short after 600 steps (the quick run), 0.03 % after 1500 (2 seeds);
# the full run's 2000 steps are held to 0.2 %, not re-measured at 2000
sn_tol = 0.02 if lesson.quick else 2e-3
lesson.check(f"spectral norm: E_p f - E_q f = W1 = |mu| = {MU:g} (rel err)",
             abs(est_sn - MU) / MU, sn_tol)

estimates = {MU: est_sn}
for mu in ((1.0,) if lesson.quick else (0.5, 1.0, 4.0)):
    D, _, _ = train_critic("spectral norm", mu, STEPS)
    estimates[mu] = estimate(D, mu)[0]
for mu in sorted(estimates):
    print(f"  SN critic, N(0, 1) vs N({mu:g}, 1): estimate {estimates[mu]:.5f}, "
          f"W1 = {mu:g}, ratio {estimates[mu] / mu:.5f}")
lesson.check(f"spectral norm: the estimate of W1 = |mu| for mu in {sorted(estimates)} "
             "(worst rel err)", max(abs(v - mu) / mu for mu, v in estimates.items()),
             sn_tol)

fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
k = np.arange(1, err_gapped.size + 1)
axes[0].semilogy(k, np.maximum(err_gapped, 1e-17), "o-", ms=3,
                 label="power iteration's sigma, gap 0.8")
axes[0].semilogy(k, err_gapped[9] * (0.8 ** 4) ** (k - 10), "--",
                 label="(sigma_2/sigma_1)^(4k), through k = 10")
axes[0].set_ylim(1e-17, 1)
axes[0].set_xlabel("power iterations (train forwards)")
axes[0].set_ylabel("|sigma - sigma_max| / sigma_max")
axes[0].set_title("a spectral gap: fast")
axes[0].legend(fontsize=8)
axes[1].semilogy(np.arange(1, err_plain.size + 1), np.maximum(err_plain, 1e-17))
axes[1].set_xlabel("power iterations (train forwards)")
axes[1].set_title(f"a random Dense(64, 32) weight: sigma_2/sigma_1 = "
                  f"{s_plain[1] / s_plain[0]:.3f}, slow")
axes[2].semilogy(np.arange(tracking.shape[0]) * 10, np.maximum(tracking, 1e-17))
axes[2].set_xlabel("critic training step")
axes[2].set_title("during training, 1 iteration/step: sigma vs svd")
axes[2].legend(["Dense(1, 64): rank 1, exact after one iteration", "Dense(64, 64)",
                "Dense(64, 1): rank 1"], fontsize=8)
for ax in axes[1:]:
    ax.set_ylabel("|sigma - sigma_max| / sigma_max")
lesson.savefig(fig, "power_iteration.png")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 4.8))
for kind, (_, history, _, _, _, _, _) in results.items():
    ax1.plot(np.arange(1, STEPS + 1), -history, label=kind)
ax1.axhline(MU, color="k", ls=":", label=f"W1 = |mu| = {MU:g}")
ax1.set_yscale("symlog", linthresh=1e-3)
ax1.set_ylim(-1e-2, None)
ax1.set_xlabel("critic step")
ax1.set_ylabel("-(critic loss) = mean f(real) - mean f(fake)")
ax1.set_title("the critic's estimate: unconstrained it runs off")
ax1.legend(fontsize=8)
for kind, (_, _, _, _, slope, grid, fx) in results.items():
    ax2.plot(grid, (fx - np.interp(0.0, grid, fx)) / slope,
             label=f"{kind} (divided by its max slope {slope:.3g})")
ax2.plot(grid_sn, -grid_sn, "k:", label="f(x) = -x, the optimal 1-Lipschitz critic")
ax2.set_xlim(-4, MU + 4)
ax2.set_ylim(-MU - 5, 5)
ax2.set_xlabel("x")
ax2.set_title("the learned critics f(x) - f(0)")
ax2.legend(fontsize=8)
lesson.savefig(fig, "critics.png")

fig, ax = plt.subplots(figsize=(6, 4.5))
mus = sorted(estimates)
ax.plot(mus, mus, "k:", label="W1 = |mu|")
ax.plot(mus, [estimates[mu] for mu in mus], "o-", label="SN critic: E_p f - E_q f")
ax.set_xlabel("mu  (real N(0, 1), fake N(mu, 1))")
ax.set_ylabel("W1 estimate")
ax.set_title(f"the spectrally normalised critic's estimate of W1 ({STEPS} steps)")
ax.legend(fontsize=8)
lesson.savefig(fig, "w1_estimates.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. BCE's optimal $D^* = s(a^*)$ and LSGAN's optimal raw output $a^*$ are the same
#    number $p / (p + q)$ at every $x$. Why are the two games still different? What does
#    each optimal loss measure for the lesson's $p$ and $q$?
# 2. The weight-clipped critic stays bounded, yet its estimate $E_p f - E_q f$ is far
#    from $W_1 = 2$. Why? What does the fraction of weights sitting at $\pm c$ say?
# 3. Power iteration's error falls by a factor 0.4096 per iteration for the gapped
#    weight, but the random Dense(64, 32) weight needs 61 iterations to get below
#    $10^{-6}$. Why? And why is ONE iteration per training step enough for SpectralNorm?
# 4. In train mode with a fresh $u$, central differences disagree with SpectralNorm's
#    backward by a relative error of about 1, while eval mode agrees to a few
#    $10^{-10}$. Is the backward wrong in train mode? What makes the held-$u$ check
#    valid?
#
# Short answers: `lessons/ANSWERS.md`.
