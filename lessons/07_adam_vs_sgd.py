# %% [markdown]
# # Lesson 07 — Adam vs SGD (with and without momentum) on a badly scaled problem
#
# Plain gradient descent takes the same step size in every direction. When the loss is
# a thousand times steeper along one parameter than along another, the step must be
# small enough for the steep one, and then it crawls along the flat one. Momentum
# accumulates speed along the flat direction. Adam divides each parameter's step by a
# running estimate of that parameter's gradient size, so every parameter moves at about
# the same pace, $\sim lr$ per step: multiply one parameter's gradients by any constant
# $c > 0$ and its steps do not change at all (exactly, but for Adam's $\epsilon$). That
# undoes **badly scaled gradients**, which is what networks' parameters have (in the
# digits DCGAN the RMS gradient per weight differs over ten times between layers:
# measured at the end of the lesson).
#
# What Adam is **not** invariant to is a change of a parameter's **units**: write
# $w = a\,u$ and the gradient with respect to $u$ is $a$ times larger, which Adam
# ignores, so $u$ still moves $\sim lr$ per step, and $w$ moves $a \cdot lr$: $lr$ is a
# length in the parameter's own units. Nor does Adam undo a badly conditioned problem
# that is rotated away from the axes. The lesson checks all three.
#
# **Exercise.** Write `adam_step` in `lessons/exercises/07_adam_vs_sgd.py`, then run
# `python lessons/07_adam_vs_sgd.py --exercise`: every Adam run below then takes its
# steps with your function instead of minigan's.
#
# ## The problem: a quadratic bowl, two parameters $w = (w_1, w_2)$
#
# $$f(w) = \tfrac12\,(\lambda_1 w_1^2 + \lambda_2 w_2^2), \qquad
#   \nabla f = (\lambda_1 w_1,\ \lambda_2 w_2), \qquad
#   \lambda_1 = 1,\ \lambda_2 = 1000.$$
#
# The condition number is $\kappa = \lambda_2 / \lambda_1 = 1000$. The minimum is
# $w = 0$; we start at $w = (1, 1)$. The bowl is a minigan `Module` with one parameter
# vector, and minigan's own optimisers, `minigan.optim.SGD` and `minigan.optim.Adam`,
# descend it.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import math

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import rel_error
from minigan.layers import Module
from minigan.optim import SGD, Adam

lesson = Lesson("07_adam_vs_sgd")
minigan.set_default_dtype("float64")
A, H = backend.asarray, backend.to_numpy

L1, L2 = 1.0, 1000.0
KAPPA = L2 / L1
STEPS = 500 if lesson.quick else 1500


def rotation(degrees):
    t = math.radians(degrees)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


class Bowl(Module):
    """f(w) = 0.5 (R w)^T diag(l1, l2) (R w), one parameter "w" of shape (2,).

    R is a rotation (the identity: the axis-aligned bowl).
    """

    def __init__(self, degrees=0.0, lam=(L1, L2), start=(1.0, 1.0)):
        super().__init__()
        self.R = A(rotation(degrees))
        self.lam = A(list(lam))
        # start at (1, 1) in the bowl's own axes
        self.add_param("w", self.R.T @ A(list(start)))

    def loss_and_grad(self):
        """f(w), and grad f = R^T diag(l) R w written into grads["w"].

        The gradient is overwritten, not accumulated: one loss per step.
        """
        u = self.R @ self.params["w"]
        self.grads["w"][...] = self.R.T @ (self.lam * u)
        return 0.5 * float((self.lam * u * u).sum())


def descend(make_optimizer, degrees=0.0, steps=STEPS, **bowl):
    """Losses and the path of w over ``steps`` optimiser steps.

    ``bowl``: Bowl's lam and start.
    """
    bowl = Bowl(degrees, **bowl)
    opt = make_optimizer(bowl)
    losses, path = [], []
    for _ in range(steps):
        path.append(H(bowl.params["w"]).copy())
        losses.append(bowl.loss_and_grad())
        opt.step()
    return np.array(losses), np.array(path)


