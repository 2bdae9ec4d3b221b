# %% [markdown]
# # Lesson 21 — Little data: differentiable augmentation of reals AND fakes
#
# Give a GAN 100 digits instead of 1,797 and its discriminator does what any classifier
# does with too little data: it **memorises** them. It scores its own training images
# as real and other real digits, which it never saw, as fake. Its judgement then no
# longer says "looks like a digit" but "is one of these 100", and G, following D's
# gradient, is pushed towards those 100 images or nowhere useful.
#
# Data augmentation is the usual cure for a classifier that memorises, but a GAN's D is
# special: whatever D is shown as "real" is what G learns to draw. Zhao et al. (2020,
# "Differentiable Augmentation for Data-Efficient GAN Training", arXiv:2006.10738)
# apply one random transform $T$ to BOTH the real and the fake images, in D's step AND
# in G's step, and back-propagate G's gradient THROUGH $T$:
#
# $$L_D = \mathrm{bce}\big(D(T(x)), 1\big) + \mathrm{bce}\big(D(T(G(z))), 0\big),
#   \qquad L_G = \mathrm{bce}\big(D(T(G(z))), 1\big).$$
#
# The lesson checks, each on numbers it computes:
#
# 1. the backward of each transform (translation, cutout, brightness) and of their
#    composition against central differences in float64 (tolerance $10^{-7}$);
# 2. G's gradient in `GAN(..., augment=...)`'s step goes through $T$: central
#    differences of $L_G$ with respect to a weight of G agree, and the gradient that
#    skips $T$'s backward does not;
# 3. on 100 training digits D memorises: its mean logit on its training images is far
#    above that on held-out digits, and with the augmentation the gap shrinks;
# 4. augmenting only the reals fails: G learns to draw the augmentation (the spread
#    of brightness it adds), which augmenting both does not.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import copy

import numpy as np

from minigan import augment, backend
from minigan.data import load_digits
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.layers import Conv2d, Dense, Flatten, LeakyReLU, Reshape, Sequential, Tanh
from minigan.losses import generator_loss
from minigan.models import build
from minigan.train import GAN
from minigan.viz import image_grid

lesson = Lesson("21_little_data_augmentation")
H = backend.to_numpy
POLICY = "translation,cutout,brightness"
N_TRAIN, N_HELD = 100, 500    # the first 100 digits train; the last 500 are held out
STEPS = 500 if lesson.quick else 3000
Z, WIDTH, BATCH, LR = 16, 16, 32, 5e-4

# %% [markdown]
# ## The three transforms and their backward
#
# Each acts on a batch $x$ of shape $(N, C, H, W)$ with its own random parameters per
# image $n$, drawn before the forward and kept for the backward. With
# $g = \partial L / \partial y$:
#
# | transform | forward | backward $\partial L/\partial x$ |
# |---|---|---|
# | brightness | $y = x + b_n$, $b_n \sim U(-\tfrac12, \tfrac12)$ | $g$ |
# | translation | $y_{ij} = x_{i - d_n, j - e_n}$ | $g_{a + d_n, b + e_n}$ |
# | cutout | $y = x \odot m_n$ | $g \odot m_n$ |
#
# with 0 for an index outside the image. The shifts $d_n, e_n$ are integers in
# $[-H/8, H/8]$ and $[-W/8, W/8]$ (one pixel on 8x8 digits); the mask $m_n$ is 0 on
# an $(H/2) \times (W/2)$ rectangle whose centre lands anywhere on the image (clipped
# at the edges) and 1 elsewhere. Translation's backward is the gradient shifted back
# the other way, and 0 on the pixels of $x$ that were shifted out: no output read
# them. The pixels shifted in and cut out are 0, as in the paper's code: mid-grey in
# $[-1, 1]$, not the digits' black $-1$. Any constant would do (the same for reals
# and fakes, and out of G's reach); 0 needs no knowledge of the data set's background.
#
# Each backward is checked against central differences of
# $f(x) = \sum y \odot w$ for a random $w$ (float64, the random parameters fixed),
# on 16x16 images so that the shifts reach two pixels. The translation's backward
# is the exercise of this lesson.

# %%
translation_backward = lesson.exercises(augment.translation_backward)

lesson.section("1. each transform's backward against central differences (float64)")
host = np.random.default_rng(lesson.seed)
x = host.standard_normal((6, 2, 16, 16))
w = host.standard_normal(x.shape)
for policy in (*augment.TRANSFORMS, POLICY):
    T = augment.Policy(policy)
    draws = T.draw(backend.rng(lesson.seed + 1), x.shape)
    if policy == "translation":
        analytic = translation_backward(w, draws[0])
    else:
        analytic = T.backward(w, draws)
    numeric = numerical_gradient(lambda: float((T.forward(x, draws) * w).sum()), x)
    lesson.check(f"{policy}: backward vs central differences (rel err)",
                 rel_error(analytic, numeric), 1e-7)

