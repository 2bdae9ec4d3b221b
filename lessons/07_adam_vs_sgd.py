"""Lesson 07 — Adam vs SGD (with and without momentum) on a badly scaled problem.

THE IDEA
--------
Plain gradient descent takes the same step size in every direction. When the loss is a thousand times
steeper along one parameter than along another, the step must be small enough for the steep one, and
then it crawls along the flat one. Momentum accumulates speed along the flat direction. Adam divides
each parameter's step by a running estimate of that parameter's gradient size, so every parameter
moves at about the same pace, ~lr per step: multiply one parameter's gradients by any constant c > 0
and its steps do not change at all (exactly, but for Adam's eps). That undoes BADLY SCALED GRADIENTS,
which is what networks' parameters have (a GAN's last Dense layer and first conv see gradients of very
different sizes). What Adam is NOT invariant to is a change of a parameter's UNITS: write w = a u and
the gradient w.r.t. u is a times larger, which Adam ignores, so u still moves ~lr per step, and w
moves a * lr: lr is a length in the parameter's own units. Nor does Adam undo a badly conditioned
problem that is rotated away from the axes. The lesson checks all three.

THE PROBLEM: a quadratic bowl, two parameters w = (w1, w2)
    f(w) = 0.5 * (l1 * w1^2 + l2 * w2^2),    grad f = (l1 * w1, l2 * w2),    l1 = 1, l2 = 1000
The condition number is kappa = l2 / l1 = 1000. The minimum is w = 0; we start at w = (1, 1).

SGD:  w <- w - lr * grad f   gives, coordinate by coordinate,  w_i <- (1 - lr * l_i) w_i.
  * stable only if |1 - lr * l_i| < 1 for all i, that is lr < 2 / l_max = 0.002 (above, w2 explodes);
  * with lr = 1 / l_max, w2 vanishes in one step but w1 shrinks by (1 - 1/kappa) = 0.999 per step:
    ~kappa steps per factor e. The slow direction sets the pace; a larger lr is forbidden by the fast one.
SGD WITH MOMENTUM (heavy ball; minigan's SGD, as torch's: buf <- mu * buf + grad, w <- w - lr * buf):
  on a quadratic, the best constants are lr = 4 / (sqrt(l1) + sqrt(l2))^2, mu = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2,
  and then |w| shrinks by r = (sqrt(kappa) - 1)/(sqrt(kappa) + 1) per step, so the loss by r^2 per step.
  Here r = 0.939 instead of SGD's 0.999. In steps per factor e: ln r = ln(1 - x) - ln(1 + x) ~ -2x with
  x = 1/sqrt(kappa), so -1/ln r ~ sqrt(kappa)/2 = 15.8 steps, against SGD's -1/ln(1 - 1/kappa) ~ kappa
  = 1000. This holds in ANY rotated coordinates.
  The rate is asymptotic: with these constants the two roots of the heavy ball's recurrence coincide,
  and the steep coordinate first swings far out (the loss rises ~100-fold and stays above its start for
  a few dozen steps) before the geometric decay takes over: see losses.png and paths.png.
ADAM (Kingma & Ba; minigan's Adam is torch's, step for step):
    m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,   w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
  THE BIAS CORRECTION, derived. m and v start at 0, and unrolled
      m_t = (1 - b1) sum_{k=1..t} b1^(t-k) g_k,      v_t = (1 - b2) sum_{k=1..t} b2^(t-k) g_k^2.
  For a steady gradient g_k = g, the geometric sum (1 - b) sum_{k=1..t} b^(t-k) = 1 - b^t gives
      m_t = (1 - b1^t) g,      v_t = (1 - b2^t) g^2:
  both are biased towards their zero start, and dividing by (1 - b1^t), (1 - b2^t) removes exactly that
  bias (m_hat = g, v_hat = g^2). Without it the first step, from m_1 = (1 - b1) g and v_1 = (1 - b2) g^2,
  would be
      lr (1 - b1) g / sqrt((1 - b2) g^2) = lr (1 - b1)/sqrt(1 - b2) sign(g)
  = 3.2 lr at betas (0.9, 0.999), and 0.5/0.0316 = 15.8 lr at the GAN's (0.5, 0.999): a first step 16x
  too long. For a steady gradient the uncorrected step stays (1 - b1^t)/sqrt(1 - b2^t) times the
  corrected one: 10.0x at t = 10, 3.2x at t = 100, 1.26x at t = 1000; v's bias lasts ~1/(1 - b2) steps.
  At t = 1, m_hat = g and v_hat = g^2, so the first step is -lr * g / |g| = -lr * sign(g): EVERY parameter
  moves by lr, whether its gradient is 1 or 1000. Later, m_hat / sqrt(v_hat) stays a ratio of a gradient
  to its own typical size: if every gradient of a parameter is multiplied by c > 0, m by c and v by c^2,
  and m_hat / sqrt(v_hat) does not change (eps aside). That is the invariance that fixes badly scaled
  gradients. We check it on the bowl: with l2 = 1 instead of 1000, w2's gradient is 1000x smaller at
  every point, and Adam's path is the same. Changing w2's units (w2 = a u2, Adam run on u2) is NOT the
  same thing: the gradient w.r.t. u2 is scaled too, but the path in w2 changes, and the first step in
  w2 is a * lr.
  But it is per COORDINATE. Rotate the bowl by 45 degrees, f(w) = 0.5 (Rw)^T diag(l) (Rw): the steep and
  flat directions are now mixes of w1 and w2, both coordinates see both scales, and Adam is back to
  crawling, while SGD and momentum do not notice the rotation at all.
(Betas here are torch's defaults, (0.9, 0.999), except in the bias-correction check, which uses the
DCGAN paper's (0.5, 0.999): minigan's Adam default and its GAN trainer's.)

WHAT THE LESSON DOES, with minigan.optim.SGD and minigan.optim.Adam on a one-parameter-vector Module
  1. SGD: the measured per-step factor of w1 equals 1 - lr * l1; lr just above 2 / l2 diverges;
  2. momentum: the measured rate equals (sqrt(kappa) - 1)/(sqrt(kappa) + 1), ~sqrt(kappa)/2 steps per
     factor e (SGD: ~kappa), after a transient in which the loss first rises ~100-fold;
  3. Adam: the first step moves every coordinate by lr (to 1e-8: eps); without the bias correction, by
     15.8 lr at betas (0.5, 0.999) (and the ratio at t = 10, 100, 1000 as derived, on a steady gradient);
     its path does not change when w2's gradient is scaled by 1/1000, and does change with w2's units;
     Adam beats SGD by many orders of magnitude on the axis-aligned bowl, and loses that edge on the
     rotated one, where SGD is unchanged;
  figures: loss curves (losses.png) and paths on the contours (paths.png).
Run:  python lessons/07_adam_vs_sgd.py [--quick] [--backend cupy] [--out DIR]
"""
from _common import Lesson, plt  # first: sets up the path, BLAS threads, matplotlib's Agg backend