def sgd(lr):
    return lambda m: SGD(m, lr=lr)


# %% [markdown]
# ## SGD
#
# $w \leftarrow w - lr\,\nabla f$ gives, coordinate by coordinate,
# $w_i \leftarrow (1 - lr\,\lambda_i)\, w_i$.
#
# * It is stable only if $|1 - lr\,\lambda_i| < 1$ for all $i$, that is
#   $lr < 2/\lambda_{max} = 0.002$ (above, $w_2$ explodes).
# * With $lr = 1/\lambda_{max}$, $w_2$ vanishes in one step but $w_1$ shrinks by
#   $1 - 1/\kappa = 0.999$ per step: $\sim\kappa$ steps per factor $e$. The slow
#   direction sets the pace; a larger $lr$ is forbidden by the fast one.

# %%
lesson.section(f"1. SGD on f = 0.5 (w1^2 + {L2:.0f} w2^2)")
lr = 1 / L2
sgd_losses, sgd_path = descend(sgd(lr))
ratio = sgd_path[11:, 0] / sgd_path[10:-1, 0]
lesson.check(f"w1 shrinks by exactly 1 - lr*l1 = {1 - lr * L1} per step (rel err)",
             rel_error(ratio, np.full_like(ratio, 1 - lr * L1)), 1e-12)
lesson.check("w2 is gone after one step, since 1 - lr*l2 = 0 (|w2| at step 1)",
             abs(sgd_path[1, 1]), 1e-15)
too_big, _ = descend(sgd(2.05 / L2), steps=100)
lesson.check_that("lr = 2.05 / l2, just above the limit 2 / l2: diverges",
                  too_big[-1] > 1e3 * too_big[0],
                  f"loss {too_big[0]:.0f} -> {too_big[-1]:.1e} in 100 steps")

# %% [markdown]
# ## SGD with momentum
#
# The heavy ball; minigan's SGD, as torch's:
# $b \leftarrow \mu\, b + \nabla f,\ \ w \leftarrow w - lr\, b$. On a quadratic the best
# constants are
#
# $$lr = \frac{4}{(\sqrt{\lambda_1} + \sqrt{\lambda_2})^2}, \qquad
#   \mu = \Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^2,$$
#
# and then $|w|$ shrinks by $r = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)$ per step, so the
# loss by $r^2$ per step. Here $r = 0.939$ instead of SGD's $0.999$. In steps per
# factor $e$: $\ln r = \ln(1 - x) - \ln(1 + x) \approx -2x$ with $x = 1/\sqrt\kappa$, so
#
# $$-\frac{1}{\ln r} \approx \frac{\sqrt\kappa}{2} = 15.8 \text{ steps},
#   \qquad\text{against SGD's}\qquad
#   -\frac{1}{\ln(1 - 1/\kappa)} \approx \kappa = 1000.$$
#
# This holds in ANY rotated coordinates.
#
# The rate is asymptotic: with these constants the two roots of the heavy ball's
# recurrence coincide, and the steep coordinate first swings far out (the loss rises
# ~100-fold and stays above its start for a few dozen steps) before the geometric decay
# takes over: see `losses.png` and `paths.png`.

# %%
LR_MOM = 4 / (math.sqrt(L1) + math.sqrt(L2)) ** 2
MU = ((math.sqrt(KAPPA) - 1) / (math.sqrt(KAPPA) + 1)) ** 2
R_MOM = (math.sqrt(KAPPA) - 1) / (math.sqrt(KAPPA) + 1)


def momentum(m):
    return SGD(m, lr=LR_MOM, momentum=MU)


