# %% [markdown]
# # Lesson 08 — The GAN game: minimax vs non-saturating, and why G's gradient vanishes
#
# A GAN is a two-player game. $D(x) \in (0, 1)$ is the discriminator's probability that
# $x$ is real; $G(z)$ turns noise into fakes. D is trained to tell them apart; G is
# trained to fool D. The original paper's objective is a single value both fight over,
# but in the first moments of training D wins easily, and then the gradient G receives
# from that value is almost exactly zero: G cannot learn. A one-line change of G's loss
# keeps the same goal and a strong gradient. This lesson derives both, measures them in
# a real minigan training run, and shows the consequence.
#
# **Exercise.** Write `minimax_generator_grad` and `nonsaturating_generator_grad` in
# `lessons/exercises/08_gan_minimax_vs_nonsaturating.py`, then run
# `python lessons/08_gan_minimax_vs_nonsaturating.py --exercise`: the gradient checks
# below, and G's gradients in section 2, then use your functions instead of minigan's.
#
# ## The game (Goodfellow et al., 2014)
#
# $$\min_G \max_D\ V(D, G) = \mathbb E_x[\log D(x)] + \mathbb E_z[\log(1 - D(G(z)))]$$
#
# D climbs $V$: it wants $D(x) \to 1$ on real data and $D(G(z)) \to 0$ on fakes. In
# minigan, D outputs a **logit** $a$ and $D = \sigma(a) = 1/(1 + e^{-a})$; D's loss is
# the binary cross-entropy $\mathrm{bce}(a_{real}, 1) + \mathrm{bce}(a_{fake}, 0)$
# (lesson 03), the same whatever G does.
#
# The lesson's GAN is a 2-D toy, `minigan.models.build("mlp2d")` trained by
# `minigan.train.GAN`, in float64.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import copy

import numpy as np

import minigan
from minigan import backend
from minigan.data import sample_toy
from minigan.gradcheck import rel_error
from minigan.layers import sigmoid
from minigan.losses import generator_loss
from minigan.models import build
from minigan.optim import SGD
from minigan.train import GAN

lesson = Lesson("08_gan_minimax_vs_nonsaturating")
minigan.set_default_dtype("float64")
A, H = backend.asarray, backend.to_numpy
KINDS = ("minimax", "nonsaturating")

# %% [markdown]
# ## G's two losses
#
# Per fake sample with logit $a$ and $D = \sigma(a)$, using
# $d\sigma/da = \sigma(1 - \sigma) = D(1 - D)$:
#
# $$\text{"minimax"}\quad L_G = \log(1 - D), \qquad
#   \frac{dL_G}{da} = -\frac{1}{1 - D}\, D(1 - D) = -D$$
#
# (the paper's: G descends what D ascends), and
#
# $$\text{"nonsaturating"}\quad L_G = -\log D, \qquad
#   \frac{dL_G}{da} = -\frac{1}{D}\, D(1 - D) = -(1 - D)$$
#
# (the paper's practical alternative). `minigan.losses.generator_loss` averages over
# the batch of $N$ fakes, so each gradient it returns carries a factor $1/N$:
# $-D_i/N$ and $-(1 - D_i)/N$.
#
# Both are negative: both push $a$, hence $D(G(z))$, UP; per sample they differ in HOW
# HARD they push. (Their stationary points are not the same in general: for a fixed,
# imperfect D, G's two losses can settle in different places, and lesson 09's section 6
# shows one; they agree at the global equilibrium $p_g = p_{data}$, $D = 1/2$.) Early in
# training D easily spots fakes, $D(G(z)) \approx 0.001$: the minimax gradient is
# $-D \approx -0.001$, the non-saturating one is $-(1 - D) \approx -1$.
#
# The cell below holds the two functions the exercise asks for. Outside exercise mode
# they are minigan's `generator_loss` gradients; with `--exercise` they are yours.

# %%
def minimax_generator_grad(logits):
    """dL/dlogits of minigan's minimax generator loss, L = mean log(1 - sigmoid(a)).

    logits (N,) or (N, 1); the gradient has the same shape.
    """
    return H(generator_loss(A(logits), "minimax")[1])


