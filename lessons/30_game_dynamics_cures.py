# %% [markdown]
# # Lesson 30 — Cures for the game dynamics: extragradient, optimism, consensus
#
# Lesson 12 found that on the Dirac-GAN plain simultaneous gradient steps spiral out
# ($|\lambda| = \sqrt{1 + h^2/4} > 1$ for every step size $h$), alternating steps
# circle ($|\lambda| = 1$), and R1 pulls the eigenvalues inside the unit circle by
# changing the GAME (D's loss). This lesson changes the OPTIMISER instead, and keeps
# the game. Four cures from the literature, each written as a linear map on
# $(\theta, \psi)$ near the equilibrium, its eigenvalues derived by hand, then
# MEASURED on the nonlinear Dirac-GAN built from minigan's layers and losses:
#
# 1. extragradient (Korpelevich 1976): step, look at the field there, step again
#    from where you started;
# 2. optimistic gradient descent (Daskalakis, Ilyas, Syrgkanis & Zeng 2018, "Training
#    GANs with Optimism"): the same idea with the previous step's gradient;
# 3. consensus optimisation (Mescheder, Nowozin & Geiger 2017, "The Numerics of
#    GANs"): both players also descend $\frac12 |v|^2$;
# 4. negative momentum (Gidel et al. 2019, "Negative Momentum for Improved Game
#    Dynamics"): heavy-ball momentum with $\beta < 0$ on ALTERNATING steps.
#
# "Measured" means two things here, neither of which uses the formula: the
# eigenvalues of the Jacobian of the one-step map (minigan's gradients, stepped by
# the method, differentiated by central differences at the equilibrium), and the
# contraction per step fitted to a run of the nonlinear iteration.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import itertools
import math

import numpy as np

import minigan
from minigan import backend
from minigan.layers import Dense
from minigan.losses import (discriminator_loss_fake, discriminator_loss_real,
                            generator_loss)

lesson = Lesson("30_game_dynamics_cures")
A, H = backend.asarray, backend.to_numpy
minigan.set_default_dtype("float64")
a = 0.5                   # f'(0): the Dirac-GAN's J = [[0, -a], [a, 0]] (lesson 12)
h = 0.5                   # the step size of sections 2-6
GAMMA = 1.0               # consensus weight
BETA = -0.5               # negative momentum
X0 = np.array([0.01, 0.0])  # runs start at radius 0.01, where the field is linear
STEPS = 300 if lesson.quick else 600
EPS = 1e-6                # central differences of the one-step map at (0, 0)

# %% [markdown]
# ## The game and its field, as in lesson 12
#
# D's logit is $D(x) = \theta x$, G's point is $\psi$, the data a point mass at 0;
# minigan's `"bce"` D loss and `"minimax"` G loss. The field where the players'
# gradient steps point is
# $v(\theta, \psi) = \big(-\psi f'(-\theta\psi),\ \theta f'(-\theta\psi)\big)$ with
# $f'(0) = a = 1/2$, so near $(0, 0)$: $v \approx J x$,
# $J = \begin{pmatrix} 0 & -a \\ a & 0 \end{pmatrix}$.
#
# One fact makes every derivation below short. Write $z = \theta + i\psi$: then
# $Jx$ is $i a z$. $J$ acts as multiplication by $ia$, so any update built from $J$
# by sums and products is a polynomial $p(J)$, with eigenvalues $p(\pm ia)$ (a
# conjugate pair). The code builds the field from minigan's layers and checks $J$ by
# central differences (lesson 12 did it in detail).

# %%
class DiracGAN:
    """D = theta * x and G = psi as two minigan Dense(1, 1, bias=False) layers; the
    field v(x) from minigan's losses and backward passes."""

    def __init__(self):
        self.D, self.G = Dense(1, 1, bias=False), Dense(1, 1, bias=False)
        self.one, self.zero = A(np.ones((1, 1))), A(np.zeros((1, 1)))

    def field(self, x):
        """v(theta, psi) = (-dL_D/dtheta, -dL_G/dpsi)."""
        D, G = self.D, self.G
        D.params["W"][...] = x[0]
        G.params["W"][...] = x[1]
        D.zero_grad()
        _, g = discriminator_loss_real(D(self.zero), "bce")
        D.backward(g, input_grad=False)
        _, g = discriminator_loss_fake(D(G(self.one)), "bce")
        D.backward(g, input_grad=False)
        G.zero_grad()
        _, g = generator_loss(D(G(self.one)), "minimax")
        G.backward(D.backward(g, param_grads=False), input_grad=False)
        return np.array([-float(H(D.grads["W"])[0, 0]),
                         -float(H(G.grads["W"])[0, 0])])