lesson.section(f"2. SGD with momentum (lr = {LR_MOM:.2e}, mu = {MU:.4f})")
mom_losses, mom_path = descend(momentum)
# Over the last stretch the loss shrinks ~ r^2 per step (the heavy ball's double root
# adds a factor ~t^2, whose effect per step, (t+1)^2/t^2, is below 1% here).
a, b = STEPS // 2, STEPS - 1
measured = (mom_losses[b] / mom_losses[a]) ** (1 / (b - a))
theory = R_MOM ** 2
print(f"  measured loss factor per step {measured:.4f}, theory r^2 = {theory:.4f} "
      f"(SGD: {(1 - lr * L1) ** 2:.4f})")
lesson.check("momentum's rate vs ((sqrt(kappa)-1)/(sqrt(kappa)+1))^2 (rel err)",
             abs(measured / theory - 1), 0.01)
e_mom, e_sgd = -1 / math.log(R_MOM), -1 / math.log(1 - 1 / KAPPA)
print(f"  steps per factor e of |w|: momentum -1/ln r = {e_mom:.2f} "
      f"(measured {-2 / math.log(measured):.2f}), "
      f"sqrt(kappa)/2 = {math.sqrt(KAPPA) / 2:.2f};  "
      f"SGD -1/ln(1 - 1/kappa) = {e_sgd:.1f}, kappa = {KAPPA:.0f}")
lesson.check("momentum: -1/ln r ~ sqrt(kappa)/2 steps per factor e (rel err)",
             abs(e_mom / (math.sqrt(KAPPA) / 2) - 1), 1e-3)
lesson.check("SGD: -1/ln(1 - 1/kappa) ~ kappa steps per factor e (rel err)",
             abs(e_sgd / KAPPA - 1), 1e-3)
rise = mom_losses.max() / mom_losses[0]
above = int(np.nonzero(mom_losses > mom_losses[0])[0].max()) + 1
lesson.check_that("the transient: the loss first rises ~100-fold (30x to 300x) and "
                  "stays above its start for a few dozen steps (20 to 100)",
                  30 < rise < 300 and 20 <= above <= 100,
                  f"x{rise:.0f}, above its start until step {above}")

# %% [markdown]
# ## Adam
#
# Kingma & Ba; minigan's Adam is torch's, step for step. With $t$ the step's number
# ($t = 1$ for the first step) and $m, v$ starting at $0$:
#
# $$m \leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
#   v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2, \qquad
#   w \leftarrow w - lr\,
#   \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon}.$$
#
# $\epsilon$ is added to the square root, not under it.
#
# **The bias correction, derived.** Unrolled,
#
# $$m_t = (1 - \beta_1) \sum_{k=1}^{t} \beta_1^{t-k} g_k, \qquad
#   v_t = (1 - \beta_2) \sum_{k=1}^{t} \beta_2^{t-k} g_k^2 .$$
#
# For a steady gradient $g_k = g$, the geometric sum
# $(1 - \beta) \sum_{k=1}^{t} \beta^{t-k} = 1 - \beta^t$ gives
# $m_t = (1 - \beta_1^t)\, g$ and $v_t = (1 - \beta_2^t)\, g^2$: both are biased towards
# their zero start, and dividing by $1 - \beta_1^t$ and $1 - \beta_2^t$ removes exactly
# that bias ($\hat m = g$, $\hat v = g^2$).
#
# So at $t = 1$ the step is $-lr\, g/|g| = -lr\,\mathrm{sign}(g)$: **every** parameter
# moves by $lr$, whether its gradient is 1 or 1000 (up to $\epsilon$: the step is
# $lr\,|g|/(|g| + \epsilon)$, so a gradient as small as $\epsilon$ moves by $lr/2$, and
# a zero gradient does not move at all).
#
# One more closed form, which shows the momentum in $m$: a gradient $g$ at step 1, then
# $0$ at step 2. Then $m_2 = \beta_1 (1 - \beta_1)\, g$ and
# $1 - \beta_1^2 = (1 - \beta_1)(1 + \beta_1)$, so $\hat m_2 = \beta_1 g/(1 + \beta_1)$
# and likewise $\hat v_2 = \beta_2 g^2/(1 + \beta_2)$: the second step, with no
# gradient at all, is
#
# $$lr\,\frac{\beta_1/(1 + \beta_1)}{\sqrt{\beta_2/(1 + \beta_2)}}
#   = 0.670\, lr \quad\text{at } (\beta_1, \beta_2) = (0.9, 0.999).$$
#
# (The betas here are torch's defaults, $(0.9, 0.999)$, except in the bias-correction
# check below, which uses the DCGAN paper's $(0.5, 0.999)$: minigan's Adam default and
# its GAN trainer's.)
#
# The cell below is the function the exercise asks for: one Adam step on one parameter.
# Outside exercise mode it is `minigan.optim.Adam` on a one-parameter module, its state
# ($t - 1$ steps taken, $m$, $v$) loaded through `load_state_dict`; with `--exercise`
# it is yours. `AdamByHand` calls it for every parameter, and every Adam run of the
# lesson uses `AdamByHand`.

