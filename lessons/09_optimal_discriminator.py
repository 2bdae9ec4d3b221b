# %% [markdown]
# # Lesson 09 — The optimal discriminator, the JSD, and what G's loss becomes
#
# Lesson 08 wrote down the GAN game. Here we solve D's half of it exactly: for a fixed
# generator, the best discriminator has a closed form,
#
# $$D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)} .$$
#
# Plugging it back in shows WHAT the game measures (the Jensen-Shannon divergence
# between the data and G's distribution), and what the non-saturating generator loss
# really minimises against an optimal, frozen D (a reverse KL minus twice the JSD, which
# suggests one reason why GANs drop modes rather than blur them; lesson 13 follows the
# dynamics of real training instead). Every formula is checked on two 1-D Gaussians,
# where everything can be integrated, and a minigan Dense layer trained with minigan's
# loss and Adam is shown to find $D^*$ by itself.
#
# **Exercise.** Write `optimal_discriminator` and `gan_value` in
# `lessons/exercises/09_optimal_discriminator.py`, then run
# `python lessons/09_optimal_discriminator.py --exercise`: the checks of sections 1 to
# 4 ($D^*$ from the densities, $V$ estimated on samples) then run on your functions
# instead of the lesson's.
#
# Everything is in float64. The integrals are computed by the trapezoid rule on a grid
# over $[-12, 13]$ (spacing $5\times 10^{-4}$). For $D = s(t)$, $s$ the sigmoid and $t$
# the logit, the logs are computed stably as $\log D = -\mathrm{softplus}(-t)$ and
# $\log(1 - D) = -\mathrm{softplus}(t)$.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import math

import numpy as np

import minigan
from minigan import backend
from minigan.layers import Dense, sigmoid
from minigan.losses import discriminator_loss, generator_loss
from minigan.optim import Adam

lesson = Lesson("09_optimal_discriminator")
minigan.set_default_dtype("float64")
A, H = backend.asarray, backend.to_numpy
LOG4, LOG2 = math.log(4), math.log(2)
_trapezoid = getattr(np, "trapezoid", None) or np.trapz   # NumPy >= 2 renamed trapz


def trap(f, x):
    """The trapezoid rule over the last axis of f, sampled on the grid x."""
    return _trapezoid(f, x, axis=-1)


def log_normal(x, mu, sigma=1.0):
    return -0.5 * ((x - mu) / sigma) ** 2 - np.log(sigma * math.sqrt(2 * math.pi))


def densities(x):
    """p_data(x) = N(x; 0, 1) and p_g(x) = N(x; 1, 1): two arrays of x's shape."""
    return np.exp(log_normal(x, 0.0)), np.exp(log_normal(x, 1.0))


def softplus(t):
    return np.logaddexp(0.0, t)   # log(1 + e^t), stable


def jsd(lp, lq, x):
    """JSD(p || q) by integration, from log densities on the grid x."""
    lm = np.logaddexp(lp, lq) - LOG2
    return (0.5 * trap(np.exp(lp) * (lp - lm), x)
            + 0.5 * trap(np.exp(lq) * (lq - lm), x))


def kl(lp, lq, x):
    """KL(p || q) by integration, from log densities on the grid x."""
    return trap(np.exp(lp) * (lp - lq), x)


def V_of_logit(t, lpd, lpg, x):
    """V(D, G) by integration for D = s(t(x)).

    log D = -softplus(-t), log(1 - D) = -softplus(t).
    """
    return trap(np.exp(lpd) * -softplus(-t) + np.exp(lpg) * -softplus(t), x)


def d_of(Dnet, x):
    """D's probability s(logit) at NumPy points x (N, 1) -> NumPy (N, 1)."""
    return H(sigmoid(Dnet(A(x))))


X = np.linspace(-12.0, 13.0, 50001)          # the integration grid, dx = 5e-4
LPD, LPG = log_normal(X, 0.0), log_normal(X, 1.0)
T_STAR = 0.5 - X                             # the derived ideal logit (section 2)