def nonsaturating_generator_grad(logits):
    """dL/dlogits of minigan's non-saturating generator loss, L = -mean log sigmoid(a).

    logits (N,) or (N, 1); the gradient has the same shape.
    """
    return H(generator_loss(A(logits), "nonsaturating")[1])


minimax_generator_grad, nonsaturating_generator_grad = lesson.exercises(
    minimax_generator_grad, nonsaturating_generator_grad)
GRAD = {"minimax": minimax_generator_grad,
        "nonsaturating": nonsaturating_generator_grad}

# %% [markdown]
# ## Where the minimax loss is flat
#
# First the two gradients against the formulas $-D$ and $-(1 - D)$ on a grid of logits
# (and the values against $\log(1 - D)$ and $-\log D$, from `generator_loss`).
#
# The minimax loss "saturates" IN THE LOGIT: $\log(1 - \sigma(a))$ has derivative
# $-\sigma(a) \to 0$ as $a \to -\infty$, so it is flat in $a$ where $D \to 0$. It is
# NOT flat in $D$ itself: $\frac{d}{dD} \log(1 - D) = -1/(1 - D) \to -1$ there. The
# flatness comes from the sigmoid, $d\sigma/da = D(1 - D) \approx D$, which the
# non-saturating loss cancels: $\frac{d}{dD}(-\log D) = -1/D$ is huge exactly where
# $d\sigma/da$ is tiny. Central differences show where, and the two gradient functions
# show it on fakes that a confident D rejects.

# %%
lesson.section("1. dL_G/da vs the formulas -D and -(1 - D)")
logits = np.linspace(-12, 12, 97)       # (N=97,) fake logits, D from 6e-6 to 1 - 6e-6
D = 1 / (1 + np.exp(-logits))
N = logits.size
measured = {k: GRAD[k](logits) * N for k in KINDS}     # per-sample dL/da
lesson.check("minimax:       N * grad = -D (rel err)",
             rel_error(measured["minimax"], -D), 1e-12)
lesson.check("nonsaturating: N * grad = -(1 - D) (rel err)",
             rel_error(measured["nonsaturating"], -(1 - D)), 1e-12)
value_mm, _ = generator_loss(A(logits), "minimax")
value_ns, _ = generator_loss(A(logits), "nonsaturating")
lesson.check("minimax value = mean log(1 - D) (abs err)",
             abs(value_mm - np.log1p(-D).mean()), 1e-12)
lesson.check("nonsaturating value = -mean log D (abs err)",
             abs(value_ns + np.log(D).mean()), 1e-12)
lesson.check_that("both push D(G(z)) up: every dL_G/da < 0",
                  (measured["minimax"] < 0).all()
                  and (measured["nonsaturating"] < 0).all(), "")


def minimax_in_logit(a):
    return float(np.log1p(-1 / (1 + np.exp(-a))))      # log(1 - s(a))


def nonsaturating_in_logit(a):
    return float(np.log1p(np.exp(-a)))                  # -log s(a)


def central_difference(f, at, step):
    return (f(at + step) - f(at - step)) / (2 * step)


# Where is log(1 - D) flat? Central differences, in the logit a and in D itself.
Ds = np.array([1e-1, 1e-2, 1e-3, 1e-4])
print("      D       d/da log(1 - s(a))   d/dD log(1 - D)   d/da -log s(a)")
flat_a, slope_D, ns_a = [], [], []
for Dv in Ds:
    a0 = float(np.log(Dv / (1 - Dv)))                    # the logit with s(a0) = Dv
    flat_a.append(central_difference(minimax_in_logit, a0, 1e-6))
    # a step of 1e-6 D in D
    slope_D.append(central_difference(lambda d: float(np.log1p(-d)), Dv, 1e-6 * Dv))
    ns_a.append(central_difference(nonsaturating_in_logit, a0, 1e-6))
    print(f"  {Dv:7.0e}    {flat_a[-1]:+.6e}        {slope_D[-1]:+.6f}         "
          f"{ns_a[-1]:+.6f}")