# %%
def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    """One step of minigan.optim.Adam on one parameter: (new param, new m, new v).

    param, grad, m, v: arrays of one shape; t >= 1, the number of this step.
    """
    module = Module()
    module.add_param("p", A(np.array(param, dtype=np.float64)))
    module.grads["p"][...] = A(grad)
    opt = Adam(module, lr=lr, betas=(beta1, beta2), eps=eps)
    state = opt.state_dict()
    state.update({"step": np.array(t - 1), "m.p": np.asarray(m), "v.p": np.asarray(v)})
    opt.load_state_dict(state)
    opt.step()
    state = opt.state_dict()
    return H(module.params["p"]).copy(), state["m.p"], state["v.p"]


adam_step = lesson.exercises(adam_step)


class AdamByHand:
    """An optimiser like minigan's Adam whose step() calls adam_step per parameter."""

    def __init__(self, module, lr, betas=(0.9, 0.999), eps=1e-8):
        self.module, self.lr, self.betas, self.eps, self.t = module, lr, betas, eps, 0
        self.state = {name: (np.zeros(p.shape), np.zeros(p.shape))
                      for name, p, _ in module.parameters()}

    def step(self):
        self.t += 1
        for name, p, g in self.module.parameters():
            m, v = self.state[name]
            new_p, m, v = adam_step(H(p).copy(), H(g).copy(), m.copy(), v.copy(),
                                    self.t, self.lr, *self.betas, self.eps)
            self.state[name] = (np.asarray(m), np.asarray(v))
            p[...] = A(new_p)


LR_ADAM = 0.1


def adam(m):
    return AdamByHand(m, lr=LR_ADAM, betas=(0.9, 0.999))


def minigan_adam(m):
    return Adam(m, lr=LR_ADAM, betas=(0.9, 0.999))


# %% [markdown]
# First the closed forms above, one step at a time, then Adam on the bowl: its first
# step moves each coordinate by $lr$ although the gradients are $1$ and $1000$.

# %%
lesson.section(f"3. Adam (lr = {LR_ADAM}, betas (0.9, 0.999)), axis-aligned and "
               "rotated by 45 degrees")
EPS_DEFAULT = 1e-8
tiny = np.array([EPS_DEFAULT, 0.0])                      # a gradient of eps, and of 0
p1, _, _ = adam_step(np.zeros(2), tiny, np.zeros(2), np.zeros(2), 1, LR_ADAM,
                     0.9, 0.999, EPS_DEFAULT)
inside = LR_ADAM * EPS_DEFAULT / math.sqrt(EPS_DEFAULT ** 2 + EPS_DEFAULT)
print(f"  first step for gradients {tiny.tolist()} (eps = {EPS_DEFAULT}): "
      f"{(np.zeros(2) - p1).tolist()}; eps under the square root would give "
      f"{inside:.3e}")