images, _ = load_digits()
train, held = images[:N_TRAIN], images[-N_HELD:]
T = augment.Policy(POLICY)
shown = np.concatenate([train[:8]] + [augment.Policy(p)(train[:8], backend.rng(s))[0]
                                      for s, p in enumerate((*augment.TRANSFORMS,
                                                             POLICY))])
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.imshow(image_grid(np.clip(shown, -1, 1), nrow=8), cmap="gray")
ax.set_title("rows: digits, translation, cutout, brightness, all three", fontsize=9)
ax.set_axis_off()
lesson.savefig(fig, "augmentations.png")

# %% [markdown]
# ## G's gradient goes back through $T$
#
# In G's step the fakes reach D as $T(G(z))$, so by the chain rule
#
# $$\frac{\partial L_G}{\partial \theta_G}
#   = \Big(\frac{\partial G}{\partial \theta_G}\Big)^{\!\top}
#     T'^{\top} \, \frac{\partial L_G}{\partial T(G(z))},$$
#
# D's input gradient passed through $T$'s backward (with the parameters its forward
# drew) before it enters G. That is why $T$ must be differentiable: without a backward
# one could augment only in D's step, and D would then judge, in G's step, plain fakes
# of a kind it never trained on; Zhao et al. (Section 3) report that this "augment D
# only" variant fails as "augment reals only" does. The check: a small float64 G and D
# (no BatchNorm, so that $L_G$ is a plain function of G's weights), one step of
# `GAN(..., augment=POLICY)`, and the GAN's generator replayed in the order the step
# draws from it (T for the reals, $z$, T for the fakes, a new T for G's step).

# %%
lesson.section("2. the trainer's G gradient goes through T (float64)")
backend.seed(lesson.seed)
with backend.using_dtype("float64"):
    G64 = Sequential(Dense(4, 64), Tanh(), Reshape(1, 8, 8))
    D64 = Sequential(Conv2d(1, 4, 3, 1, 1), LeakyReLU(0.2), Flatten(), Dense(256, 1))
gan64 = GAN(G64, D64, z_dim=4, seed=lesson.seed, augment=POLICY)
real64 = backend.asarray(train[:16], dtype="float64")
G_start, replay = copy.deepcopy(G64), copy.deepcopy(gan64.rng)
gan64.train_step(real64)
T.draw(replay, real64.shape)                        # the reals' T
z = gan64.noise(16, replay)
T.draw(replay, real64.shape)                        # the D step's fakes' T
g_draws = T.draw(replay, real64.shape)              # G's step's T


def g_loss():
    return generator_loss(gan64.D(T.forward(G_start(z), g_draws)))[0]


W = G_start[0].params["W"]
numeric = numerical_gradient(g_loss, W)
lesson.check("dL_G/dW of G's first layer in the GAN step vs central differences",
             rel_error(gan64.G[0].grads["W"], numeric), 1e-7)
_, grad = generator_loss(gan64.D(T.forward(G_start(z), g_draws)))
G_start.zero_grad()
G_start.backward(gan64.D.backward(grad, param_grads=False), input_grad=False)
skipped = rel_error(G_start[0].grads["W"], numeric)
lesson.check_that("and the gradient that skips T's backward is wrong", skipped > 1e-2,
                  f"rel err {skipped:.2f}")

# %% [markdown]
# ## D memorises 100 digits
#
# Three DCGANs train on the first 100 digits for the number of steps the section
# gives, alike but for the augmentation: none; `augment=POLICY` (reals and fakes,
# through $T$); and the reals alone, augmented by the data source as a classifier's
# training set would be (the GAN itself then has no augmentation). Every 50 steps
# D's mean logit is measured on 200 of its training images and on 200 held-out
# digits, all un-augmented. A D that judges "is it a digit?" scores both alike; a D
# that memorised its training set scores them apart:
#
# $$\text{gap} = \overline{D}(\text{training images}) - \overline{D}(\text{held out}),$$
#
# averaged over the second half of training (one measurement is noisy).

# %%
lesson.section(f"3. three GANs on {N_TRAIN} digits, {STEPS} steps each")
probe = backend.rng(lesson.seed + 5).choice(N_TRAIN, 200)
train_probe = backend.asarray(train[probe])
held_probe = backend.asarray(held[:200])


def logit_gap(D):
    return float(D(train_probe).mean()) - float(D(held_probe).mean())


