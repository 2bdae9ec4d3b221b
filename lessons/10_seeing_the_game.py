# %% [markdown]
# # Lesson 10 — Seeing the game: D's surface, G's arrows and the warped noise grid
#
# On 2-D data the whole GAN game fits in one picture (GAN Lab, Kahng et al. 2018, draws
# it in a browser):
#
# * D's probability $D(x) = \mathrm{sigmoid}(a(x))$ that a point $x$ of the plane is
#   real, as a heat map: D's surface;
# * the real points, and the generated points $x_i = G(z_i)$ for a fixed batch of noise;
# * at each generated point an arrow $-\partial L_G / \partial x_i$: where that point
#   would have to move to lower G's loss;
# * with a 2-D noise $z$, the image under G of a square grid of lines in $z$ space: the
#   warped noise grid.
#
# Every number in the picture is minigan's own: the arrows are the very array that D's
# backward hands to G's backward in the trainer's G step (`minigan.game.game_view`).
# This lesson draws the picture at several moments of a training run on the ring, then
# checks, number by number, what the picture says.
#
# ## The setup
#
# ring8 (8 Gaussians of std $0.01$ on the unit circle), $z \sim N(0, I_2)$, pack 1, the
# non-saturating loss. G and D are `minigan.models.build("mlp2d", ...)` with width 64
# and depth 3, trained by `minigan.train.GAN` with Adam, learning rates $2\times10^{-3}$
# for G and $5\times10^{-3}$ for D (a D that keeps up stops G's points from overshooting
# far), both decaying linearly to 0, batches of 256, float64 (so finite differences are
# meaningful). Shapes: $z$ $(N, 2)$ $\to$ G $\to$ $x$ $(N, 2)$ $\to$ D $\to$ logits $a$
# $(N, 1)$; arrows $(N, 2)$, one per generated point.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import copy

import numpy as np

import minigan
from minigan import backend
from minigan.data import sample_toy, toy_means, toy_std
from minigan.game import (draw_game, game_image, game_view, save_game_gif,
                          warped_noise_lines)
from minigan.losses import generator_loss
from minigan.metrics import evaluate_toy
from minigan.models import build
from minigan.optim import grad_norm
from minigan.train import GAN

lesson = Lesson("10_seeing_the_game")
minigan.set_default_dtype("float64")
A, H = backend.asarray, backend.to_numpy
DATA, Z, WIDTH, DEPTH, BATCH, LR_G, LR_D = "ring8", 2, 64, 3, 256, 2e-3, 5e-3
STEPS = 1200 if lesson.quick else 4000
PANELS = ([0, 100, 200, 400, 800, 1200] if lesson.quick
          else [0, 100, 250, 500, 1000, 2000, 3000, 4000])
CHECK_STEP = 200 if lesson.quick else 250     # the snapshot sections 2 and 3 check
GIF_EVERY = 50 if lesson.quick else 100
N_FAKE = 500
MEANS, STD = toy_means(DATA), toy_std(DATA)


def frame_bounds(gan):
    """The plane drawn: [-1.5, 1.5]^2, widened by 0.5 while G's points lie outside."""
    half = max(1.5, np.ceil(2 * 1.1 * np.abs(gan.sample(N_FAKE)).max()) / 2)
    return (-half, half, -half, half)


def sample_ring(rng, n):
    # float32 data -> the models' float64
    return A(sample_toy(DATA, n, rng), dtype=backend.default_dtype())


def d_prob(Dnet, points):
    """D's probability sigmoid(a(x)) at NumPy points (M, 2) -> NumPy (M,)."""
    a = H(Dnet(A(points))).ravel()
    return 1 / (1 + np.exp(-a))


def ranks(v):
    """The rank of each entry of v (0 = smallest), for a rank correlation."""
    return np.argsort(np.argsort(v))


def g_loss(Dnet, points):
    """L_G = generator_loss(D(x)) at NumPy points (M, 2): the mean over the M points."""
    return generator_loss(Dnet(A(points)), "nonsaturating")[0]