# %% [markdown]
# ## 1. The best D for a fixed G (Goodfellow et al. 2014, Proposition 1)
#
# $$V(D, G) = \mathbb E_{x\sim p_{data}} \log D(x)
#   + \mathbb E_{x\sim p_g} \log(1 - D(x))
#   = \int \big[\, p_{data}(x) \log D(x) + p_g(x) \log(1 - D(x)) \,\big]\, dx .$$
#
# D may choose its value $D(x) \in (0, 1)$ at every $x$ separately, so maximise the
# integrand point by point. With $a = p_{data}(x) \ge 0$, $b = p_g(x) \ge 0$ (where
# $a + b > 0$) and $y = D(x)$, the integrand is $h(y) = a \log y + b \log(1 - y)$:
#
# $$h'(y) = \frac{a}{y} - \frac{b}{1 - y} = 0 \iff a (1 - y) = b y
#   \iff y = \frac{a}{a + b}, \qquad
#   h''(y) = -\frac{a}{y^2} - \frac{b}{(1 - y)^2} < 0$$
#
# (concave: this stationary point is THE maximum), so
# $D^*(x) = p_{data}(x) / (p_{data}(x) + p_g(x))$. In logits ($D = s(t)$, $s$ the
# sigmoid, $t = \log(D / (1 - D))$):
#
# $$t^*(x) = \log p_{data}(x) - \log p_g(x) \qquad \text{(the log density ratio).}$$
#
# The cell below is the first function the exercise asks for. Outside exercise mode it
# is the lesson's: minigan's sigmoid of $t^*$; with `--exercise` it is yours.

# %%
def optimal_discriminator(p_data, p_model):
    """D*(x) = p_data / (p_data + p_model), as minigan's sigmoid of the log ratio t*.

    p_data, p_model: arrays of one shape, the two densities at the same points (>= 0).
    Returns D* with that shape.
    """
    with np.errstate(divide="ignore", invalid="ignore"):   # a density 0: log 0 = -inf
        t = np.log(p_data) - np.log(p_model)
    return sigmoid(t)


optimal_discriminator = lesson.exercises(optimal_discriminator)

# %% [markdown]
# The checks: $h$ is maximised numerically for 20 random pairs $(a, b)$, on a grid of
# candidate values $y$ with spacing $10^{-6}$; its argmax must be
# `optimal_discriminator(a, b)`. Then $V(D, G)$ by integration: every perturbation $u$
# of $D^*$'s logit, $t = t^* + u$, lowers it.

# %%
lesson.section("1. the pointwise maximum: a log y + b log(1 - y) "
               "peaks at y = a / (a + b)")
rng = np.random.default_rng(lesson.seed)
ab = rng.uniform(0.01, 1.0, size=(20, 2))    # 20 random pairs (a, b): density values
ys = np.linspace(1e-6, 1 - 1e-6, 1_000_001)  # candidate D(x) values, spacing 1e-6
D_ab = optimal_discriminator(ab[:, 0], ab[:, 1])   # (20,)
worst = 0.0
for (a, b), d_star in zip(ab, D_ab):
    y_best = ys[np.argmax(a * np.log(ys) + b * np.log1p(-ys))]
    worst = max(worst, abs(y_best - d_star))
print(f"  20 random (a, b) in [0.01, 1]^2: the grid argmax of h(y) is at most "
      f"{worst:.1e} from optimal_discriminator(a, b)")
lesson.check("argmax_y h(y) = optimal_discriminator(a, b) = a / (a + b) "
             "(largest distance, grid spacing 1e-6)", worst, 1e-6)
V_STAR = V_of_logit(T_STAR, LPD, LPG, X)
bumps = {"0.3": 0.3 + 0 * X, "-0.3 x": -0.3 * X, "0.5 exp(-x^2)": 0.5 * np.exp(-X ** 2),
         "0.05 x^2": 0.05 * X ** 2}
drops = {k: V_STAR - V_of_logit(T_STAR + u, LPD, LPG, X) for k, u in bumps.items()}
print("  V(D*) - V(D) for D's logit = t* + u:  "
      + ",  ".join(f"u = {k}: {v:.2e}" for k, v in drops.items()))
lesson.check_that("every perturbation of D* lowers V (smallest drop > 0)",
                  min(drops.values()) > 0, f"smallest drop {min(drops.values()):.2e}")

# %% [markdown]
# ## 2. A case we can solve: $p_{data} = N(0, 1)$, $p_g = N(1, 1)$
#
# $$\log p_{data}(x) = -\frac{x^2}{2} - \log\sqrt{2\pi}, \qquad
#   \log p_g(x) = -\frac{(x - 1)^2}{2} - \log\sqrt{2\pi},$$
#
# $$t^*(x) = \frac{-x^2 + x^2 - 2x + 1}{2} = 0.5 - x: \quad \text{LINEAR in } x.$$
#
# The check: $D^*$ from the densities (`optimal_discriminator`) equals $s(0.5 - x)$ on
# $[-8, 8]$, where both densities are far from underflow.