def train_gan(mode):
    """mode: 'none', 'both' (augment=POLICY) or 'reals' (the data source augments)."""
    backend.seed(lesson.seed)
    G, D = build("dcgan", (1, 8, 8), Z, 1, width=WIDTH)
    gan = GAN(G, D, z_dim=Z, lr_g=LR, lr_d=LR, seed=lesson.seed,
              augment=POLICY if mode == "both" else None)
    data = backend.asarray(train, dtype=backend.default_dtype())

    def sample_real(rng, n):
        batch = data[backend.asarray(rng.choice(N_TRAIN, n, replace=False))]
        return T(batch, rng)[0] if mode == "reals" else batch

    gaps = []

    def on_step(figures):
        if gan.step % 50 == 0:
            gaps.append((gan.step, logit_gap(D)))

    gan.fit(sample_real, STEPS, BATCH, on_step)
    return gan, gaps


runs = {mode: train_gan(mode) for mode in ("none", "both", "reals")}
gap = {mode: float(np.mean([g for step, g in gaps if step > STEPS / 2]))
       for mode, (_, gaps) in runs.items()}
print("  gap over the second half (mean logit, training - held out): "
      + ", ".join(f"{mode} {g:+.2f}" for mode, g in gap.items()))
lesson.check_that("without augmentation D scores its training digits above unseen ones "
                  "(gap > 0.5)", gap["none"] > 0.5, f"gap {gap['none']:.2f}")
lesson.check_that("augmenting reals and fakes at least halves that gap",
                  gap["both"] < gap["none"] / 2,
                  f"{gap['both']:.2f} < {gap['none']:.2f} / 2")

# %% [markdown]
# ## Augmenting only the reals: G learns the augmentation
#
# D is trained to call $T(x)$ real, so G's best answer is to draw images distributed
# as $T(x)$, not as $x$: the augmentation leaks into the samples (Zhao et al.,
# Section 3, "augment reals only"). Brightness makes the leak easy to measure. It adds
# one $b_n \sim U(-\tfrac12, \tfrac12)$ to a whole image, so the per-image mean pixel
# of $T(x)$ spreads far wider than that of $x$: its variance grows by about
# $\mathrm{Var}(b) = 1/12$. The spread of that mean over 500 samples of each G says
# which distribution G learned: the reals-only G's lies near $T(x)$'s, the G trained
# with $T$ on both sides near the data's.

# %%
lesson.section("4. what each G learned to draw: the spread of the per-image mean")


def spread(batch):
    return float(np.asarray(batch).reshape(len(batch), -1).mean(axis=1).std())


s_real = spread(train)
s_aug = spread(T(train, backend.rng(lesson.seed + 9))[0])
samples = {mode: gan.sample(500, seed=lesson.seed + 3)
           for mode, (gan, _) in runs.items()}
s = {mode: spread(batch) for mode, batch in samples.items()}
print(f"  std of the per-image mean: data {s_real:.3f}, T(data) {s_aug:.3f}; "
      + ", ".join(f"G {mode} {v:.3f}" for mode, v in s.items()))
lesson.check_that("the reals-only G draws T(x)'s spread, nearer T(data) than the data",
                  abs(s["reals"] - s_aug) < abs(s["reals"] - s_real),
                  f"{s['reals']:.3f} vs {s_aug:.3f} and {s_real:.3f}")
lesson.check_that("the G trained with T on both sides stays nearer the data",
                  abs(s["both"] - s_real) < abs(s["both"] - s_aug),
                  f"{s['both']:.3f} vs {s_real:.3f} and {s_aug:.3f}")

# %% [markdown]
# ## The figures
#
# D's gap over training for the three runs, and 64 samples of each G: with so few
# steps and digits none is good, but the reals-only G's varying brightness shows.

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for mode, (_, gaps) in runs.items():
    ax.plot(*zip(*gaps), label={"none": "no augmentation", "both": "reals and fakes",
                                "reals": "reals only"}[mode])
ax.axhline(0, color="grey", linewidth=0.5)
ax.set_xlabel("step")
ax.set_ylabel("mean logit: training - held out")
ax.legend()
lesson.savefig(fig, "logit_gap.png")
fig, axes = plt.subplots(1, 3, figsize=(9, 3.4))
for ax, (mode, batch) in zip(axes, samples.items()):
    ax.imshow(image_grid(batch[:64]), cmap="gray")
    ax.set_title({"none": "no augmentation", "both": "augment reals and fakes",
                  "reals": "augment reals only"}[mode], fontsize=9)
    ax.set_axis_off()
lesson.savefig(fig, "samples.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Cutout sets a rectangle to 0 in both real and fake images. Why can G not be
#    rewarded for drawing such holes itself, while the reals-only G is?
# 2. Translation's backward puts 0 on the pixels of $x$ shifted out of the image. What
#    would a backward built from `np.roll` (which wraps them around) get wrong, and
#    which check catches it?
# 3. With the augmentation D's logit gap shrank. Does a small gap alone mean that G
#    draws good digits? What else did the lesson measure?
# 4. `POLICY` applies brightness last, after translation and cutout (the paper's code
#    puts colour first). What value do the cut-out pixels then have, and does that
#    matter to the argument of question 1?
#
# Short answers: `lessons/ANSWERS.md`.