# %% [markdown]
# ## 1. Train, and draw the game
#
# The GAN is trained, and the game drawn at several steps (`game_steps.png`), at the end
# (`game_final.png`), and as an animation (`game.gif`; the plane drawn widens while G's
# points fly far out). A snapshot of the GAN early in training is kept for sections 2
# and 3.
#
# **D's surface.** For a fixed G, D maximises
# $\mathbb E_{x\sim p_{data}} \log D(x) + \mathbb E_{x\sim p_g} \log(1 - D(x))$.
# Point by point, $p \log D + q \log(1 - D)$ ($p = p_{data}(x)$, $q = p_g(x)$) is
# largest where its derivative $p/D - q/(1 - D)$ is 0 (lesson 09 derives it in full and
# checks it on 1-D Gaussians):
#
# $$D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)},$$
#
# so a flexible, well-trained D reads close to 1 where there is data and no fake, close
# to 0 where there are fakes and no data, and $1/2$ where G matches the data. Where
# neither distribution has mass $D^*$ is not defined: what the heat map shows there is
# only how D's network extrapolates (here a LeakyReLU MLP, whose logit $a(x)$ is
# piecewise linear in $x$: straight-edged regions). The dashed contour is $D = 1/2$.

# %%
lesson.section(f"1. train on {DATA} (z_dim {Z}, pack 1, {STEPS} steps) "
               f"and draw the game")
backend.seed(lesson.seed)
G, D = build("mlp2d", (2,), Z, width=WIDTH, depth=DEPTH)
gan = GAN(G, D, z_dim=Z, loss="nonsaturating", lr_g=LR_G, lr_d=LR_D, seed=lesson.seed,
          lr_schedule="linear", total_steps=STEPS)
# the real points drawn in every frame
real_shown = sample_toy(DATA, 400, backend.rng(lesson.seed + 1))
panels, gif_frames, snapshot, history = {}, [], None, []
marks = sorted(set(PANELS) | set(range(0, STEPS + 1, GIF_EVERY)) | {CHECK_STEP})
for step in marks:
    gan.fit(sample_ring, step, BATCH, on_step=history.append)
    title = f"step {step}"
    if history:   # the means over the step's training batch, as the trainer gives them
        title += (f" (batch: D(x) {history[-1]['d_real']:.2f}, "
                  f"D(G(z)) {history[-1]['d_fake_after']:.2f})")
    if step in PANELS:
        panels[step] = (game_view(gan, real_shown, n_fake=N_FAKE,
                                  bounds=frame_bounds(gan)),
                        warped_noise_lines(gan), title)
    if step % GIF_EVERY == 0:
        gif_frames.append(game_image(gan, real_shown, title, bounds=frame_bounds(gan),
                                     n_fake=N_FAKE, dpi=80))
    if step == CHECK_STEP:
        snapshot = copy.deepcopy(gan)
        print(f"  step {step}: a snapshot kept for sections 2 and 3")
final = evaluate_toy(gan.sample(2500, seed=lesson.seed + 2), DATA)
print(f"  after {STEPS} steps: modes {final['modes']}/8, "
      f"hq_fraction {final['hq_fraction']:.2f}, rev_kl {final['rev_kl']:.3f}, "
      f"samples per mode {final['counts']}")

cols = 3 if len(PANELS) == 6 else 4
fig, axes = plt.subplots(2, cols, figsize=(4.4 * cols, 9.2), layout="constrained")
for ax, step in zip(axes.ravel(), PANELS):
    view, lines, title = panels[step]
    draw_game(ax, view, title, lines, arrows=50, colorbar=False)
    ax.get_legend().set_visible(step == PANELS[0])
fig.colorbar(axes.ravel()[0].images[0], ax=axes, fraction=0.02, pad=0.01,
             label="D(x) = P(real)")
fig.suptitle("the game on the ring: D's surface (heat map), real (green) and generated "
             "(purple) points, arrows -dL_G/dx, the warped z grid")
fig.savefig(lesson.path("game_steps.png"), dpi=90)
plt.close(fig)

fig, ax = plt.subplots(figsize=(7.5, 6.5))
view, lines, title = panels[STEPS]
draw_game(ax, view, title, lines)
lesson.savefig(fig, "game_final.png")
save_game_gif(gif_frames, lesson.path("game.gif"), seconds_per_frame=0.4)
print(f"  drew {len(PANELS)} panels and a {len(gif_frames)}-frame animation")