# %%
lesson.section("2. p_data = N(0, 1), p_g = N(1, 1): "
               "D* = p_data / (p_data + p_g) = s(0.5 - x)")
pd, pg = densities(X)
D_ratio = optimal_discriminator(pd, pg)       # from the densities, straight from part 1
D_logit = 1 / (1 + np.exp(-T_STAR))           # from the derived logit 0.5 - x
inner = np.abs(X) < 8                         # both densities far from underflow
lesson.check("optimal_discriminator(p_data, p_g) vs s(0.5 - x) on [-8, 8] "
             "(max abs err)", np.abs(D_ratio - D_logit)[inner].max(), 1e-12)

# %% [markdown]
# ## 3. What V measures at $D^*$ (Goodfellow et al. 2014, Theorem 1)
#
# Write $m = (p_{data} + p_g) / 2$, the half-half mixture. Then
# $D^* = p_{data} / (2m)$, $1 - D^* = p_g / (2m)$, and
#
# $$\begin{aligned}
# V(D^*, G) &= \mathbb E_{data} \log\frac{p_{data}}{m} - \log 2
#              + \mathbb E_g \log\frac{p_g}{m} - \log 2 \\
#           &= KL(p_{data} \,\|\, m) + KL(p_g \,\|\, m) - \log 4 \\
#           &= -\log 4 + 2\, JSD(p_{data} \,\|\, p_g), \qquad
#   JSD(p \,\|\, q) = \tfrac12 \big( KL(p \,\|\, m) + KL(q \,\|\, m) \big).
# \end{aligned}$$
#
# $0 \le JSD \le \log 2$ (each $KL(p \,\|\, m) \le \log 2$ since $m \ge p/2$), so
# $V(D^*, G)$ lies between $-\log 4$ (reached only when $p_g = p_{data}$, where
# $D^* = 1/2$ everywhere) and $0$ (disjoint supports). With a perfect D, G minimising V
# minimises the JSD.
#
# The checks: the JSD by integration (converged: halving the grid changes nothing), and
# $V(D^*, G)$ by Monte Carlo against $-\log 4 + 2\,JSD$ within 4 standard errors. On
# samples, $V$ is estimated by two means,
#
# $$\hat V = \frac1N \sum_{i=1}^N \log D(x_i)
#   + \frac1M \sum_{j=1}^M \log(1 - D(\tilde x_j)),
#   \qquad x_i \sim p_{data}, \ \tilde x_j \sim p_g,$$
#
# which is minus minigan's `discriminator_loss` (kind `"bce"`: mean softplus$(-r)$ +
# mean softplus$(f)$ on the real and fake logits $r, f$). The cell below is the second
# function of the exercise: $\hat V$ from D's probabilities, here $D^*$ at the
# samples.

# %%
def gan_value(d_real, d_fake):
    """V(D, G) estimated on samples from D's probabilities: -discriminator_loss("bce").

    d_real (N, 1): D at N samples of p_data; d_fake (M, 1): D at M samples of p_g.
    Returns a float.
    """
    def logit(d):
        return A(np.log(d) - np.log1p(-d))
    loss, _, _ = discriminator_loss(logit(d_real), logit(d_fake), "bce")
    return -loss


gan_value = lesson.exercises(gan_value)

# %%
N_MC = 1_000_000 if lesson.quick else 4_000_000
lesson.section(f"3. V(D*, G) = -log 4 + 2 JSD: the JSD by integration, "
               f"V by Monte Carlo ({N_MC:,} samples each)")
JSD = jsd(LPD, LPG, X)
X_half = np.linspace(-12.0, 13.0, 25001)
JSD_coarse = jsd(log_normal(X_half, 0.0), log_normal(X_half, 1.0), X_half)
print(f"  JSD(N(0,1) || N(1,1)) = {JSD:.10f} (grid dx 5e-4; with dx 1e-3: "
      f"{JSD_coarse:.10f});  log 2 = {LOG2:.6f}")
lesson.check("the integral has converged (change when the grid is halved)",
             abs(JSD - JSD_coarse), 1e-9)
lesson.check_that("0 <= JSD <= log 2", 0 <= JSD <= LOG2,
                  f"0 <= {JSD:.4f} <= {LOG2:.4f}")