import math

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import rel_error
from minigan.layers import Module
from minigan.optim import SGD, Adam

lesson = Lesson(__file__, __doc__)
minigan.set_default_dtype("float64")
A, H = backend.asarray, backend.to_numpy

L1, L2 = 1.0, 1000.0
KAPPA = L2 / L1
STEPS = 500 if lesson.quick else 1500


def rotation(degrees):
    t = math.radians(degrees)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


class Bowl(Module):
    """f(w) = 0.5 (R w)^T diag(l1, l2) (R w), one parameter "w" of shape (2,); R a rotation (I: axis-aligned)."""

    def __init__(self, degrees=0.0, lam=(L1, L2), start=(1.0, 1.0)):
        super().__init__()
        self.R = A(rotation(degrees))
        self.lam = A(list(lam))
        self.add_param("w", self.R.T @ A(list(start)))     # start at (1, 1) in the bowl's own axes

    def loss_and_grad(self):
        """f(w), and grad f = R^T diag(l) R w written into grads["w"] (overwritten: one loss per step)."""
        u = self.R @ self.params["w"]
        self.grads["w"][...] = self.R.T @ (self.lam * u)
        return 0.5 * float((self.lam * u * u).sum())


def descend(make_optimizer, degrees=0.0, steps=STEPS, **bowl):
    """Losses and the path of w over ``steps`` optimiser steps (``bowl``: Bowl's lam and start)."""
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