# %% [markdown]
# ## 2. The arrows are $-\partial L_G / \partial x$
#
# G's non-saturating loss on a batch of $N$ fakes is
# $L_G = -\frac1N \sum_i \log D(x_i)$. Only the $i$-th term depends on $x_i$, and
# $dD/da = D(1 - D)$, so
#
# $$-\frac{\partial L_G}{\partial x_i} = \frac1N \big(1 - D(x_i)\big)\, \nabla_x a(x_i)
#   = \frac{\nabla_x D(x_i)}{N\, D(x_i)} \qquad (2,) \text{ per point}$$
#
# ($\nabla_x a$ from D's backward). The arrow points exactly up D's slope at $x_i$, and
# is longer, for the same slope, where $D(x_i)$ is small: G is pushed hardest where D
# is surest the point is fake. The $1/N$ comes from the batch mean; the figures draw all
# arrows with one common scale, so only directions and relative lengths are shown. (The
# minimax loss gives $\frac1N D(x_i)\, \nabla_x a(x_i)$: same direction, weaker where D
# is small; lesson 08.)
#
# The checks, on the snapshot taken early in training: `game_view`'s arrows against
# central differences of $L_G$, against $(1 - D)\, \nabla_x a / N$, and against
# $\nabla_x D / (N D)$ (up D's slope).

# %%
lesson.section(f"2. the arrows are -dL_G/dx (the snapshot at step {CHECK_STEP}, "
               f"{N_FAKE} fakes)")
G0, D0 = snapshot.G, snapshot.D
view = game_view(snapshot, real_shown, n_fake=N_FAKE, bounds=frame_bounds(snapshot))
x, arrows, Dx = view["fake"], view["arrows"], view["d_fake"]
N = len(x)

# (a) central differences of the batch loss L_G with respect to one point's two
# coordinates. D's logit is piecewise linear in x, so the error is O(h^2) from the
# curvature of log sigmoid plus rounding, unless x_i +- h crosses one of D's kinks;
# h = 1e-5 keeps the rounding of a mean over 500 points (~1e-16 / h) far below the
# per-point gradients (~1e-3).
h, worst = 1e-5, 0.0
CHECKED = 10 if lesson.quick else 50
for i in np.linspace(0, N - 1, CHECKED).astype(int):
    numeric = np.zeros(2)
    for c in range(2):
        plus, minus = x.copy(), x.copy()
        plus[i, c] += h
        minus[i, c] -= h
        numeric[c] = (g_loss(D0, plus) - g_loss(D0, minus)) / (2 * h)
    worst = max(worst, np.abs(-numeric - arrows[i]).max() / np.abs(numeric).max())
lesson.check(f"arrows = -(central differences of L_G), {CHECKED} points (max rel err)",
             worst, 1e-6)

# (b) the chain rule written out: (1 - D) grad_x a / N, grad_x a from D's backward of
# ones (the rows are independent)
D0(A(x))
grad_a = H(D0.backward(backend.xp.ones((N, 1)), param_grads=False))
formula = (1 - Dx)[:, None] * grad_a / N
lesson.check("arrows = (1 - D(x)) grad_x a(x) / N (max rel err)",
             np.abs(arrows - formula).max() / np.abs(arrows).max(), 1e-12)

# (c) up D's slope: grad_x D by central differences of D's probability on the plane,
# then / (N D); all 500 points at once: a smaller h makes a kink crossing unlikely
grad_D, h = np.zeros_like(x), 1e-7
for c in range(2):
    e = np.zeros(2)
    e[c] = h
    grad_D[:, c] = (d_prob(D0, x + e) - d_prob(D0, x - e)) / (2 * h)
up_slope = grad_D / (N * Dx[:, None])
lesson.check("arrows = grad_x D(x) / (N D(x)), grad_x D by central differences "
             "(max rel err)",
             np.abs(arrows - up_slope).max() / np.abs(arrows).max(), 1e-6)
cosine = (arrows * grad_D).sum(1) / (np.linalg.norm(arrows, axis=1)
                                     * np.linalg.norm(grad_D, axis=1))