x_real = rng.standard_normal((N_MC, 1))        # (N, 1) samples of p_data
x_fake = 1.0 + rng.standard_normal((N_MC, 1))  # (N, 1) samples of p_g
D_real = optimal_discriminator(*densities(x_real))   # D* at the samples, (N, 1) each
D_fake = optimal_discriminator(*densities(x_fake))
V_mc = gan_value(D_real, D_fake)
# log D*, log(1 - D*) per sample, from the logit 0.5 - x: for the standard error
per_real, per_fake = -softplus(-(0.5 - x_real)), -softplus(0.5 - x_fake)
se = math.sqrt(per_real.var() / N_MC + per_fake.var() / N_MC)
V_theory = -LOG4 + 2 * JSD
print(f"  Monte Carlo V(D*, G) = {V_mc:.6f} +- {se:.1e} (1 standard error);  "
      f"-log 4 + 2 JSD = {V_theory:.6f};\n  V by integration = {V_STAR:.6f};  "
      f"-log 4 = {-LOG4:.6f} (the value if p_g were p_data)")
lesson.check_that("Monte Carlo V(D*, G) = -log 4 + 2 JSD within 4 standard errors",
                  abs(V_mc - V_theory) < 4 * se,
                  f"|{V_mc:.6f} - ({V_theory:.6f})| = {abs(V_mc - V_theory):.1e} "
                  f"< 4 x {se:.1e}")
lesson.check("V(D*, G) by integration = -log 4 + 2 JSD (abs err)",
             abs(V_STAR - V_theory), 1e-9)

# %% [markdown]
# ## 4. A Dense(1, 1) discriminator finds $D^*$ by itself
#
# Since $t^*(x) = 0.5 - x$ is linear, a single Dense(1, 1) layer,
# $\text{logit} = x W + b$ with $W$ of shape $(1, 1)$ and $b$ of shape $(1,)$, can be
# exactly $D^*$: $W = -1$, $b = 0.5$. Training it with minigan's `discriminator_loss`
# (kind `"bce"`: $-\hat V$ on a batch) is logistic regression with a correct model, so
# with fresh samples at every step its minimiser is $D^*$ itself. Adam must find
# $W = -1$, $b = 0.5$.
#
# The run: `minigan.optim.Adam`, learning rate $0.02$ decaying linearly towards 0 (the
# last steps average the noise), a fresh batch of each distribution at every step. The
# checks: $|W + 1| < 0.02$ and $|b - 0.5| < 0.02$ (every seed of the full run lands
# within about $0.01$ of $W = -1$ and $0.003$ of $b = 0.5$); then D itself against $D^*$
# from `optimal_discriminator`: on $[-4, 5]$ those bounds keep the logit within
# $6 \times 0.02$ of $t^*$, and $s' \le 1/4$, so $|D - D^*| \le 0.03$. And the trained
# D's $V$ approaches $V(D^*, G)$ from below (figures `optimal_discriminator.png`,
# `training.png`).

# %%
SEEDS = [lesson.seed] if lesson.quick else [lesson.seed + i for i in range(5)]
STEPS, BATCH, LR = (1000, 1024, 0.02) if lesson.quick else (2000, 2048, 0.02)
TOL = 0.02
lesson.section(f"4. a Dense(1, 1) D trained with discriminator_loss('bce') + Adam "
               f"(lr {LR} -> 0, batch {BATCH} of each, {STEPS} steps, "
               f"{len(SEEDS)} seed(s))")
X_V = np.linspace(-12.0, 13.0, 5001)         # a coarser grid for V along training
LPD_V, LPG_V = log_normal(X_V, 0.0), log_normal(X_V, 1.0)   # (dx 5e-3: error ~1e-8)
V_STAR_V = V_of_logit(0.5 - X_V, LPD_V, LPG_V, X_V)


def train_dense(seed):
    """Train D = Dense(1, 1) on fresh batches.

    x_real ~ N(0, 1), x_fake ~ N(1, 1), each (BATCH, 1).
    """
    backend.seed(seed)                       # D's initial W, b ~ U(-1, 1)
    D = Dense(1, 1)
    opt = Adam(D, lr=LR, betas=(0.9, 0.999))
    data_rng = np.random.default_rng(1000 + seed)
    W, b, gap = [], [], []
    for step in range(STEPS):
        opt.lr = LR * max(1 - step / STEPS, 0.01)   # linear decay: averages the noise
        x = np.concatenate([data_rng.standard_normal((BATCH, 1)),
                            1 + data_rng.standard_normal((BATCH, 1))])
        D.zero_grad()
        logits = D(A(x))                      # (2 BATCH, 1): the real rows, then fakes
        _, g_real, g_fake = discriminator_loss(logits[:BATCH], logits[BATCH:], "bce")
        D.backward(backend.xp.concatenate([g_real, g_fake]), input_grad=False)
        opt.step()
        w_now, b_now = float(H(D.params["W"])[0, 0]), float(H(D.params["b"])[0])
        W.append(w_now)
        b.append(b_now)
        if step % 10 == 0 or step == STEPS - 1:
            gap.append((step + 1,
                        V_STAR_V - V_of_logit(w_now * X_V + b_now, LPD_V, LPG_V, X_V)))
    return np.array(W), np.array(b), np.array(gap), D