game = DiracGAN()
v = game.field


def jacobian(fn, x, eps):
    """d fn / dx at x by central differences, column j from +-eps along x_j."""
    cols = [(fn(x + eps * e) - fn(x - eps * e)) / (2 * eps) for e in np.eye(len(x))]
    return np.stack(cols, axis=1)


lesson.section("1. the field's Jacobian at the equilibrium (minigan's gradients)")
J = jacobian(v, np.zeros(2), 1e-5)
J_THEORY = np.array([[0.0, -a], [a, 0.0]])
print(f"  J = [[{J[0, 0]:+.6f}, {J[0, 1]:+.6f}], [{J[1, 0]:+.6f}, {J[1, 1]:+.6f}]]")
lesson.check("J = [[0, -1/2], [1/2, 0]] (max abs err)", np.abs(J - J_THEORY).max(),
             1e-8)

# %% [markdown]
# ## The methods as one-step maps
#
# Each method is a map from its state to the next. Extragradient and consensus keep
# only $x = (\theta, \psi)$; optimism and momentum also remember the previous point,
# so their state is $(x_t, x_{t-1})$, four numbers, and their map has FOUR
# eigenvalues. With $\mu = \pm ia$ the eigenvalues of $J$:
#
# - simultaneous GD: $x' = x + hv(x)$; linear map $I + hJ$, eigenvalues $1 + h\mu$;
# - extragradient: $\tilde x = x + hv(x)$, $x' = x + hv(\tilde x)$; linear map
#   $I + hJ + h^2J^2$, eigenvalues $1 + h\mu + h^2\mu^2$;
# - optimistic: $x_{t+1} = x_t + 2hv(x_t) - hv(x_{t-1})$; a 4x4 map, eigenvalues
#   the roots of $\lambda^2 - (1 + 2h\mu)\lambda + h\mu$ for each $\mu$;
# - consensus: $x' = x + h\big(v(x) - \gamma J(x)^\top v(x)\big)$; linear map
#   $I + hJ - h\gamma J^\top J$, eigenvalues $1 + h\mu - h\gamma a^2$.
#
# Where they come from:
#
# - **Extragradient**: $\tilde x = (I + hJ)x$, then $x' = x + hJ\tilde x$. So
#   $|\lambda|^2 = |1 - a^2h^2 + iah|^2 = 1 - a^2h^2 + a^4h^4 < 1$ iff $h < 1/a = 2$.
#   The extra look ahead adds $h^2J^2 = -a^2h^2 I$: a pull inwards, second order in
#   $h$.
# - **Optimism**: put $x_t = \lambda^t u$ in the recursion and divide by
#   $\lambda^{t-1}$. For $2ah \le 1$ the roots have
#   $|\lambda_\pm|^2 = \big(1 \pm \sqrt{1 - 4a^2h^2}\big)/2$, so
#   $\rho^2 = \big(1 + \sqrt{1 - 4a^2h^2}\big)/2 \approx 1 - a^2h^2$ (the same
#   leading term as extragradient: optimism can be read as extragradient that reuses
#   the last gradient for its look ahead). Past $2ah = 1$ the root with the larger
#   modulus has
#   $|\lambda|^2 = \big(1 + (2ah + \sqrt{4a^2h^2 - 1})^2\big)/4$, which reaches 1 at
#   $2ah = 2/\sqrt3$: stable iff $h < 1/(\sqrt3\, a) = 1.155$.
# - **Consensus**: $\nabla \frac12 |v|^2 = J(x)^\top v(x)$, and at the equilibrium
#   $J^\top J = a^2 I$. So consensus subtracts $\gamma a^2$ from the real part of
#   both eigenvalues of $J$, like R1 did to one player: first order in $h$,
#   $|\lambda|^2 = (1 - h\gamma a^2)^2 + a^2h^2 < 1$ iff
#   $h < 2\gamma/(1 + \gamma^2a^2)$ (1.6 for $\gamma = 1$). In a real network
#   $J^\top v$ is a Jacobian-vector product by double backprop (Mescheder et al.);
#   minigan has none, and here the field has two coordinates, so the code takes
#   $J(x)$ by central differences of the field (four more field evaluations).
#
# Measuring $|\lambda|$ from a run: the fit of $\log |x_t|$ against $t$ by least
# squares, over the second half of the run (after the smaller eigenvalues have died
# out); its slope is $\log \rho$. For the methods that are polynomials in $J$,
# $|x_t| = \rho^t |x_0|$ exactly in the linear regime; for the others $|x_t|$ wobbles
# along an ellipse, which the fit over many turns averages out.