LR_MOM = 4 / (math.sqrt(L1) + math.sqrt(L2)) ** 2
MU = ((math.sqrt(KAPPA) - 1) / (math.sqrt(KAPPA) + 1)) ** 2
R_MOM = (math.sqrt(KAPPA) - 1) / (math.sqrt(KAPPA) + 1)
LR_ADAM = 0.1


def momentum(m):
    return SGD(m, lr=LR_MOM, momentum=MU)


def adam(m):
    return Adam(m, lr=LR_ADAM, betas=(0.9, 0.999))


# ---------------------------------------------------------------------------------------------
lesson.section(f"1. SGD on f = 0.5 (w1^2 + {L2:.0f} w2^2)")
lr = 1 / L2
sgd_losses, sgd_path = descend(sgd(lr))
ratio = sgd_path[11:, 0] / sgd_path[10:-1, 0]
lesson.check(f"w1 shrinks by exactly 1 - lr*l1 = {1 - lr * L1} per step (rel err)",
             rel_error(ratio, np.full_like(ratio, 1 - lr * L1)), 1e-12)
lesson.check("w2 is gone after one step, since 1 - lr*l2 = 0 (|w2| at step 1)", abs(sgd_path[1, 1]), 1e-15)
too_big, _ = descend(sgd(2.05 / L2), steps=100)
lesson.check_that("lr = 2.05 / l2, just above the limit 2 / l2: diverges", too_big[-1] > 1e3 * too_big[0],
                  f"loss {too_big[0]:.0f} -> {too_big[-1]:.1e} in 100 steps")

# ---------------------------------------------------------------------------------------------
lesson.section(f"2. SGD with momentum (lr = {LR_MOM:.2e}, mu = {MU:.4f})")
mom_losses, mom_path = descend(momentum)
# Over the last stretch the loss shrinks ~ r^2 per step (the heavy ball's double root adds a factor ~t^2,
# whose effect per step, (t+1)^2/t^2, is below 1% here).
a, b = STEPS // 2, STEPS - 1
measured = (mom_losses[b] / mom_losses[a]) ** (1 / (b - a))
theory = R_MOM ** 2
print(f"  measured loss factor per step {measured:.4f}, theory r^2 = {theory:.4f} "
      f"(SGD: {(1 - lr * L1) ** 2:.4f})")
lesson.check("momentum's rate vs ((sqrt(kappa)-1)/(sqrt(kappa)+1))^2 (rel err)", abs(measured / theory - 1), 0.01)
e_mom, e_sgd = -1 / math.log(R_MOM), -1 / math.log(1 - 1 / KAPPA)
print(f"  steps per factor e of |w|: momentum -1/ln r = {e_mom:.2f} (measured {-2 / math.log(measured):.2f}), "
      f"sqrt(kappa)/2 = {math.sqrt(KAPPA) / 2:.2f};  SGD -1/ln(1 - 1/kappa) = {e_sgd:.1f}, kappa = {KAPPA:.0f}")
lesson.check("momentum: -1/ln r ~ sqrt(kappa)/2 steps per factor e (rel err)",
             abs(e_mom / (math.sqrt(KAPPA) / 2) - 1), 1e-3)
lesson.check("SGD: -1/ln(1 - 1/kappa) ~ kappa steps per factor e (rel err)", abs(e_sgd / KAPPA - 1), 1e-3)
rise = mom_losses.max() / mom_losses[0]
above = int(np.nonzero(mom_losses > mom_losses[0])[0].max()) + 1
lesson.check_that("the transient: the loss first rises ~100-fold (30x to 300x) and stays above its start "
                  "for a few dozen steps (20 to 100)", 30 < rise < 300 and 20 <= above <= 100,
                  f"x{rise:.0f}, above its start until step {above}")

# ---------------------------------------------------------------------------------------------
lesson.section(f"3. Adam (lr = {LR_ADAM}, betas (0.9, 0.999)), axis-aligned and rotated by 45 degrees")
adam_losses, adam_path = descend(adam)
first_step = abs(adam_path[1] - adam_path[0])
print(f"  first step |dw| = {first_step.tolist()} for gradients {[L1, L2]}")
lesson.check("first Adam step moves each coordinate by lr, whatever its gradient (rel err)",
             rel_error(first_step, np.array([LR_ADAM, LR_ADAM])), 1e-6)