runs = {seed: train_dense(seed) for seed in SEEDS}
for seed, (W, b, gap, _) in runs.items():
    print(f"  seed {seed}: W {W[0]:+.3f} -> {W[-1]:+.4f}, "
          f"b {b[0]:+.3f} -> {b[-1]:+.4f};  "
          f"V(D*) - V(D): {gap[0, 1]:.2e} at step 1 -> {gap[-1, 1]:.2e}")
w_err = max(abs(r[0][-1] + 1) for r in runs.values())
b_err = max(abs(r[1][-1] - 0.5) for r in runs.values())
lesson.check("trained W = -1 (largest |W + 1| over the seeds)", w_err, TOL)
lesson.check("trained b = 0.5 (largest |b - 0.5| over the seeds)", b_err, TOL)
xs = np.linspace(-4, 5, 400)
D_star_xs = optimal_discriminator(*densities(xs))          # (400,)
d_err = max(np.abs(d_of(r[3], xs[:, None])[:, 0] - D_star_xs).max()
            for r in runs.values())
lesson.check("trained D(x) = optimal_discriminator(p_data(x), p_g(x)) on [-4, 5] "
             "(largest max abs err over the seeds)", d_err, 1.5 * TOL)
final_gaps = np.array([r[2][-1, 1] for r in runs.values()])
# V(D*) - V(D) >= 0 always (part 1); near D* it is quadratic in the parameter error,
# so ~1e-5 for errors ~0.005.
lesson.check_that("the trained D's V approaches V(D*, G) from below: "
                  "0 <= V(D*) - V(D) < 1e-4 (every seed)",
                  bool((final_gaps >= -1e-9).all() and (final_gaps < 1e-4).all()),
                  f"gaps {', '.join(f'{g:.1e}' for g in final_gaps)}")
D_trained = runs[SEEDS[0]][3]
V_trained = gan_value(d_of(D_trained, x_real), d_of(D_trained, x_fake))
print(f"  the trained D's V on the Monte Carlo samples of section 3: {V_trained:.6f} "
      f"(D*: {V_mc:.6f})")

fig, ax = plt.subplots(figsize=(8, 4.8))
ax.plot(xs, np.exp(log_normal(xs, 0)), label="p_data = N(0, 1)")
ax.plot(xs, np.exp(log_normal(xs, 1)), label="p_g = N(1, 1)")
ax.plot(xs, D_star_xs, "k-", linewidth=2.5,
        label="D*(x) = p_data / (p_data + p_g) = s(0.5 - x)")
Wt, bt = runs[SEEDS[0]][0][-1], runs[SEEDS[0]][1][-1]
ax.plot(xs, 1 / (1 + np.exp(-(Wt * xs + bt))), "--", color="tab:red", linewidth=1.5,
        label=f"trained Dense: s({Wt:.3f} x + {bt:.3f})")
ax.axhline(0.5, color="gray", linewidth=0.5)
ax.axvline(0.5, color="gray", linewidth=0.5)
ax.set_xlabel("x")
ax.set_title("the optimal discriminator and the one minigan trained")
ax.legend(fontsize=8)
lesson.savefig(fig, "optimal_discriminator.png")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
for seed, (W, b, gap, _) in runs.items():
    steps = np.arange(1, STEPS + 1)
    ax1.plot(steps, W, color="tab:blue", alpha=0.7,
             label="W" if seed == SEEDS[0] else None)
    ax1.plot(steps, b, color="tab:orange", alpha=0.7,
             label="b" if seed == SEEDS[0] else None)
    ax2.semilogy(gap[:, 0], np.maximum(gap[:, 1], 1e-12), alpha=0.8,
                 label=f"seed {seed}")
for target in (-1, 0.5):
    ax1.axhspan(target - TOL, target + TOL, color="gray", alpha=0.3)
    ax1.axhline(target, color="k", linewidth=0.6)