lesson.check("a gradient of eps: the first step is lr |g|/(|g| + eps) = lr/2 (rel err)",
             abs(-p1[0] / (LR_ADAM / 2) - 1), 1e-9)
lesson.check_that("a zero gradient: no step (and no 0/0)", p1[1] == 0, f"{p1[1]}")
g0 = np.array([1.0, -1000.0])
p1, m1, v1 = adam_step(np.zeros(2), g0, np.zeros(2), np.zeros(2), 1, LR_ADAM,
                       0.9, 0.999, EPS_DEFAULT)
p2, _, _ = adam_step(p1, np.zeros(2), m1, v1, 2, LR_ADAM, 0.9, 0.999, EPS_DEFAULT)
stop = LR_ADAM * (0.9 / 1.9) / math.sqrt(0.999 / 1.999)
print(f"  gradient {g0.tolist()}, then 0: second step {(p2 - p1).tolist()}, "
      f"closed form {stop / LR_ADAM:.4f} lr = {stop:.6f} against sign(g)")
lesson.check("gradient g then 0: the second step is "
             "lr (b1/(1+b1)) / sqrt(b2/(1+b2)) (rel err)",
             rel_error(p2 - p1, -stop * np.sign(g0)), 1e-6)

adam_losses, adam_path = descend(adam)
first_step = abs(adam_path[1] - adam_path[0])
print(f"  first step |dw| = {first_step.tolist()} for gradients {[L1, L2]}")
lesson.check("first Adam step moves each coordinate by lr, whatever its gradient "
             "(rel err)", rel_error(first_step, np.array([LR_ADAM, LR_ADAM])), 1e-6)
_, minigan_path = descend(minigan_adam)
# (outside --exercise, adam_step IS minigan's Adam: then this is a contract, evidence
# only for a student's function)
lesson.check(f"contract: adam_step, step by step, follows minigan.optim.Adam for "
             f"{STEPS} steps (rel err of the paths)",
             rel_error(adam_path, minigan_path), 1e-9)

# %% [markdown]
# ## How much the bias correction matters
#
# Without it the first step, from $m_1 = (1 - \beta_1)\, g$ and
# $v_1 = (1 - \beta_2)\, g^2$, would be
#
# $$lr\,\frac{(1 - \beta_1)\, g}{\sqrt{(1 - \beta_2)\, g^2}}
#   = lr\,\frac{1 - \beta_1}{\sqrt{1 - \beta_2}}\,\mathrm{sign}(g),$$
#
# $3.2\, lr$ at betas $(0.9, 0.999)$, and $0.5/0.0316 = 15.8\, lr$ at the GAN's
# $(0.5, 0.999)$: a first step 16x too long. For a steady gradient the uncorrected step
# stays $(1 - \beta_1^t)/\sqrt{1 - \beta_2^t}$ times the corrected one: 10.0x at
# $t = 10$, 3.2x at $t = 100$, 1.26x at $t = 1000$; $v$'s bias lasts
# $\sim 1/(1 - \beta_2)$ steps.
#
# The check: the corrected steps (the exercise's function) against the same update
# written here by hand WITHOUT the correction, $m / (\sqrt v + \epsilon)$ with $m, v$
# from zero.

# %%
B1, B2, EPS = 0.5, 0.999, 1e-8


class Steady(Module):
    """A parameter w (2,) whose gradient is always g = (l1, l2): f(w) = g . w."""

    def __init__(self):
        super().__init__()
        self.add_param("w", A([0.0, 0.0]))
        self.grads["w"][...] = A([L1, L2])