lesson.check("log(1 - D) is flat in the LOGIT: d/da = -D -> 0 (rel err vs -D)",
             rel_error(flat_a, -Ds), 1e-7)
lesson.check("... but NOT in D: d/dD log(1 - D) = -1/(1 - D) -> -1 (rel err)",
             rel_error(slope_D, -1 / (1 - Ds)), 1e-7)
lesson.check("-log D in the logit: d/da = -(1 - D) -> -1 (rel err)",
             rel_error(ns_a, -(1 - Ds)), 1e-7)

# The same four fakes as one batch, through the two gradient functions: a confident D.
confident = np.log(Ds / (1 - Ds))                        # (4,) logits, D = Ds
grad_mm, grad_ns = (GRAD[k](confident) for k in KINDS)
print(f"  a batch of {Ds.size} fakes, D = {Ds.tolist()}:\n"
      f"    minimax       N * grad = {(Ds.size * grad_mm).tolist()}\n"
      f"    nonsaturating N * grad = {(Ds.size * grad_ns).tolist()}")
lesson.check("D rejects the fakes: minimax's N * grad = -D vanishes with D (rel err)",
             rel_error(Ds.size * grad_mm, -Ds), 1e-12)
lesson.check("... nonsaturating's N * grad = -(1 - D) stays near -1 (rel err)",
             rel_error(Ds.size * grad_ns, -(1 - Ds)), 1e-12)
lesson.check_that("at D = 1e-4 the minimax gradient is under 1/1000 of the "
                  "nonsaturating one, both negative",
                  grad_mm[-1] < 0 and grad_ns[-1] < 0
                  and abs(grad_mm[-1]) < 1e-3 * abs(grad_ns[-1]),
                  f"{grad_mm[-1]:.2e} vs {grad_ns[-1]:.2e}")

# %% [markdown]
# ## A real run: D gets a head start
#
# G's learning rate is ~0 ($10^{-12}$), so G stays put while D learns to reject its
# fakes; D's updates are the same for both losses (D's loss does not depend on G's
# loss kind). The run records G's gradient norm and $D(G(z))$ at every step, for both
# losses.
#
# **For ONE fake**, the two gradients with respect to G's parameters differ by exactly
# the factor
#
# $$\nabla_\theta^{\,nonsat} = \frac{1 - D}{D}\,\nabla_\theta^{\,minimax},$$
#
# because everything after $dL_G/da$ (D's backward, G's backward) is the same linear
# map: they are parallel, and with $D(G(z)) = 0.001$ the non-saturating one is 999x
# longer.
#
# **Over a BATCH** they are not parallel. With $J_i = da_i/d\theta$ (G's parameters
# $\theta$) and $D_i = D(G(z_i))$,
#
# $$\nabla_\theta^{\,minimax} = -\frac1N \sum_i D_i\, J_i, \qquad
#   \nabla_\theta^{\,nonsat} = -\frac1N \sum_i (1 - D_i)\, J_i:$$
#
# two different weightings of the same per-sample directions. The minimax sum weights
# each fake by $D_i$, favouring those D already likes; the non-saturating sum by
# $1 - D_i$, nearly uniform when every $D_i$ is small: relative to the minimax one it
# up-weights each fake by $(1 - D_i)/D_i$, the most for the fakes D rejects most.
# Unless every $D_i$ is the same, the two batch gradients point in different directions
# (cosine < 1), and the ratio of their norms is only roughly $(1 - D)/D$.
#
# The per-fake and batch gradients below start G's backward from the two gradient
# functions above (figure `generator_gradient.png`: theory curves, measured ratio).

# %%
HEAD_START = 120 if lesson.quick else 300
lesson.section(f"2. a real run: D learns for {HEAD_START} steps while G stays put "
               "(lr_g = 1e-12)")
WIDTH, Z = 128, 8


def sample_ring(rng, n):
    # float32 data -> the models' float64
    return A(sample_toy("ring8", n, rng), dtype=backend.default_dtype())


def make_gan(kind):
    backend.seed(lesson.seed)                        # the same initial G and D for both
    G, Dnet = build("mlp2d", (2,), Z, width=WIDTH, depth=3)
    return GAN(G, Dnet, z_dim=Z, loss=kind, lr_g=1e-12, lr_d=2e-3, seed=lesson.seed)