# The bias correction, at the GAN's betas (0.5, 0.999): minigan's Adam vs the same update written here
# by hand WITHOUT the correction, m / (sqrt(v) + eps) with m, v from zero.
B1, B2, EPS = 0.5, 0.999, 1e-8


class Steady(Module):
    """A parameter w (2,) whose gradient is always the same g = (l1, l2): f(w) = g . w."""

    def __init__(self):
        super().__init__()
        self.add_param("w", A([0.0, 0.0]))
        self.grads["w"][...] = A([L1, L2])


steady = Steady()
opt = Adam(steady, lr=LR_ADAM, betas=(B1, B2), eps=EPS)
g = np.array([L1, L2])
m_raw, v_raw, w_prev = np.zeros(2), np.zeros(2), np.zeros(2)
ratios = {}
for t in range(1, 1001):
    opt.step()                                             # minigan's corrected step
    w_now = H(steady.params["w"]).copy()
    m_raw = B1 * m_raw + (1 - B1) * g                      # the uncorrected one, by hand
    v_raw = B2 * v_raw + (1 - B2) * g * g
    raw_step = LR_ADAM * m_raw / (np.sqrt(v_raw) + EPS)
    if t in (1, 10, 100, 1000):
        ratios[t] = raw_step / abs(w_now - w_prev)
        if t == 1:
            raw_first, corrected_first = raw_step, abs(w_now - w_prev)
    w_prev = w_now
print(f"  betas ({B1}, {B2}), gradient {g.tolist()}: first step corrected {corrected_first.tolist()}, "
      f"UNcorrected {raw_first.tolist()} = {raw_first[0] / LR_ADAM:.2f} lr")
lesson.check("betas (0.5, 0.999): minigan's (corrected) first step = lr in each coordinate (rel err)",
             rel_error(corrected_first, np.full(2, LR_ADAM)), 1e-6)
lesson.check("... the UNcorrected first step = lr (1 - b1)/sqrt(1 - b2) = 15.8 lr (rel err)",
             rel_error(raw_first, np.full(2, LR_ADAM * (1 - B1) / math.sqrt(1 - B2))), 1e-6)
formula = {t: (1 - B1 ** t) / math.sqrt(1 - B2 ** t) for t in ratios}
print("  uncorrected / corrected step on a steady gradient: "
      + ", ".join(f"t = {t}: {ratios[t][0]:.2f} (formula {formula[t]:.2f})" for t in ratios))
lesson.check("... and at step t it is (1 - b1^t)/sqrt(1 - b2^t) times the corrected one (worst rel err)",
             max(rel_error(ratios[t], np.full(2, formula[t])) for t in ratios), 1e-6)

# Invariance to the gradient's scale (eps = 0, so that it is exact up to rounding), and not to units.
def exact_adam(m):
    return Adam(m, lr=LR_ADAM, betas=(0.9, 0.999), eps=0.0)


_, path_1000 = descend(exact_adam, lam=(L1, L2))
_, path_1 = descend(exact_adam, lam=(L1, 1.0))            # w2's gradient 1000x smaller at every point
lesson.check("Adam: w2's gradient 1000x smaller everywhere (l2 = 1 instead of 1000): the same path (rel err)",
             rel_error(path_1, path_1000), 1e-9)
sgd_1000, sgd_1 = descend(sgd(lr), lam=(L1, L2))[1], descend(sgd(lr), lam=(L1, 1.0))[1]
lesson.check_that("... while SGD's path changes (w2 gone in one step vs barely moving)",
                  rel_error(sgd_1, sgd_1000) > 0.1,
                  f"rel err {rel_error(sgd_1, sgd_1000):.2f}")
