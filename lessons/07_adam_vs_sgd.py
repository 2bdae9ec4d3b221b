"""Lesson 07 — Adam vs SGD (with and without momentum) on a badly scaled problem.

THE IDEA
--------
Plain gradient descent takes the same step size in every direction. When the loss is a thousand times
steeper along one parameter than along another, the step must be small enough for the steep one, and
then it crawls along the flat one. Momentum accumulates speed along the flat direction. Adam divides
each parameter's step by a running estimate of that parameter's gradient size, so every parameter
moves at about the same pace: it undoes BAD SCALING (different units per parameter), which is what
networks' parameters have (a GAN's last Dense layer and first conv see gradients of very different sizes).
It does not undo a badly conditioned problem that is rotated away from the axes: we show that too.

THE PROBLEM: a quadratic bowl, two parameters w = (w1, w2)
    f(w) = 0.5 * (l1 * w1^2 + l2 * w2^2),    grad f = (l1 * w1, l2 * w2),    l1 = 1, l2 = 1000
The condition number is kappa = l2 / l1 = 1000. The minimum is w = 0; we start at w = (1, 1).

SGD:  w <- w - lr * grad f   gives, coordinate by coordinate,  w_i <- (1 - lr * l_i) w_i.
  * stable only if |1 - lr * l_i| < 1 for all i, that is lr < 2 / l_max = 0.002 (above, w2 explodes);
  * with lr = 1 / l_max, w2 vanishes in one step but w1 shrinks by (1 - 1/kappa) = 0.999 per step:
    ~kappa steps per factor e. The slow direction sets the pace; a larger lr is forbidden by the fast one.
SGD WITH MOMENTUM (heavy ball; minigan's SGD, as torch's: buf <- mu * buf + grad, w <- w - lr * buf):
  on a quadratic, the best constants are lr = 4 / (sqrt(l1) + sqrt(l2))^2, mu = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2,
  and then |w| shrinks by r = (sqrt(kappa) - 1)/(sqrt(kappa) + 1) per step (~sqrt(kappa) steps per factor e,
  here 0.939 instead of 0.999), so the loss by r^2 per step. This holds in ANY rotated coordinates.
  The rate is asymptotic: with these constants the two roots of the heavy ball's recurrence coincide,
  and the steep coordinate first swings far out (the loss rises ~100-fold for a few dozen steps) before
  the geometric decay takes over: see losses.png and paths.png.
ADAM (Kingma & Ba; minigan's Adam is torch's, step for step):
    m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,   w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
  At t = 1, m_hat = g and v_hat = g^2, so the first step is -lr * g / |g| = -lr * sign(g): EVERY parameter
  moves by lr, whether its gradient is 1 or 1000. Later, m_hat / sqrt(v_hat) stays a ratio of a gradient
  to its own typical size: multiplying a parameter's gradients by 1000 changes nothing. That is the
  invariance that fixes bad scaling.
  But it is per COORDINATE. Rotate the bowl by 45 degrees, f(w) = 0.5 (Rw)^T diag(l) (Rw): the steep and
  flat directions are now mixes of w1 and w2, both coordinates see both scales, and Adam is back to
  crawling, while SGD and momentum do not notice the rotation at all.
(Betas here are torch's defaults, (0.9, 0.999); minigan's GAN trainer uses the DCGAN paper's
(0.5, 0.999).)

WHAT THE LESSON DOES, with minigan.optim.SGD and minigan.optim.Adam on a one-parameter-vector Module
  1. SGD: the measured per-step factor of w1 equals 1 - lr * l1; lr just above 2 / l2 diverges;
  2. momentum: the measured rate equals (sqrt(kappa) - 1)/(sqrt(kappa) + 1);
  3. Adam: the first step moves every coordinate by exactly lr; Adam beats SGD by many orders of
     magnitude on the axis-aligned bowl, and loses that edge on the rotated one, where SGD is unchanged;
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

    def __init__(self, degrees=0.0):
        super().__init__()
        self.R = A(rotation(degrees))
        self.lam = A([L1, L2])
        self.add_param("w", self.R.T @ A([1.0, 1.0]))      # start at (1, 1) in the bowl's own axes

    def loss_and_grad(self):
        """f(w), and grad f = R^T diag(l) R w written into grads["w"] (overwritten: one loss per step)."""
        u = self.R @ self.params["w"]
        self.grads["w"][...] = self.R.T @ (self.lam * u)
        return 0.5 * float((self.lam * u * u).sum())


def descend(make_optimizer, degrees=0.0, steps=STEPS):
    """Losses and the path of w over ``steps`` optimiser steps."""
    bowl = Bowl(degrees)
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

# ---------------------------------------------------------------------------------------------
lesson.section(f"3. Adam (lr = {LR_ADAM}, betas (0.9, 0.999)), axis-aligned and rotated by 45 degrees")
adam_losses, adam_path = descend(adam)
first_step = abs(adam_path[1] - adam_path[0])
print(f"  first step |dw| = {first_step.tolist()} for gradients {[L1, L2]}")
lesson.check("first Adam step moves each coordinate by lr, whatever its gradient (rel err)",
             rel_error(first_step, np.array([LR_ADAM, LR_ADAM])), 1e-6)
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