ax1.set_xlabel("Adam step")
ax1.set_title(f"Dense(1, 1): W -> -1, b -> 0.5 (bands: +-{TOL})")
ax1.legend(fontsize=8)
ax2.set_xlabel("Adam step")
ax2.set_ylabel("V(D*, G) - V(D, G)  (by integration)")
ax2.set_title("D's value approaches the optimum from below")
ax2.legend(fontsize=8)
lesson.savefig(fig, "training.png")

# %% [markdown]
# ## 5. What G sees when D is optimal (Arjovsky & Bottou 2017, Theorem 2.5)
#
# The non-saturating generator loss (lesson 08) is $L_{NS} = -\mathbb E_g \log D(x)$.
# At $D = D^*$:
#
# $$\begin{aligned}
# -\log D^* &= \log\frac{p_{data} + p_g}{p_{data}}
#            = \log\frac{p_g}{p_{data}} - \log\frac{p_g}{p_{data} + p_g}
#            = \log\frac{p_g}{p_{data}} - \log(1 - D^*), \\
# L_{NS} &= KL(p_g \,\|\, p_{data}) - \mathbb E_g \log(1 - D^*) \\
#        &= KL(p_g \,\|\, p_{data}) - 2\, JSD(p_{data} \,\|\, p_g) + \log 4
#           + \mathbb E_{data} \log D^* \qquad \text{(using part 3).}
# \end{aligned}$$
#
# In G's step, D is held fixed at $D^*$ of the current G; $\mathbb E_{data} \log D^*$
# then involves no sample of G: it is a constant for that step. And the gradient with
# $D^*$ frozen equals the gradient of the divergences themselves: for the JSD because
# $D^*$ maximises V (the envelope theorem: $\partial V / \partial D = 0$ at $D^*$, so
# freezing $D^*$ changes no first derivative), for the KL because
# $\mathbb E_g[\log p_g - \log p_{g_0}] = KL(p_g \,\|\, p_{g_0})$ is stationary at
# $p_{g_0}$. So, to first order around the current G, the non-saturating G descends
#
# $$KL(p_g \,\|\, p_{data}) - 2\, JSD(p_{data} \,\|\, p_g)
#   \qquad (+\text{ a constant})$$
#
# and the minimax G ($L = \mathbb E_g \log(1 - D^*)$) descends $2\,JSD$, as part 3
# promised.
#
# The checks: the value of $L_{NS}$ at $D^*$ against
# $KL - 2\,JSD + \log 4 + \mathbb E_{data} \log D^*$; then, for $p_g = N(\mu, 1)$, its
# gradient in $\mu$ (by integration, and as minigan computes it in G's step: its
# `generator_loss` through the frozen Dense $D^*$, by Monte Carlo) against
# $\frac{d}{d\mu}[KL - 2\,JSD]$; and the minimax loss's gradient against
# $\frac{d}{d\mu}[2\,JSD]$.

# %%
lesson.section("5. what G sees: with D* frozen, "
               "-E_g log D* = KL(p_g || p_data) - 2 JSD + a constant")
E_data_logD = trap(pd * -softplus(-T_STAR), X)
L_NS = trap(pg * softplus(-T_STAR), X)       # -E_g log D* = E_g softplus(-t*)
KL_rev = kl(LPG, LPD, X)
rhs = KL_rev - 2 * JSD + LOG4 + E_data_logD
print(f"  -E_g log D* = {L_NS:.10f};  KL(p_g || p_data) = {KL_rev:.6f} (exact: 1/2), "
      f"2 JSD = {2 * JSD:.6f},\n  log 4 + E_data log D* = {LOG4 + E_data_logD:.6f}")
lesson.check("value: -E_g log D* = KL - 2 JSD + log 4 + E_data log D* (abs err)",
             abs(L_NS - rhs), 1e-9)

# Now p_g = N(mu, 1), D frozen at D* of mu0 = 1. Each derivative below is d/dmu at mu0.
MU0, HMU = 1.0, 1e-4


def divergence(mu):
    """KL(N(mu,1) || N(0,1)) and JSD(N(0,1) || N(mu,1)) by integration."""
    lq = log_normal(X, mu)
    return kl(lq, LPD, X), jsd(LPD, lq, X)


(kl_p, js_p), (kl_m, js_m) = divergence(MU0 + HMU), divergence(MU0 - HMU)
d_kl, d_jsd = (kl_p - kl_m) / (2 * HMU), (js_p - js_m) / (2 * HMU)
target_ns, target_mm = d_kl - 2 * d_jsd, 2 * d_jsd