gans, records = {}, {}
for kind in KINDS:
    gans[kind] = make_gan(kind)
    records[kind] = []
    gans[kind].fit(sample_ring, HEAD_START, 128, on_step=records[kind].append)
d_fake = {k: np.array([r["d_fake_after"] for r in records[k]]) for k in KINDS}
norm_g = {k: np.array([r["grad_norm_g"] for r in records[k]]) for k in KINDS}
# D's loss does not depend on G's loss kind, and G is frozen: both runs see the same D.
lesson.check("both runs trained the same D (rel err of D(G(z)) over all steps)",
             rel_error(d_fake["minimax"], d_fake["nonsaturating"]), 1e-6)
ratio = norm_g["nonsaturating"] / norm_g["minimax"]
for i in sorted({0, HEAD_START // 4, HEAD_START // 2, 3 * HEAD_START // 4,
                 HEAD_START - 1}):
    Dm = d_fake["minimax"][i]
    print(f"  step {i + 1:4d}: mean D(G(z)) = {Dm:.2e}   |grad G| minimax "
          f"{norm_g['minimax'][i]:.2e}, "
          f"nonsaturating {norm_g['nonsaturating'][i]:.2e}, "
          f"ratio {ratio[i]:7.1f}   (1 - D)/D = {(1 - Dm) / Dm:7.1f}")
lesson.check_that("at the start (D(G(z)) ~ 0.5) the two gradients are about equal "
                  "(ratio in [0.5, 2])", 0.5 < ratio[0] < 2, f"ratio {ratio[0]:.2f}")
lesson.check_that("D has learned to reject the fakes (final mean D(G(z)) < 0.02)",
                  d_fake["minimax"][-1] < 0.02, f"{d_fake['minimax'][-1]:.1e}")
lesson.check_that("then the minimax gradient has vanished: ratio > 20", ratio[-1] > 20,
                  f"ratio {ratio[-1]:.0f}")

# For ONE fake the ratio is exact: grad_nonsaturating = ((1 - D)/D) grad_minimax.
gan = gans["minimax"]
z = gan.noise(1, backend.rng(123))                   # (1, z_dim)


def g_gradient(kind, z):
    """G's gradient for one batch z, as the trainer's G step computes it: through D,
    into G, starting from GRAD[kind]. -> (vector, D of the first fake)."""
    G, Dnet = gan.G, gan.D
    G.zero_grad()
    logit = Dnet(G(z))                                   # (N, 1)
    grad = A(GRAD[kind](H(logit)))
    # G's step needs D's dL/dx only
    G.backward(Dnet.backward(grad, param_grads=False), input_grad=False)
    vector = np.concatenate([H(g).ravel() for _, _, g in G.parameters()])
    return vector, float(H(sigmoid(logit))[0, 0])


g_mm, D1 = g_gradient("minimax", z)
g_ns, _ = g_gradient("nonsaturating", z)
print(f"  one fake: D(G(z)) = {D1:.3e}, |grad| minimax {np.linalg.norm(g_mm):.3e}, "
      f"nonsaturating {np.linalg.norm(g_ns):.3e}: norm ratio "
      f"{np.linalg.norm(g_ns) / np.linalg.norm(g_mm):.1f}, "
      f"(1 - D)/D = {(1 - D1) / D1:.1f}")
lesson.check("one fake: grad_nonsaturating = ((1 - D)/D) grad_minimax (rel err)",
             rel_error(g_ns, (1 - D1) / D1 * g_mm), 1e-10)

# A BATCH of fakes: each sample's pair of gradients is parallel, but the batch sums
# weight them differently.
NB = 16
z_batch = gan.noise(NB, backend.rng(321))                # (16, z_dim)
per_mm, per_ns, per_D = [], [], []
for i in range(NB):              # one fake at a time (no BatchNorm here: they add up)
    gm, Di = g_gradient("minimax", z_batch[i:i + 1])
    gn, _ = g_gradient("nonsaturating", z_batch[i:i + 1])
    per_mm.append(gm)
    per_ns.append(gn)
    per_D.append(Di)