steady = Steady()
opt = AdamByHand(steady, lr=LR_ADAM, betas=(B1, B2), eps=EPS)
g = np.array([L1, L2])
m_raw, v_raw, w_prev = np.zeros(2), np.zeros(2), np.zeros(2)
ratios = {}
for t in range(1, 1001):
    opt.step()                                             # the corrected step
    w_now = H(steady.params["w"]).copy()
    m_raw = B1 * m_raw + (1 - B1) * g                      # the uncorrected, by hand
    v_raw = B2 * v_raw + (1 - B2) * g * g
    raw_step = LR_ADAM * m_raw / (np.sqrt(v_raw) + EPS)
    if t in (1, 10, 100, 1000):
        ratios[t] = raw_step / abs(w_now - w_prev)
        if t == 1:
            raw_first, corrected_first = raw_step, abs(w_now - w_prev)
    w_prev = w_now
print(f"  betas ({B1}, {B2}), gradient {g.tolist()}: first step corrected "
      f"{corrected_first.tolist()}, UNcorrected {raw_first.tolist()} = "
      f"{raw_first[0] / LR_ADAM:.2f} lr")
lesson.check("betas (0.5, 0.999): the (corrected) first step = lr in each coordinate "
             "(rel err)", rel_error(corrected_first, np.full(2, LR_ADAM)), 1e-6)
lesson.check("... the UNcorrected first step = lr (1 - b1)/sqrt(1 - b2) = 15.8 lr "
             "(rel err)",
             rel_error(raw_first, np.full(2, LR_ADAM * (1 - B1) / math.sqrt(1 - B2))),
             1e-6)
formula = {t: (1 - B1 ** t) / math.sqrt(1 - B2 ** t) for t in ratios}
print("  uncorrected / corrected step on a steady gradient: "
      + ", ".join(f"t = {t}: {ratios[t][0]:.2f} (formula {formula[t]:.2f})"
                  for t in ratios))
lesson.check("... and at step t it is (1 - b1^t)/sqrt(1 - b2^t) times the corrected "
             "one (worst rel err)",
             max(rel_error(ratios[t], np.full(2, formula[t])) for t in ratios), 1e-6)

# %% [markdown]
# ## Invariant to the gradient's scale, not to the units
#
# After the first step, $\hat m / \sqrt{\hat v}$ stays a ratio of a gradient to its own
# typical size: if every gradient of a parameter is multiplied by $c > 0$, $m$ by $c$
# and $v$ by $c^2$, and $\hat m / \sqrt{\hat v}$ does not change ($\epsilon$ aside; the
# check runs with $\epsilon = 0$, so that it is exact up to rounding). That is the
# invariance that fixes badly scaled gradients. We check it on the bowl: with
# $\lambda_2 = 1$ instead of $1000$, $w_2$'s gradient is 1000x smaller at every point,
# and Adam's path is the same.
#
# Changing $w_2$'s units ($w_2 = a\,u_2$, Adam run on $u_2$) is NOT the same thing: the
# gradient with respect to $u_2$ is scaled too, but the path in $w_2$ changes, and the
# first step in $w_2$ is $a \cdot lr$.

# %%
def exact_adam(m):
    return AdamByHand(m, lr=LR_ADAM, betas=(0.9, 0.999), eps=0.0)


_, path_1000 = descend(exact_adam, lam=(L1, L2))
# w2's gradient 1000x smaller at every point
_, path_1 = descend(exact_adam, lam=(L1, 1.0))
lesson.check("Adam: w2's gradient 1000x smaller everywhere (l2 = 1 instead of 1000): "
             "the same path (rel err)", rel_error(path_1, path_1000), 1e-9)
sgd_1000 = descend(sgd(lr), lam=(L1, L2))[1]
sgd_1 = descend(sgd(lr), lam=(L1, 1.0))[1]
lesson.check_that("... while SGD's path changes (w2 gone in one step vs barely moving)",
                  rel_error(sgd_1, sgd_1000) > 0.1,
                  f"rel err {rel_error(sgd_1, sgd_1000):.2f}")