lesson.check_that("every arrow points up D's slope (cosine with grad_x D)",
                  cosine.min() > 1 - 1e-9, f"min cosine {cosine.min():.12f}")
strength = np.linalg.norm(arrows, axis=1) / np.linalg.norm(grad_D, axis=1)
print(f"  |arrow| / |grad_x D| = 1 / (N D): from {strength.min():.3g} "
      f"(D = {Dx.max():.2f}) to {strength.max():.3g} (D = {Dx.min():.2f})")

# %% [markdown]
# ## 3. Following the arrows
#
# **By hand.** Moving the points themselves a small step $s$ along their arrows,
# $x_i + s\, \mathrm{arrows}_i$, changes, to first order,
#
# $$L_G \text{ by } -s \sum_i |\mathrm{arrows}_i|^2
#   \qquad\text{and}\qquad
#   \mathrm{mean}_i\, D(x_i) \text{ by } +s \sum_i D(x_i)\, |\mathrm{arrows}_i|^2 .$$
#
# **How G moves its points.** G cannot move a point on its own: it changes its weights
# $\theta$, and every point moves with them. With
# $J_i = \partial G(z_i) / \partial \theta$ ($2 \times P$), the gradient G's backward
# computes is
# $\nabla_\theta L_G = -\sum_i J_i^\top \mathrm{arrows}_i$, and an SGD step
# $\theta \mathrel{+}= lr \sum_i J_i^\top \mathrm{arrows}_i$ moves point $j$ by
#
# $$dx_j = lr \sum_i J_j J_i^\top\, \mathrm{arrows}_i \qquad \text{(to first order)},$$
#
# a blend of ALL the arrows, weighted by the $2 \times 2$ kernel $J_j J_i^\top$ (the
# "neural tangent kernel"). A single point may even move against its own arrow, but the
# batch as a whole always goes along them:
# $\sum_j \mathrm{arrows}_j \cdot dx_j = lr\, |\nabla_\theta L_G|^2 \ge 0$. (The trainer
# uses Adam, which rescales each coordinate of the step; lesson 07.)
#
# The checks: $L_G$ falls and mean $D(G(z))$ rises by the first-order amounts
# (`first_order.png`); then one SGD step of G's weights, on a copy of G.

# %%
lesson.section("3. following the arrows: the points moved by hand, "
               "then by one SGD step of G's weights")
L0, meanD0 = float(view["loss_g"]), float(Dx.mean())
sq = (arrows ** 2).sum(1)                          # |arrows_i|^2, (N,)
typical = np.sqrt(sq.mean())
steps_s = np.logspace(-4, 0, 13) * 0.1 / typical    # moves from 1e-5 to 0.1 (rms)
pred_L, obs_L, pred_D, obs_D = [], [], [], []
for s in steps_s:
    moved = x + s * arrows
    obs_L.append(g_loss(D0, moved) - L0)
    obs_D.append(d_prob(D0, moved).mean() - meanD0)
    pred_L.append(-s * sq.sum())
    pred_D.append(s * (Dx * sq).sum())
obs_L, pred_L, obs_D, pred_D = map(np.array, (obs_L, pred_L, obs_D, pred_D))
k = 4                                 # a move of ~2e-4 (rms): small, far above rounding
print(f"  a move of {steps_s[k] * typical:.0e} (rms) along the arrows:")
print(f"    L_G changes by {obs_L[k]:.4e} (first order: {pred_L[k]:.4e}); "
      f"mean D(G(z)) by {obs_D[k]:+.4e} (first order: {pred_D[k]:+.4e})")
lesson.check_that("a small step along the arrows lowers L_G and raises mean D(G(z))",
                  obs_L[k] < 0 and obs_D[k] > 0,
                  f"dL_G {obs_L[k]:.2e}, d mean D {obs_D[k]:+.2e}")
lesson.check("  ... by the first-order amounts (rel err, L_G)",
             abs(obs_L[k] / pred_L[k] - 1), 0.02)
lesson.check("  ... by the first-order amounts (rel err, mean D)",
             abs(obs_D[k] / pred_D[k] - 1), 0.02)