def frozen_loss(mu, kind):
    """E_{N(mu,1)} of G's loss against the FROZEN D* (logit 0.5 - x), by integration."""
    p = np.exp(log_normal(X, mu))
    # -log D* (non-saturating), log(1 - D*) (minimax)
    per_x = softplus(-T_STAR) if kind == "nonsaturating" else -softplus(T_STAR)
    return trap(p * per_x, X)


d_ns = (frozen_loss(MU0 + HMU, "nonsaturating")
        - frozen_loss(MU0 - HMU, "nonsaturating")) / (2 * HMU)
d_mm = (frozen_loss(MU0 + HMU, "minimax")
        - frozen_loss(MU0 - HMU, "minimax")) / (2 * HMU)
print(f"  d/dmu: KL = {d_kl:.6f} (exact: mu = 1), 2 JSD = {2 * d_jsd:.6f};  "
      f"KL - 2 JSD = {target_ns:.6f}")
print(f"  d/dmu with D* frozen, by integration:  non-saturating {d_ns:.8f}, "
      f"minimax {d_mm:.8f}")
lesson.check("gradient: d/dmu [-E_g log D*] = d/dmu [KL - 2 JSD] "
             "(by integration, abs err)", abs(d_ns - target_ns), 1e-7)
lesson.check("gradient: d/dmu [E_g log(1 - D*)] = d/dmu [2 JSD] "
             "(by integration, abs err)", abs(d_mm - target_mm), 1e-7)

# The same gradient as minigan computes it in G's step: G(z) = mu + z, D* = a frozen
# Dense(1, 1) with W = -1, b = 0.5; generator_loss's dL/dlogit, back through D (input
# gradient only), summed over the batch.
D_star = Dense(1, 1)
D_star.params["W"][...] = -1.0
D_star.params["b"][...] = 0.5
x_g = A(MU0 + rng.standard_normal((N_MC, 1)))   # (N, 1) fakes
for kind, target in (("nonsaturating", target_ns), ("minimax", target_mm)):
    _, g_logit = generator_loss(D_star(x_g), kind)
    dx = H(D_star.backward(g_logit, param_grads=False))   # (N, 1): dL/dx_n, each 1/N
    grad_mu, se_mu = dx.sum(), (dx * N_MC).std() / math.sqrt(N_MC)
    lesson.check_that(f"{kind}: minigan's G gradient through D* (Monte Carlo) "
                      f"= the divergence's, within 4 SE",
                      abs(grad_mu - target) < 4 * se_mu,
                      f"{grad_mu:.5f} vs {target:.5f}, "
                      f"|diff| {abs(grad_mu - target):.1e} < 4 x {se_mu:.1e}")

# %% [markdown]
# ## 6. What this means: mode seeking
#
# $KL(p_g \,\|\, p_{data}) = \mathbb E_g \log(p_g / p_{data})$ is the REVERSE KL: it is
# huge where G puts mass and the data have none (a fake-looking sample costs a lot) and
# nearly free where the data have mass and G has none (a dropped mode costs little): it
# is MODE-SEEKING. And the JSD enters with a MINUS sign: that part of G's step pushes
# $p_g$ away from $p_{data}$ (Arjovsky & Bottou call it the wrong sign).
#
# With a two-mode $p_{data} = \big(N(-2, 0.5^2) + N(2, 0.5^2)\big) / 2$ and a
# Gaussian $p_g = N(\mu, \sigma^2)$, the best Gaussian under $KL - 2\,JSD$ sits on
# ONE mode, while the best one under the JSD alone, or under the forward
# $KL(p_{data} \,\|\, p_g)$, straddles both. The lesson finds each best Gaussian on a
# grid of $(\mu, \sigma)$ (figure `mode_seeking.png`).

# %%
lesson.section("6. mode seeking: the best Gaussian p_g for "
               "p_data = (N(-2, 0.5^2) + N(2, 0.5^2)) / 2")