UNITS = 10.0                             # w2 = a u2: Adam run on u = (w1, w2 / a)
_, path_u = descend(exact_adam, lam=(L1, L2 * UNITS ** 2), start=(1.0, 1.0 / UNITS))
path_w_from_u = path_u * np.array([1.0, UNITS])
step_w2 = abs(path_w_from_u[1, 1] - path_w_from_u[0, 1])
lesson.check_that(f"Adam is NOT invariant to w2's units (w2 = {UNITS:.0f} u2): its "
                  f"first step in w2 is a*lr = {UNITS * LR_ADAM}, not lr, and the "
                  "path differs",
                  abs(step_w2 / (UNITS * LR_ADAM) - 1) < 1e-6
                  and rel_error(path_w_from_u, path_1000) > 0.1,
                  f"step {step_w2:.4f}, path rel err "
                  f"{rel_error(path_w_from_u, path_1000):.2f}")

# %% [markdown]
# ## But it is per coordinate
#
# Rotate the bowl by 45 degrees,
# $f(w) = \tfrac12 (Rw)^\top \mathrm{diag}(\lambda)\,(Rw)$: the steep and flat
# directions are now mixes of $w_1$ and $w_2$, both coordinates see both scales, and
# Adam is back to crawling, while SGD and momentum do not notice the rotation at all.

# %%
adam_rot, adam_rot_path = descend(adam, degrees=45)
sgd_rot, _ = descend(sgd(lr), degrees=45)
mom_rot, _ = descend(momentum, degrees=45)
final = {"SGD": sgd_losses[-1], "SGD+momentum": mom_losses[-1], "Adam": adam_losses[-1],
         "Adam, rotated bowl": adam_rot[-1], "SGD, rotated bowl": sgd_rot[-1]}
for k, v in final.items():
    print(f"  loss after {STEPS} steps, {k:20s} {v:.2e}")
lesson.check_that("Adam beats plain SGD by over 6 orders of magnitude (axis-aligned)",
                  adam_losses[-1] < 1e-6 * sgd_losses[-1],
                  f"{adam_losses[-1]:.1e} < 1e-6 x {sgd_losses[-1]:.1e}")
lesson.check_that("rotated by 45 degrees, Adam loses that edge (final loss > 1e3 x "
                  "axis-aligned)", adam_rot[-1] > 1e3 * adam_losses[-1],
                  f"{adam_rot[-1]:.1e} vs {adam_losses[-1]:.1e}")
lesson.check("SGD does not notice the rotation (rel err of the two loss curves)",
             rel_error(sgd_rot, sgd_losses), 1e-9)
lesson.check("neither does momentum (rel err of the two loss curves)",
             rel_error(mom_rot, mom_losses), 1e-9)

fig, ax = plt.subplots(figsize=(8, 5))
ax.semilogy(sgd_losses, label="SGD, lr = 1/l2")
ax.semilogy(mom_losses, label="SGD + momentum (optimal lr, mu)")
ax.semilogy(adam_losses, label=f"Adam, lr = {LR_ADAM}")
ax.semilogy(adam_rot, "--", label="Adam, bowl rotated 45 deg")
ax.semilogy(sgd_rot, ":", color="tab:blue",
            label="SGD, bowl rotated 45 deg (same curve)")
ax.set_xlabel("step")
ax.set_ylabel("f(w)")
ax.set_ylim(max(1e-22, min(adam_losses.min(), mom_losses.min()) / 10), 1e6)
ax.set_title(f"f = 0.5 (w1^2 + {L2:.0f} w2^2): kappa = {KAPPA:.0f}")
ax.legend(fontsize=8)
lesson.savefig(fig, "losses.png")