per_mm, per_ns, per_D = np.array(per_mm), np.array(per_ns), np.array(per_D)
batch_mm, _ = g_gradient("minimax", z_batch)   # the trainer's gradient for the batch
batch_ns, _ = g_gradient("nonsaturating", z_batch)


def angle_degrees(u, v):
    """The angle between two vectors, in degrees (0: parallel), and its cosine."""
    cosine = float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))), cosine


angle, cosine = angle_degrees(batch_mm, batch_ns)
per_angle = max(angle_degrees(per_mm[i], per_ns[i])[0] for i in range(NB))
per_err = max(rel_error(per_ns[i], (1 - per_D[i]) / per_D[i] * per_mm[i])
              for i in range(NB))
print(f"  a batch of {NB} fakes: D(G(z_i)) from {per_D.min():.1e} to "
      f"{per_D.max():.1e}; "
      f"batch gradients minimax vs nonsaturating: cosine {cosine:.4f}, angle "
      f"{angle:.1f} degrees (each fake alone: at most {per_angle:.1e})")
lesson.check(f"each of the {NB} fakes alone: grad_nonsat = ((1 - D_i)/D_i) "
             "grad_minimax (worst rel err)", per_err, 1e-10)
lesson.check("the batch gradient is the mean of the per-sample ones (rel err, minimax "
             "and nonsaturating)",
             max(rel_error(batch_mm, per_mm.mean(axis=0)),
                 rel_error(batch_ns, per_ns.mean(axis=0))), 1e-10)
lesson.check_that("... yet over the batch the two gradients point in DIFFERENT "
                  "directions (angle > 1 degree, cosine < 1)", angle > 1.0,
                  f"angle {angle:.1f} degrees, cosine {cosine:.4f}")

fig, (ax1, ax3, ax2) = plt.subplots(1, 3, figsize=(18, 5))
Dgrid = np.logspace(-5, np.log10(1 - 1e-5), 400)
ax1.loglog(Dgrid, Dgrid, label="minimax: |dL/da| = D (theory)")
ax1.loglog(Dgrid, 1 - Dgrid, label="nonsaturating: |dL/da| = 1 - D (theory)")
ax1.loglog(D[::4], abs(measured["minimax"][::4]), "o", color="tab:blue", markersize=4,
           label="minimax_generator_grad")
ax1.loglog(D[::4], abs(measured["nonsaturating"][::4]), "s", color="tab:orange",
           markersize=4, label="nonsaturating_generator_grad")
ax1.set_xlabel("D(G(z))")
ax1.set_ylabel("|dL_G / d logit| per sample")
ax1.set_title("the gradient G receives, per fake sample")
ax1.legend(fontsize=8)
for k, marker in zip(KINDS, ("o", "s")):
    ax3.loglog(d_fake[k], norm_g[k], marker, markersize=3, alpha=0.6, label=k)
ax3.set_xlabel("mean D(G(z)) after D's step")
ax3.set_ylabel("|grad of L_G w.r.t. G's parameters|")
ax3.set_title("G's gradient norm, measured (as D learns, right to left)")
ax3.legend(fontsize=8)
ax2.loglog(d_fake["minimax"], ratio, "o", markersize=3, alpha=0.6,
           label="measured: |grad nonsat| / |grad minimax|")
dd = np.logspace(np.log10(d_fake["minimax"].min()), np.log10(d_fake["minimax"].max()),
                 100)
ax2.loglog(dd, (1 - dd) / dd, "-", label="(1 - D) / D (exact for one fake)")
ax2.set_xlabel("mean D(G(z)) after D's step")
ax2.set_ylabel("ratio of G's gradient norms")
ax2.set_title(f"a real run: D learns, G frozen ({HEAD_START} steps)")
ax2.legend(fontsize=8)
lesson.savefig(fig, "generator_gradient.png")