# %%
def simultaneous(s, h):
    x = s[:2]
    return x + h * v(x)


def extragradient(s, h):
    x = s[:2]
    look = x + h * v(x)
    return x + h * v(look)


def optimistic(s, h):
    x, prev = s[:2], s[2:]
    return np.concatenate([x + 2 * h * v(x) - h * v(prev), x])


def consensus(s, h, gamma=GAMMA, delta=1e-6):
    x = s[:2]
    field = v(x)
    return x + h * (field - gamma * jacobian(v, x, delta).T @ field)


def momentum(s, h, beta=BETA, alternating=True):
    """Heavy ball on each player; alternating: G's gradient at D's NEW theta."""
    x, prev = s[:2], s[2:]
    theta = x[0] + h * v(x)[0] + beta * (x[0] - prev[0])
    at = np.array([theta, x[1]]) if alternating else x
    psi = x[1] + h * v(at)[1] + beta * (x[1] - prev[1])
    return np.concatenate([[theta, psi], x])


MEMORY = {simultaneous: False, extragradient: False, optimistic: True,
          consensus: False, momentum: True}


def predicted(method, h, beta=BETA, alternating=True):
    """Eigenvalues of the method's linear map, from the formulas above."""
    mus = (1j * a, -1j * a)
    if method is simultaneous:
        return np.array([1 + h * mu for mu in mus])
    if method is extragradient:
        return np.array([1 + h * mu + (h * mu) ** 2 for mu in mus])
    if method is consensus:
        return np.array([1 + h * mu - h * GAMMA * a * a for mu in mus])
    if method is optimistic:
        roots = []
        for mu in mus:
            b = 1 + 2 * h * mu
            d = np.sqrt(b * b - 4 * h * mu + 0j)
            roots += [(b + d) / 2, (b - d) / 2]
        return np.array(roots)
    if alternating:   # (lambda-1)^2 (lambda-beta)^2 + a^2 h^2 lambda^3 = 0
        poly = np.polymul(np.polymul([1, -1], [1, -1]),
                          np.polymul([1, -beta], [1, -beta]))
        return np.roots(np.polyadd(poly, [(a * h) ** 2, 0, 0, 0]))
    roots = []        # simultaneous heavy ball: lambda^2 - (1+beta+h mu) lambda + beta
    for mu in mus:
        roots += list(np.roots([1, -(1 + beta + h * mu), beta]))
    return np.array(roots)


def measured(method, h, **kw):
    """Eigenvalues of the Jacobian of the nonlinear one-step map at (0, 0)."""
    dim = 4 if MEMORY[method] else 2
    step = lambda s: method(s, h, **kw)  # noqa: E731
    return np.linalg.eigvals(jacobian(step, np.zeros(dim), EPS))


def match_error(pred, meas):
    """max |pred - meas| under the best pairing of the two lists (<= 4 values)."""
    return min(np.abs(pred - meas[list(p)]).max()
               for p in itertools.permutations(range(len(meas))))