fig, axes = plt.subplots(1, 3, figsize=(17, 5.5))
panels = [(axes[0], 0,
           [("SGD", sgd_path, "tab:blue"), ("Adam", adam_path, "tab:green")],
           1.3, "axis-aligned bowl"),
          (axes[1], 0, [("SGD + momentum", mom_path, "tab:orange")], None,
           "axis-aligned bowl, momentum"),
          (axes[2], 45, [("Adam", adam_rot_path, "tab:red")], 1.3,
           "the same bowl rotated 45 degrees")]
for ax, degrees, paths, lim, title in panels:
    if lim is None:  # momentum overshoots far along w2 first: show all of its path
        lim = 1.1 * max(abs(p[:80]).max() for _, p, _ in paths)
    grid = np.linspace(-lim, lim, 300)
    W1, W2 = np.meshgrid(grid, grid)
    Rm = rotation(degrees)
    U1, U2 = Rm[0, 0] * W1 + Rm[0, 1] * W2, Rm[1, 0] * W1 + Rm[1, 1] * W2
    ax.contour(W1, W2, 0.5 * (L1 * U1 ** 2 + L2 * U2 ** 2),
               levels=np.logspace(-2, 5, 15), colors="lightgray")
    for label, path, color in paths:
        ax.plot(path[:80, 0], path[:80, 1], ".-", color=color, markersize=3,
                linewidth=0.8, label=f"{label} (first 80 steps)")
    ax.plot(1, 1, "ko", markersize=5) if degrees == 0 else None
    ax.plot(0, 0, "k*", markersize=10)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal" if lim < 2 else "auto")
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower left")
lesson.savefig(fig, "paths.png")

# %% [markdown]
# ## Badly scaled gradients in a real GAN
#
# The introduction said a GAN's layers see gradients of very different sizes. Measured
# here on the digits DCGAN (`minigan.models.build("dcgan", (1, 8, 8), 100)`, the
# default networks of `minigan train`) after one training step on 64 digits: the
# root-mean-square gradient per weight of each weight array of G and of D. With SGD,
# one learning rate would have to suit the layer with the largest gradients; Adam
# gives every layer steps of $\sim lr$.

# %%
lesson.section("4. gradient sizes by layer in the digits DCGAN")
from minigan.data import load_digits  # noqa: E402
from minigan.models import build  # noqa: E402
from minigan.train import GAN  # noqa: E402

backend.seed(lesson.seed)
G, D = build("dcgan", (1, 8, 8), 100)
GAN(G, D, 100, seed=lesson.seed).train_step(
    backend.asarray(load_digits()[0][:64], dtype=G.dtype))
spread = {}
for name, model in (("G", G), ("D", D)):
    rms = {k: float(np.sqrt((backend.to_numpy(g) ** 2).mean()))
           for k, _, g in model.parameters() if k.endswith("W")}
    spread[name] = max(rms.values()) / min(rms.values())
    print(f"  {name}: " + ", ".join(f"{k} {v:.1e}" for k, v in rms.items())
          + f"  (largest / smallest {spread[name]:.0f}x)")
lesson.check_that("the RMS gradient per weight differs by over 5x between the "
                  "layers of G and between those of D",
                  min(spread.values()) > 5,
                  ", ".join(f"{k} {v:.0f}x" for k, v in spread.items()))

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. On the bowl, Adam's first step moves both coordinates by $lr$ although their
#    gradients are $1$ and $1000$. Why? How long would the first step be without the
#    bias correction at the GAN's betas $(0.5, 0.999)$?
# 2. Multiplying $w_2$'s gradient by $1/1000$ everywhere leaves Adam's path unchanged,
#    yet writing $w_2 = 10\,u_2$ changes it. What is the difference between the two?
# 3. Why does rotating the bowl by 45 degrees cost Adam its edge, while SGD's and
#    momentum's loss curves do not change at all?
# 4. With $\epsilon = 10^{-8}$, how far does a first step move a parameter whose
#    gradient is $10^{-8}$? And if $\epsilon$ were put under the square root?
#
# Short answers: `lessons/ANSWERS.md`.