# %% [markdown]
# ## Why it matters, and what Adam does (and does not) fix
#
# With plain SGD a 1000x smaller gradient is a 1000x smaller step: the minimax G stays
# stuck while D keeps winning. Adam divides each step by the gradient's own running
# size (lesson 07), so the minimax G does take $lr$-sized steps. But its signal is
# still upside down: weakest ($\sim D$) when G is losing, strongest when G already fools
# D. How Adam's running averages shape the steps that follow is not measured here; what
# the runs below measure is where each G ends.
#
# In the runs below (the same head-started pair, continued with G learning) the
# Adam-trained minimax G does not escape; the non-saturating one, whose signal is
# strongest when G is losing, does. Hence the non-saturating loss is the default
# (minigan's too). Figure `escape.png`.

# %%
LEARN = 90 if lesson.quick else 300
lesson.section(f"3. now G learns ({LEARN} steps): with SGD (lr 0.02) and with Adam "
               "(lr 1e-3)")
escape = {}
for opt_name in ("SGD", "Adam"):
    for kind in KINDS:
        g = copy.deepcopy(gans[kind])        # the same head-started pair, continued
        if opt_name == "SGD":
            g.g_opt = SGD(g.G, lr=0.02)
            g.base_lr = (0.02, g.base_lr[1])
        else:
            g.base_lr = (1e-3, g.base_lr[1])         # the trainer's Adam, woken up
        rec = []
        g.fit(sample_ring, HEAD_START + LEARN, 128, on_step=rec.append)
        escape[(opt_name, kind)] = np.array([r["d_fake_after"] for r in rec])
        print(f"  {opt_name:4s} {kind:13s}: mean D(G(z)) "
              f"{escape[(opt_name, kind)][0]:.1e} -> "
              f"max {escape[(opt_name, kind)].max():.2f} over the next {LEARN} steps")
lesson.check_that("SGD + minimax: G stays stuck (D(G(z)) never above 0.02)",
                  escape[("SGD", "minimax")].max() < 0.02,
                  f"max {escape[('SGD', 'minimax')].max():.1e}")
lesson.check_that("SGD + nonsaturating: G escapes (D(G(z)) above 0.1)",
                  escape[("SGD", "nonsaturating")].max() > 0.1,
                  f"max {escape[('SGD', 'nonsaturating')].max():.2f}")
lesson.check_that("Adam + nonsaturating: G escapes (D(G(z)) above 0.1)",
                  escape[("Adam", "nonsaturating")].max() > 0.1,
                  f"max {escape[('Adam', 'nonsaturating')].max():.2f}")
tail = max(1, LEARN // 5)
late = {k: float(v[-tail:].mean()) for k, v in escape.items()}
lesson.check_that("Adam + minimax: still loses (late mean D(G(z)) < 1/10 of "
                  "nonsaturating's)",
                  late[("Adam", "minimax")] < 0.1 * late[("Adam", "nonsaturating")],
                  f"{late[('Adam', 'minimax')]:.1e} vs "
                  f"{late[('Adam', 'nonsaturating')]:.2f} over the last {tail} steps")

fig, ax = plt.subplots(figsize=(8, 4.5))
for (opt_name, kind), values in escape.items():
    ax.plot(np.arange(1, len(values) + 1), values, "-" if opt_name == "SGD" else "--",
            label=f"G trained with {opt_name}, {kind} loss")
ax.set_yscale("log")
ax.set_xlabel(f"G step (after D's {HEAD_START}-step head start)")
ax.set_ylabel("mean D(G(z))")
ax.set_title("can G escape a confident D?")
ax.legend(fontsize=8)
lesson.savefig(fig, "escape.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Both generator losses push $D(G(z))$ up and agree at the equilibrium. Why, then,
#    does the minimax G get almost no gradient when D confidently rejects its fakes,
#    although $\log(1 - D)$ is not flat as a function of $D$?
# 2. For the single fake of section 2, how much longer is the non-saturating gradient
#    with respect to G's parameters than the minimax one, and why exactly that factor?
# 3. Over a batch the two gradients are not parallel. Which fakes does each loss
#    weight most, and what angle between them did the lesson measure?
# 4. Adam rescales the tiny minimax gradient into $lr$-sized steps. Why does the
#    Adam-trained minimax G still lose in section 3?
#
# Short answers: `lessons/ANSWERS.md`.