print(f"    for the largest move ({steps_s[-1] * typical:.1f} rms) observed/predicted: "
      f"L_G {obs_L[-1] / pred_L[-1]:.2f}, mean D {obs_D[-1] / pred_D[-1]:.2f} "
      f"(first order no longer holds)")

# G moves its points through its weights: one SGD step theta += lr sum_i J_i^T arrows_i,
# on a copy of G.
lr = 1e-4
G1 = copy.deepcopy(G0)
z = A(view["z"])
G1.zero_grad()
G1(z)
G1.backward(A(view["grad"]), input_grad=False)   # G's backward from dL_G/dx: grad_theta
g2 = grad_norm(G1) ** 2
for _, p, g in G1.parameters():
    p -= lr * g
dx = H(G1(z)) - x                                   # each point's move (N, 2)
gain = float((arrows * dx).sum())
print(f"  one SGD step of G (lr {lr:g}): the points move "
      f"{np.sqrt((dx ** 2).sum(1)).mean():.2e} on average")
lesson.check("sum_i arrows_i . dx_i = lr |grad_theta L_G|^2 to first order (rel err)",
             abs(gain / (lr * g2) - 1), 0.02)
along = (arrows * dx).sum(1) > 0
print(f"    {along.mean():.0%} of the points move with a positive component along "
      f"their own arrow\n    (each move blends all the arrows: "
      f"dx_j = lr sum_i J_j J_i^T arrows_i)")
rise = d_prob(D0, H(G1(z))).mean() - meanD0
# d mean D / dx_j = D(x_j) arrows_j (non-saturating)
rise_pred = float((Dx[:, None] * arrows * dx).sum())
lesson.check_that("after G's step mean D(G(z)) (same D, same z) is higher, "
                  "by the first-order amount",
                  rise > 0 and abs(rise / rise_pred - 1) < 0.02,
                  f"{rise:+.4e} (first order {rise_pred:+.4e})")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