def run(method, h, steps, **kw):
    s = np.concatenate([X0, X0]) if MEMORY[method] else X0.copy()
    path = [s[:2]]
    for _ in range(steps):
        s = method(s, h, **kw)
        path.append(s[:2])
    return np.array(path)


def fitted_rate(path):
    """exp of the least-squares slope of log|x_t| over the second half of the run."""
    t = np.arange(len(path))[len(path) // 2:]
    r = np.log(np.hypot(path[t, 0], path[t, 1]))
    return math.exp(np.polyfit(t, r, 1)[0])


# %% [markdown]
# ## Predicted against measured, at $h = 0.5$
#
# For each method: the eigenvalues of the measured Jacobian of the one-step map
# against the formulas (tolerance 1e-6: central differences of a map that is linear
# to $O(|x|^3)$ at $\epsilon = 10^{-6}$ are exact to rounding), then the run's
# fitted $|\lambda|$ against the predicted spectral radius $\rho$ (tolerance 5e-4,
# a twentieth of the smallest gap to 1 among the methods: the run starts at radius
# 0.01, not 0, and momentum's ellipse leaves a wobble in $|x_t|$), and finally the
# side of 1 it falls on, from the run alone. Plain simultaneous GD is the baseline
# that diverges.

# %%
lesson.section(f"2. each method at h = {h}: eigenvalues of the one-step map and the "
               f"contraction per step of a {STEPS}-step run (GD: 100) from radius 0.01")
METHODS = [("simultaneous GD", simultaneous, {}),
           ("extragradient", extragradient, {}),
           ("optimistic GD", optimistic, {}),
           (f"consensus (gamma {GAMMA})", consensus, {}),
           (f"alternating, momentum {BETA}", momentum, {})]
paths, rates = {}, {}
for name, method, kw in METHODS:
    pred, meas = predicted(method, h, **kw), measured(method, h, **kw)
    rho = np.abs(pred).max()
    steps = 100 if method is simultaneous else STEPS  # GD: stay near (0, 0)
    paths[name] = run(method, h, steps, **kw)
    rates[name] = fitted_rate(paths[name])
    print(f"  {name:28s}: rho predicted {rho:.6f}, Jacobian "
          f"{np.abs(meas).max():.6f}, run {rates[name]:.6f}")
    lesson.check(f"{name}: eigenvalues, measured Jacobian vs formula (max abs err)",
                 match_error(pred, meas), 1e-6)
    lesson.check(f"{name}: run's |lambda| per step vs predicted rho (abs err)",
                 abs(rates[name] - rho), 5e-4)
    r = np.hypot(*paths[name][-1]) / np.hypot(*X0)
    if method is simultaneous:
        lesson.check_that(f"{name} diverges: run's |lambda| > 1 and the radius grows",
                          rates[name] > 1 and r > 1,
                          f"|lambda| {rates[name]:.4f}, radius x{r:.2f}")
    else:
        lesson.check_that(f"{name} converges: run's |lambda| < 1 and the radius "
                          "shrinks", rates[name] < 1 and r < 0.1,
                          f"|lambda| {rates[name]:.4f}, radius x{r:.1e}")

# %% [markdown]
# ## Negative momentum
#
# Heavy-ball momentum adds $\beta(x_t - x_{t-1})$ to each player's step; with
# alternating steps (D first, G against the new D, as in `minigan.train`),
#
# $$\theta_{t+1} = \theta_t + h v_\theta(x_t) + \beta(\theta_t - \theta_{t-1}),
#   \qquad
#   \psi_{t+1} = \psi_t + h v_\psi(\theta_{t+1}, \psi_t) + \beta(\psi_t - \psi_{t-1}).$$
#
# Put $(\theta_t, \psi_t) = \lambda^t (\Theta, \Psi)$ and
# $q = (\lambda - 1)(\lambda - \beta)/\lambda$: the two lines read
# $q\Theta = -ah\Psi$ and $q\Psi = ah\lambda\Theta$, so $q^2 = -a^2h^2\lambda$, i.e.
#
# $$(\lambda - 1)^2(\lambda - \beta)^2 + a^2h^2\lambda^3 = 0 .$$
#
# A quartic: we take its roots numerically (Gidel et al. 2019 analyse these
# dynamics for bilinear games in general). At $\beta = 0$ it is
# $\lambda^2\big(\lambda^2 - (2 - a^2h^2)\lambda + 1\big)$: lesson 12's circle,
# $|\lambda| = 1$. For bilinear games Gidel et al. find that a NEGATIVE $\beta$
# pulls the pair inside with alternating steps, that a positive one pushes it out,
# and that with simultaneous steps no $\beta$ cures the divergence. The code
# measures all three at $h = 0.5$, each by the Jacobian of the one-step map and by a
# run.

# %%
lesson.section(f"3. momentum at h = {h}: beta = {BETA}, 0, +0.1 (alternating) and "
               f"beta = {BETA} with simultaneous steps")
mom = {}
for label, kw in ((f"alternating, beta {BETA}", dict(beta=BETA)),
                  ("alternating, beta 0", dict(beta=0.0)),
                  ("alternating, beta +0.1", dict(beta=0.1)),
                  (f"simultaneous, beta {BETA}", dict(beta=BETA, alternating=False))):
    pred, meas = predicted(momentum, h, **kw), measured(momentum, h, **kw)
    rate = fitted_rate(run(momentum, h, STEPS, **kw))
    mom[label] = (np.abs(meas).max(), rate)
    print(f"  {label:26s}: rho predicted {np.abs(pred).max():.6f}, Jacobian "
          f"{mom[label][0]:.6f}, run {rate:.6f}")
    lesson.check(f"{label}: eigenvalues, measured Jacobian vs formula (max abs err)",
                 match_error(pred, meas), 1e-6)
neg, zero = mom[f"alternating, beta {BETA}"], mom["alternating, beta 0"]
lesson.check_that(f"beta {BETA} contracts faster than beta 0 at the same h "
                  "(Jacobian and run)", neg[0] < zero[0] and neg[1] < zero[1] - 1e-3,
                  f"{neg[0]:.4f} < {zero[0]:.4f}, run {neg[1]:.4f} < {zero[1]:.4f}")
lesson.check("beta 0: the run circles, |lambda| per step = 1 (abs err)",
             abs(zero[1] - 1), 5e-4)
pos, sim = mom["alternating, beta +0.1"], mom[f"simultaneous, beta {BETA}"]
lesson.check_that("beta +0.1 (alternating) and negative beta with SIMULTANEOUS steps "
                  "diverge (run)", pos[1] > 1 and sim[1] > 1,
                  f"{pos[1]:.4f}, {sim[1]:.4f}")

# %% [markdown]
# ## $|\lambda|$ by step size, and where each method stops converging
#
# The formulas give $\rho(h)$ for every $h$; the code measures it (Jacobian of the
# nonlinear one-step map) at a grid of step sizes, and checks the stability edges
# derived above from measurements just inside and just outside them: extragradient
# $h^* = 1/a = 2$, optimism $h^* = 1/(\sqrt3\, a) = 1.155$, consensus
# $h^* = 2\gamma/(1 + \gamma^2a^2) = 1.6$. Figure `spectral_radius.png` draws
# $\rho(h)$ (lines: formulas, dots: measured) and, for alternating steps with
# momentum, $\rho(\beta)$ at $h = 0.5$; figure `trajectories.png` the runs of
# section 2 in the $(\theta, \psi)$ plane.

# %%
lesson.section("4. rho(h): measured on a grid of step sizes, and the stability edges")
HS = np.linspace(0.1, 2.5, 7 if lesson.quick else 25)
curves = [(name, method, kw) for name, method, kw in METHODS]
grid_err, grid = 0.0, {}
for name, method, kw in curves:
    meas = [np.abs(measured(method, hh, **kw)).max() for hh in HS]
    pred = [np.abs(predicted(method, hh, **kw)).max() for hh in HS]
    grid[name] = np.array(meas)
    grid_err = max(grid_err, np.abs(np.array(meas) - pred).max())
lesson.check(f"rho(h) measured vs formula, {len(HS)} step sizes x {len(curves)} "
             "methods (max abs err)", grid_err, 1e-6)
EDGES = {"extragradient": (extragradient, 1 / a),
         "optimistic GD": (optimistic, 1 / (math.sqrt(3) * a)),
         f"consensus (gamma {GAMMA})": (consensus,
                                        2 * GAMMA / (1 + GAMMA ** 2 * a * a))}
for name, (method, edge) in EDGES.items():
    inside = np.abs(measured(method, 0.98 * edge)).max()
    outside = np.abs(measured(method, 1.02 * edge)).max()
    lesson.check_that(f"{name}: stable edge h* = {edge:.3f} (measured rho at 0.98 h* "
                      "< 1 < at 1.02 h*)", inside < 1 < outside,
                      f"{inside:.4f} < 1 < {outside:.4f}")

BETAS = np.linspace(-0.9, 0.2, 12 if lesson.quick else 45)
rho_beta = np.array([np.abs(measured(momentum, h, beta=b)).max() for b in BETAS])
fine = np.linspace(-0.95, 0.25, 400)
rho_fine = np.array([np.abs(predicted(momentum, h, beta=b)).max() for b in fine])
hs_fine = np.union1d(np.linspace(0.02, 2.6, 300), [1 / (2 * a)])  # optimism's cusp
fig, (ax, ax_b) = plt.subplots(1, 2, figsize=(13, 5))
for (name, method, kw), color in zip(curves, plt.rcParams["axes.prop_cycle"]
                                     .by_key()["color"]):
    ax.plot(hs_fine, [np.abs(predicted(method, hh, **kw)).max() for hh in hs_fine],
            "-", color=color, label=name)
    ax.plot(HS, grid[name], "o", color=color, markersize=4)
ax.axhline(1, color="k", linewidth=0.8)
ax.set_ylim(0.6, 1.6)
ax.set_xlabel("step size h")
ax.set_ylabel("spectral radius of the one-step map")
ax.set_title("rho(h): lines the formulas, dots measured (Jacobian of minigan's "
             "map)", fontsize=10)
ax.legend(fontsize=8)
ax_b.plot(fine, rho_fine, "-", label="roots of the quartic")
ax_b.plot(BETAS, rho_beta, "o", markersize=4, label="measured")
ax_b.axhline(1, color="k", linewidth=0.8)
ax_b.axvline(0, color="gray", linewidth=0.8)
ax_b.set_xlabel("momentum beta")
ax_b.set_ylabel("spectral radius")
ax_b.set_title(f"alternating steps with momentum, h = {h}", fontsize=10)
ax_b.legend(fontsize=8)
lesson.savefig(fig, "spectral_radius.png")

fig, axes = plt.subplots(1, len(paths), figsize=(4.2 * len(paths), 4.4))
for ax, (name, path) in zip(axes, paths.items()):
    ax.plot(path[:, 0] / 0.01, path[:, 1] / 0.01, "-", linewidth=0.7)
    ax.plot(path[0, 0] / 0.01, path[0, 1] / 0.01, "go", label="start")
    ax.plot(0, 0, "k*", markersize=10, label="equilibrium")
    lim = 1.1 * max(1.0, np.abs(path / 0.01).max())
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("theta (D)  [units of 0.01]")
    ax.set_ylabel("psi (G)  [units of 0.01]")
    ax.set_title(f"{name}\n|lambda| {rates[name]:.4f}, {len(path) - 1} steps",
                 fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
lesson.savefig(fig, "trajectories.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Extragradient and optimism both contract by about $1 - a^2h^2/2$ per step at
#    small $h$, consensus by about $1 - h\gamma a^2$. Why is one second order in $h$
#    and the other first order, and what does that mean for the number of steps to
#    converge at a small learning rate?
# 2. Why does negative momentum help with alternating steps but not with
#    simultaneous ones? (Hint: at $\beta = 0$, where are the eigenvalues of each?)
# 3. Consensus optimisation adds $\gamma J^\top J = \gamma a^2 I$ here. In a game
#    with a real minimum as well (a potential part), what else would the same term
#    do, and what does it cost per step in a real network?
#
# Short answers: `lessons/ANSWERS.md`.