XM = np.linspace(-12.0, 12.0, 2401)      # dx = 0.01 (the objectives converge to ~1e-6)
LPD2 = np.logaddexp(log_normal(XM, -2, 0.5), log_normal(XM, 2, 0.5)) - LOG2
MUS = np.round(np.arange(-3, 3.0001, 0.05), 10) + 0.0   # (+ 0.0 turns -0.0 into 0.0)
SIGMAS = np.round(np.arange(0.2, 3.0001, 0.05), 10)
MM, SS = np.meshgrid(MUS, SIGMAS, indexing="ij")        # (121, 57) candidate Gaussians
rows = {"rev": [], "jsd": [], "fwd": []}
for mu in MUS:             # one mu at a time: (57, 2401) log densities, not 16 M values
    LQ = log_normal(XM[None, :], mu, SIGMAS[:, None])
    rows["rev"].append(kl(LQ, LPD2, XM))
    rows["jsd"].append(jsd(LPD2, LQ, XM))
    rows["fwd"].append(kl(LPD2, LQ, XM))
REV, JS2, FWD = (np.array(rows[k]) for k in ("rev", "jsd", "fwd"))
objectives = {"KL(p_g || p_data) - 2 JSD  (non-saturating G)": REV - 2 * JS2,
              "KL(p_g || p_data)  (reverse KL)": REV,
              "JSD  (minimax G)": JS2,
              "KL(p_data || p_g)  (forward KL, maximum likelihood)": FWD}
best = {}
for name, values in objectives.items():
    i = np.unravel_index(np.argmin(values), values.shape)
    best[name] = (MM[i], SS[i])
    print(f"  best N(mu, sigma^2) under {name:52s}: mu = {MM[i]:+.2f}, "
          f"sigma = {SS[i]:.2f}")
names = list(objectives)
mu_ns, s_ns = best[names[0]]
lesson.check_that("under KL - 2 JSD the best Gaussian sits on ONE mode "
                  "(|mu| = 2, sigma = 0.5, +-0.05)",
                  abs(abs(mu_ns) - 2) <= 0.05 and abs(s_ns - 0.5) <= 0.05,
                  f"mu {mu_ns:+.2f}, sigma {s_ns:.2f}")
for name in names[2:]:
    mu_b, s_b = best[name]
    lesson.check_that(f"under {name.split('  ')[0]} it straddles both "
                      f"(|mu| <= 0.05, sigma > 1.5)",
                      abs(mu_b) <= 0.05 and s_b > 1.5,
                      f"mu {mu_b:+.2f}, sigma {s_b:.2f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8))
ax1.plot(XM, np.exp(LPD2), "k-", linewidth=2.5, label="p_data")
groups = {}                     # objectives with the same best Gaussian share one curve
for name, key in best.items():
    groups.setdefault(key, []).append(name.split("  ")[0])
for (mu_b, s_b), group in groups.items():
    ax1.plot(XM, np.exp(log_normal(XM, mu_b, s_b)), "--", linewidth=2,
             label=f"N({mu_b:+.2f}, {s_b:.2f}^2): best under "
                   + " and under ".join(group))
ax1.set_xlim(-6, 6)
ax1.set_xlabel("x")
ax1.set_title("the best Gaussian G under each objective")
ax1.legend(fontsize=7)
obj = objectives[names[0]]
cs = ax2.contourf(MM, SS, np.minimum(obj, np.quantile(obj, 0.9)), levels=30,
                  cmap="viridis")
fig.colorbar(cs, ax=ax2)
ax2.plot(mu_ns, s_ns, "r*", markersize=12, label="minimum")
ax2.plot(-mu_ns, s_ns, "r*", markersize=12)
ax2.set_xlabel("mu")
ax2.set_ylabel("sigma")
ax2.set_title("KL(p_g || p_data) - 2 JSD over Gaussians N(mu, sigma^2)")
ax2.legend(fontsize=8)
lesson.savefig(fig, "mode_seeking.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. If $p_g = p_{data}$, what are $D^*$ and $V(D^*, G)$? How far above that value is
#    $V(D^*, G)$ for $N(0, 1)$ against $N(1, 1)$, and what does the gap measure?
# 2. Why is the ideal logit $t^*(x) = 0.5 - x$ linear here, and why is $D^* = 1/2$ at
#    $x = 0.5$? If $p_g$ were $N(1, 2^2)$ instead, could a Dense(1, 1) still be $D^*$?
# 3. Section 5 splits the non-saturating G's gradient at $\mu = 1$ into a KL part and a
#    $-2\,JSD$ part. Which part pulls G towards the data and which pushes it away, and
#    which one wins here?
# 4. In section 6, is it the reverse KL or the $-2\,JSD$ term that makes the
#    non-saturating G sit on one mode? Which objective fits the data the way maximum
#    likelihood does?
#
# Short answers: `lessons/ANSWERS.md`.