moves = steps_s * typical
ax1.loglog(moves, -pred_L, "-", label="first order: s sum |arrows|^2")
ax1.loglog(moves, np.abs(obs_L), "o", label="observed |change of L_G|")
ax1.loglog(moves, pred_D, "--", label="first order: s sum D |arrows|^2")
ax1.loglog(moves, np.abs(obs_D), "s", label="observed |change of mean D(G(z))|")
ax1.set_xlabel("rms move of the points along their arrows")
ax1.set_ylabel("change")
ax1.set_title("moving the fakes along -dL_G/dx: the first-order prediction")
ax1.legend(fontsize=8)
draw_game(ax2, view,
          f"step {CHECK_STEP}: the arrows, and the moves of one SGD step of G",
          arrows=N // 10, colorbar=False)
width = view["bounds"][1] - view["bounds"][0]
ax2.quiver(x[::10, 0], x[::10, 1], dx[::10, 0], dx[::10, 1], angles="xy",
           scale_units="xy",
           scale=np.percentile(np.linalg.norm(dx[::10], axis=1), 90) / (0.06 * width),
           color="tab:orange", width=0.004, headwidth=3.5, headlength=4, zorder=6,
           label="the move dx_j (same scaling)")
ax2.legend(loc="upper right", fontsize=7)
lesson.savefig(fig, "first_order.png")

# %% [markdown]
# ## 4. D's surface after training
#
# $D^* = p_{data} / (p_{data} + p_g)$ is above $1/2$ where G puts less mass than the
# data, below $1/2$ where it puts more, and 0 where there are fakes and no data. The
# checks: mode by mode, D at the mode's mean against the share of G's samples near it;
# and D at the fakes between the modes against D at the modes. D is no exact $D^*$: it
# is a finite network trained a step at a time against a moving G; its values are
# milder than $D^*$'s, but they follow $D^*$'s order.

# %%
lesson.section(f"4. D's surface after {STEPS} steps: D* = p_data / (p_data + p_g)")
view_end, _, _ = panels[STEPS]
D_modes = d_prob(gan.D, MEANS)                       # D at the 8 mode means, (8,)
# Mode by mode: D* is above 1/2 where G puts less mass than the data, below 1/2 where
# it puts more.
samples = gan.sample(5000, seed=lesson.seed + 3).astype(np.float64)
to_mode = np.sqrt(((samples[:, None, :] - MEANS[None]) ** 2).sum(-1))      # (5000, 8)
share = (to_mode < 3 * STD).mean(0)   # G's share of samples within 3 std of each mode
data_share = (1 - np.exp(-4.5)) / 8   # the data's: P(|noise| < 3 std) = 1 - e^(-9/2)
print("  mode k:                         " + " ".join(f"{k:5d}" for k in range(8)))
print("  G's share within 3 std of mu_k: " + " ".join(f"{q:5.3f}" for q in share)
      + f"   (the data's: {data_share:.3f} each)")
print("  D(mu_k):                        " + " ".join(f"{d:5.2f}" for d in D_modes))
rank_corr = float(np.corrcoef(ranks(share), ranks(D_modes))[0, 1])
lesson.check_that("as D* says, D is higher on the modes G covers less "
                  "(rank correlation of D(mu_k), G's share)",
                  rank_corr < -0.5, f"{rank_corr:+.2f}")

fake_end = view_end["fake"]
# the distance of each fake to the nearest mode, (500,)
dist = np.sqrt(((fake_end[:, None, :] - MEANS[None]) ** 2).sum(-1)).min(1)
between = dist > 10 * STD       # fakes farther than 10 std from every mode: p_data ~ 0
D_between = view_end["d_fake"][between]
lesson.check_that(f"D is lower on the {between.sum()} fakes between the modes "
                  f"(D* = 0 there) than on the modes",
                  D_between.mean() < D_modes.mean(),
                  f"mean {D_between.mean():.2f} "
                  f"(90th percentile {np.percentile(D_between, 90):.2f}) "
                  f"< {D_modes.mean():.2f}")
near_centre = int((np.linalg.norm(fake_end, axis=1) < 0.5).sum())
then_centre = int((np.linalg.norm(x, axis=1) < 0.5).sum())
print(f"  D at the centre (0, 0): {d_prob(gan.D, np.zeros((1, 2)))[0]:.2f}; "
      f"no data there; fakes within 0.5 of it: {near_centre} of {N_FAKE} now, "
      f"{then_centre} at step {CHECK_STEP}")

# %% [markdown]
# ## 5. The warped noise grid
#
# G maps the noise plane ($z$ has 2 dimensions here) into the data plane; the
# horizontal and vertical lines of a grid in $z$ become curves. G is continuous (Dense
# layers and ReLUs), so each curve is unbroken: once the points along a line are close
# enough, halving their spacing halves the largest gap between their images (a jump of
# G would leave a gap that never shrinks). Where G is one-to-one, the density of the
# fakes is
#
# $$p_g(G(z)) = \frac{p_z(z)}{|\det J(z)|}, \qquad J(z) = \frac{\partial G}{\partial z}
#   \ (2 \times 2):$$
#
# where the grid is stretched (large $|\det J|$) there are few fakes, where it is
# squeezed, many. A continuous image of the connected noise plane is connected, so G
# cannot put all its samples on 8 separate blobs: it keeps "bridges" between the modes,
# and can only make them thin, by stretching the grid there and squeezing it on the
# modes.
#
# The checks: unbroken curves, stretched between the modes and squeezed on them.

# %%
lesson.section("5. the warped noise grid: unbroken curves, stretched between the modes")
gaps = []
# each time the spacing in z halves (same end points)
for n_points in (100, 199, 397, 793, 1585, 3169):
    lines = warped_noise_lines(gan, n_points=n_points)
    gaps.append(max(np.sqrt((np.diff(line, axis=0) ** 2).sum(1)).max()
                    for line in lines))
print("  largest gap between consecutive images along the 22 lines, "
      "spacing in z 0.05, 0.025, ...:\n  " + ", ".join(f"{g:.4f}" for g in gaps))
# A jump of G would leave a gap that does not shrink (ratio 1); a continuous, piecewise
# linear G gives ratio 2 once the spacing is finer than its linear pieces (the first
# halvings can give less: a chord of a bent curve).
ratio = gaps[-2] / gaps[-1]
lesson.check_that("the gaps shrink with the spacing: the last halving halves the "
                  "largest gap (ratio <= 2; a jump: 1)",
                  ratio > 1.8 and all(np.diff(gaps) < 0), f"ratio {ratio:.3f}")

# |det J(z)| = |det dG/dz| at the fakes by central differences in z: the grid's stretch
z_end = A(view_end["z"])
J = np.zeros((N_FAKE, 2, 2))
for c in range(2):
    e = np.zeros((1, 2))
    e[0, c] = 1e-6
    J[:, :, c] = (H(gan.G(z_end + A(e))) - H(gan.G(z_end - A(e)))) / 2e-6
det = np.abs(np.linalg.det(J))
on = dist < 3 * STD
print(f"  |det dG/dz| median: {np.median(det[on]):.2e} on the modes ({on.sum()} fakes "
      f"within 3 std), {np.median(det[between]):.2e} between them "
      f"({between.sum()} fakes)")
lesson.check_that("the grid is squeezed on the modes and stretched between them "
                  "(median |det J|)",
                  np.median(det[between]) > 10 * np.median(det[on]),
                  f"{np.median(det[between]):.1e} > 10 x {np.median(det[on]):.1e}")

# %% [markdown]
# ## 6. Live controls (in a notebook)
#
# `replay` trains a fresh pair from the same seed with the loss kind, the two learning
# rates and the number of steps you choose, and draws the game at the end. Run as a
# script, the lesson draws it once with section 1's settings and 300 steps
# (`replay.png`). In Jupyter, with `ipywidgets` (`pip install -e ".[notebooks]"`),
# the cell gives a menu and sliders for the four, and a button that runs `replay`: try
# `minimax` against `nonsaturating` (lesson 08), or a D ten times faster than G.

# %%
from _common import IN_NOTEBOOK  # noqa: E402
from minigan.losses import LOSSES  # noqa: E402


def replay(loss="nonsaturating", lr_g=LR_G, lr_d=LR_D, steps=300):
    """A fresh G and D trained for ``steps`` with these settings; the game's figure."""
    backend.seed(lesson.seed)
    G2, D2 = build("mlp2d", (2,), Z, width=WIDTH, depth=DEPTH)
    game = GAN(G2, D2, z_dim=Z, loss=loss, lr_g=lr_g, lr_d=lr_d, seed=lesson.seed)
    game.fit(sample_ring, steps, BATCH)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    draw_game(ax, game_view(game, real_shown, n_fake=N_FAKE,
                            bounds=frame_bounds(game)),
              f"{loss}, lr_g {lr_g:.1e}, lr_d {lr_d:.1e}, {steps} steps")
    return fig


lesson.section("6. replay: the game again, with settings of your choice")
if not IN_NOTEBOOK:
    lesson.savefig(replay(), "replay.png")
else:
    try:
        import ipywidgets as widgets
    except ImportError:
        print('  live controls need ipywidgets: pip install -e ".[notebooks]"')
    else:
        widgets.interact_manual(
            lambda loss, lr_g, lr_d, steps: plt.show(replay(loss, lr_g, lr_d, steps)),
            loss=widgets.Dropdown(options=list(LOSSES), value="nonsaturating"),
            lr_g=widgets.FloatLogSlider(value=LR_G, base=10, min=-4, max=-1),
            lr_d=widgets.FloatLogSlider(value=LR_D, base=10, min=-4, max=-1),
            steps=widgets.IntSlider(value=300, min=50, max=3000, step=50))

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Why is an arrow longer, for the same slope of D, where $D(x_i)$ is small? How would
#    the arrows change with the minimax loss, and why does that matter early in
#    training?
# 2. After one SGD step of G's weights not every point moves along its own arrow, yet
#    $\sum_j \mathrm{arrows}_j \cdot dx_j \ge 0$ always. Why both?
# 3. Between the modes (more than 10 std from each) $D^* = 0$. Why? And why does the
#    trained D read more than 0 at the fakes there, yet less than on the modes?
# 4. Why can a continuous G not split its samples into 8 separate blobs, and how does
#    the warped grid show what it does instead?
#
# Short answers: `lessons/ANSWERS.md`.