UNITS = 10.0                                               # w2 = a u2: Adam run on u = (w1, w2 / a)
_, path_u = descend(exact_adam, lam=(L1, L2 * UNITS ** 2), start=(1.0, 1.0 / UNITS))
path_w_from_u = path_u * np.array([1.0, UNITS])
step_w2 = abs(path_w_from_u[1, 1] - path_w_from_u[0, 1])
lesson.check_that(f"Adam is NOT invariant to w2's units (w2 = {UNITS:.0f} u2): its first step in w2 is "
                  f"a*lr = {UNITS * LR_ADAM}, not lr, and the path differs",
                  abs(step_w2 / (UNITS * LR_ADAM) - 1) < 1e-6 and rel_error(path_w_from_u, path_1000) > 0.1,
                  f"step {step_w2:.4f}, path rel err {rel_error(path_w_from_u, path_1000):.2f}")
adam_rot, adam_rot_path = descend(adam, degrees=45)
sgd_rot, _ = descend(sgd(lr), degrees=45)
mom_rot, _ = descend(momentum, degrees=45)
final = {"SGD": sgd_losses[-1], "SGD+momentum": mom_losses[-1], "Adam": adam_losses[-1],
         "Adam, rotated bowl": adam_rot[-1], "SGD, rotated bowl": sgd_rot[-1]}
for k, v in final.items():
    print(f"  loss after {STEPS} steps, {k:20s} {v:.2e}")
lesson.check_that("Adam beats plain SGD by over 6 orders of magnitude (axis-aligned)",
                  adam_losses[-1] < 1e-6 * sgd_losses[-1], f"{adam_losses[-1]:.1e} < 1e-6 x {sgd_losses[-1]:.1e}")
lesson.check_that("rotated by 45 degrees, Adam loses that edge (final loss > 1e3 x axis-aligned)",
                  adam_rot[-1] > 1e3 * adam_losses[-1], f"{adam_rot[-1]:.1e} vs {adam_losses[-1]:.1e}")
lesson.check("SGD does not notice the rotation (rel err of the two loss curves)", rel_error(sgd_rot, sgd_losses), 1e-9)
lesson.check("neither does momentum (rel err of the two loss curves)", rel_error(mom_rot, mom_losses), 1e-9)

fig, ax = plt.subplots(figsize=(8, 5))
ax.semilogy(sgd_losses, label="SGD, lr = 1/l2")
ax.semilogy(mom_losses, label="SGD + momentum (optimal lr, mu)")
ax.semilogy(adam_losses, label=f"Adam, lr = {LR_ADAM}")
ax.semilogy(adam_rot, "--", label="Adam, bowl rotated 45 deg")
ax.semilogy(sgd_rot, ":", color="tab:blue", label="SGD, bowl rotated 45 deg (same curve)")
ax.set_xlabel("step")
ax.set_ylabel("f(w)")
ax.set_ylim(max(1e-22, min(adam_losses.min(), mom_losses.min()) / 10), 1e6)
ax.set_title(f"f = 0.5 (w1^2 + {L2:.0f} w2^2): kappa = {KAPPA:.0f}")
ax.legend(fontsize=8)
lesson.savefig(fig, "losses.png")

fig, axes = plt.subplots(1, 3, figsize=(17, 5.5))
panels = [(axes[0], 0, [("SGD", sgd_path, "tab:blue"), ("Adam", adam_path, "tab:green")], 1.3, "axis-aligned bowl"),
          (axes[1], 0, [("SGD + momentum", mom_path, "tab:orange")], None, "axis-aligned bowl, momentum"),
          (axes[2], 45, [("Adam", adam_rot_path, "tab:red")], 1.3, "the same bowl rotated 45 degrees")]
for ax, degrees, paths, lim, title in panels:
    if lim is None:  # momentum overshoots far along w2 first: show all of its path
        lim = 1.1 * max(abs(p[:80]).max() for _, p, _ in paths)
    grid = np.linspace(-lim, lim, 300)
    W1, W2 = np.meshgrid(grid, grid)
    Rm = rotation(degrees)
    U1, U2 = Rm[0, 0] * W1 + Rm[0, 1] * W2, Rm[1, 0] * W1 + Rm[1, 1] * W2
    ax.contour(W1, W2, 0.5 * (L1 * U1 ** 2 + L2 * U2 ** 2), levels=np.logspace(-2, 5, 15), colors="lightgray")
    for label, path, color in paths:
        ax.plot(path[:80, 0], path[:80, 1], ".-", color=color, markersize=3, linewidth=0.8,
                label=f"{label} (first 80 steps)")
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

lesson.finish()
