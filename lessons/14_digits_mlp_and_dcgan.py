# %% [markdown]
# # Lesson 14 — An MLP GAN and a DCGAN on the embedded 8x8 digits
#
# Everything so far comes together: Dense, BatchNorm, LeakyReLU and Tanh (lessons
# 01-04), Conv2d and ConvTranspose2d (05-06), Adam (07), the non-saturating loss (08).
# We train two GANs on real images, 1,797 handwritten digits of 8x8 pixels (UCI,
# embedded in minigan), and compare a fully connected pair with a convolutional (DCGAN)
# pair. Same data, same trainer, same loss; only the architecture differs.
#
# What the lesson does (`--quick`: 300 steps each; the full run 3,000):
#
# 1. trains the MLP GAN, then the DCGAN, recording every step's figures;
# 2. checks that D separates real from fake early on ($D(x) > D(G(z))$), that G's loss
#    moved, and that G learned something about the data: the mean of its images
#    approaches the mean real image, and its samples are not all the same (per-pixel
#    spread across samples, compared with the real data's);
# 3. checks the same two pixel figures on the mean digit plus noise (it passes them),
#    then reads G's samples and the noise with the evaluation classifier: classes
#    covered, classifier score, Fréchet distance to the real digits' features (the
#    noise covers every class, and fails on the other two); G must cover ≥ 9 classes
#    and beat the noise on both (in the quick run the MLP is checked NOT to yet: the
#    DCGAN learns far faster);
# 4. saves `real.png`, `mlp_samples.png`, `dcgan_samples.png` (fixed noise, eval mode)
#    and `training.png`.
#
# (How good are these samples, really? Judging that honestly, with every figure beside
# the same figure for held-out real digits, is lesson 15.)
#
# ## The data
#
# `minigan.data.load_digits()` returns images $(1797, 1, 8, 8)$, float32 scaled to
# $[-1, 1]$ (background $-1$, ink up to $+1$), and labels $(1797,)$. G ends in tanh so
# its images live in the same $[-1, 1]$.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import numpy as np

from minigan import backend
from minigan.data import load_digits
from minigan.metrics import (class_coverage, classifier_score, frechet_distance,
                             train_classifier)
from minigan.metrics.classifier import default_epochs
from minigan.models import build
from minigan.train import GAN
from minigan.viz import image_grid

lesson = Lesson("14_digits_mlp_and_dcgan")
A = backend.asarray
STEPS = 300 if lesson.quick else 3000
Z, BATCH, LR = 32, 64, 5e-4

images_host, labels = load_digits()      # (1797, 1, 8, 8) in [-1, 1], NumPy; (1797,)
images = A(images_host)
real_mean = images_host.mean(axis=0)     # (1, 8, 8): the "average digit"
real_std = images_host.std(axis=0)       # (1, 8, 8): each pixel's spread across images
real_spread = float(real_std.mean())     # per-pixel std across images, averaged


def sample_digits(rng, n):
    """A batch of n distinct training images, drawn with the trainer's own generator
    (reproducible)."""
    return images[A(rng.choice(len(images_host), n, replace=False))]


def image_stats(samples):
    """(distance of the mean image to the real mean image, per-pixel spread) of
    samples (N, 1, 8, 8)."""
    distance = float(np.sqrt(((samples.mean(axis=0) - real_mean) ** 2).sum()))
    return distance, float(samples.std(axis=0).mean())


def save_grid(samples, filename, title):
    """Images (N, 1, 8, 8) in [-1, 1] as a grid (minigan.viz.save_image_grid's figure),
    saved, and shown in a notebook."""
    grid = image_grid(samples)
    fig, ax = plt.subplots(figsize=(6, 6 * grid.shape[0] / grid.shape[1] + 0.3))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title)
    lesson.savefig(fig, filename)


save_grid(images_host[:64], "real.png", "64 real digits (UCI, 8x8)")

# %% [markdown]
# ## The two architectures
#
# `minigan.models.build`; $z \sim \mathcal N(0, I)$ of shape $(N, 32)$; the DCGAN
# initialisation, weights $\sim \mathcal N(0, 0.02^2)$.
#
# **"mlp"**
#
# - G: z $(N, 32)$ → Dense 256 → LeakyReLU(0.2) → BatchNorm1d → Dense 512 → ... →
#   Dense 1024 → ... → Dense 64 → Tanh → Reshape → $(N, 1, 8, 8)$
# - D: $(N, 1, 8, 8)$ → Flatten $(N, 64)$ → Dense 512 → LeakyReLU(0.2) → Dense 256 →
#   LeakyReLU → Dense 1
#
# Every pixel has its own weights: nothing tells the network that neighbouring pixels
# are related.
#
# **"dcgan"** (width $c = 32$)
#
# - G: z $(N, 32)$ → Dense $2c \cdot 2 \cdot 2 = 256$ → BatchNorm1d → ReLU → Reshape
#   $(N, 64, 2, 2)$ → ConvTranspose2d(64 → 32, k4 s2 p1) $(N, 32, 4, 4)$ → BatchNorm2d
#   → ReLU → ConvTranspose2d(32 → 1, k4 s2 p1) $(N, 1, 8, 8)$ → Tanh
# - D: $(N, 1, 8, 8)$ → Conv2d(1 → 32, k4 s2 p1) $(N, 32, 4, 4)$ → LeakyReLU(0.2) →
#   Conv2d(32 → 64, k4 s2 p1) $(N, 64, 2, 2)$ → BatchNorm2d → LeakyReLU → Flatten
#   $(N, 256)$ → Dense 1
#
# A 4x4 kernel is reused at every position (weight sharing) and sees only a
# neighbourhood (locality): the prior that images are made of local strokes. Far fewer
# parameters (printed). The DCGAN rules (Radford et al., 2015): strided convolutions
# instead of pooling, BatchNorm in both nets (not on G's output nor D's input), ReLU in
# G and LeakyReLU in D, tanh output, Adam with $\beta_1 = 0.5$.
#
# ## One training step
#
# `minigan.train.GAN.train_step`; batch $B = 64$; lesson 08 for the losses.
#
# - **D step**: logits of a real batch $(B, 1, 8, 8)$ and of a fake batch $G(z)$;
#   $L_D = \mathrm{bce}(\text{real}, 1) + \mathrm{bce}(\text{fake}, 0)$; backward
#   through D; Adam step on D.
# - **G step**: the same fakes through the UPDATED D;
#   $L_G = -\operatorname{mean} \log D(G(z))$; backward through D (input gradient only)
#   and then G; Adam step on G.
#
# Here both learning rates are $5\times 10^{-4}$ and fall linearly to 0 (the digits
# recipe of `minigan train`).
#
# What to watch: mean $D(x)$ and $D(G(z))$. At the game's equilibrium D cannot tell,
# $D = 1/2$ everywhere, and
#
# $$L_D = 2 \log 2 = 1.386, \qquad L_G = \log 2 = 0.693 .$$
#
# In practice D stays ahead: $D(x) > D(G(z))$.

# %%
histories, final_samples, untrained = {}, {}, {}
for i, (arch, options) in enumerate([("mlp", {}), ("dcgan", {"width": 32})], start=1):
    lesson.section(f"{i}. {arch}: {STEPS} steps, batch {BATCH}, Adam lr {LR} "
                   f"(linear decay), betas (0.5, 0.999)")
    backend.seed(lesson.seed)
    G, D = build(arch, (1, 8, 8), z_dim=Z, **options)
    print(f"  parameters: G {G.num_parameters():,}, D {D.num_parameters():,}")
    gan = GAN(G, D, z_dim=Z, loss="nonsaturating", lr_g=LR, lr_d=LR, seed=lesson.seed,
              lr_schedule="linear", total_steps=STEPS)
    before = image_stats(gan.sample(500, seed=lesson.seed + 1))
    history = []
    gan.fit(sample_digits, STEPS, BATCH, on_step=history.append)
    histories[arch] = history
    samples = gan.sample(500, seed=lesson.seed + 1)   # the same noise as `before`, eval
    final_samples[arch], untrained[arch] = samples, before
    after = image_stats(samples)
    save_grid(samples[:64], f"{arch}_samples.png", f"{arch} GAN after {STEPS} steps")

    d_real = np.array([h["d_real"] for h in history])
    d_fake = np.array([h["d_fake_before"] for h in history])
    loss_g = np.array([h["loss_g"] for h in history])
    loss_d = np.array([h["loss_d"] for h in history])
    early = slice(10, 50)
    gap = float((d_real[early] - d_fake[early]).mean())
    print(f"  steps 10-50: mean D(x) {d_real[early].mean():.2f}, "
          f"mean D(G(z)) {d_fake[early].mean():.2f}")
    print(f"  last 30 steps: L_D {loss_d[-30:].mean():.3f} (equilibrium 1.386), "
          f"L_G {loss_g[-30:].mean():.3f} (0.693), D(x) {d_real[-30:].mean():.2f}, "
          f"D(G(z)) {d_fake[-30:].mean():.2f}")
    lesson.check_that(f"{arch}: D tells real from fake early (mean D(x) - D(G(z)) over "
                      f"steps 10-50 > 0.05)", gap > 0.05, f"{gap:.2f}")
    # (a loss that merely moved would pass a run that diverges too: D winning outright
    # drives D(G(z)) to 0 and L_G = -log D(G(z)) up without bound)
    late_fake, late_g = float(d_fake[-30:].mean()), float(loss_g[-30:].mean())
    lesson.check_that(f"{arch}: the game goes on: over the last 30 steps D still "
                      f"passes some fakes (mean D(G(z)) > 0.05) and L_G stays below 5",
                      late_fake > 0.05 and late_g < 5,
                      f"{late_fake:.2f}, {late_g:.2f}")
    lesson.check_that(f"{arch}: G's mean image moved toward the real mean image "
                      f"(distance halved at least)",
                      after[0] < 0.5 * before[0], f"{before[0]:.2f} -> {after[0]:.2f}")
    lesson.check_that(f"{arch}: G's samples differ from each other (pixel spread > "
                      f"0.25 x the real data's)",
                      after[1] > 0.25 * real_spread,
                      f"{after[1]:.2f} vs real {real_spread:.2f}")

# %% [markdown]
# ## Did G learn digits?
#
# Pixel statistics cannot say. "The mean of G's images is near the mean real image" and
# "G's samples differ from each other" are both true of THE MEAN DIGIT PLUS NOISE,
# $\mathrm{mean} + \mathrm{std} \cdot \mathcal N(0, 1)$ per pixel (clipped to
# $[-1, 1]$): a "generator" that learned each pixel's mean and spread and no stroke.
# The lesson builds it and shows it passes those two checks.

# %%
lesson.section("3. did G learn digits, or the mean digit plus noise? the evaluation "
               "classifier reads them")
noise_rng = np.random.default_rng(lesson.seed + 2)
noise = noise_rng.standard_normal((500, 1, 8, 8))
mean_plus_noise = np.clip(real_mean + real_std * noise, -1, 1).astype(np.float32)
dist, spread = image_stats(mean_plus_noise)
start = min(u[0] for u in untrained.values())
print(f"  the mean digit plus noise: distance of its mean image to the real mean "
      f"{dist:.2f} (untrained G: {start:.2f}), pixel spread {spread:.2f} "
      f"(real {real_spread:.2f})")
lesson.check_that("the mean digit plus noise passes both pixel checks above (they "
                  "cannot tell it from digits)",
                  dist < 0.5 * start and spread > 0.25 * real_spread,
                  f"distance {dist:.2f} < 0.5 x {start:.2f}, "
                  f"spread {spread:.2f} > 0.25 x {real_spread:.2f}")

# %% [markdown]
# What it fails is the EVALUATION CLASSIFIER (`minigan.metrics`, lesson 15: a small CNN
# trained on the real digits, here for 25 epochs as `minigan evaluate` does): its
# penultimate features put the noise far from real digits (Fréchet distance ~160 to
# 200, against ~90 for the DCGAN after 300 steps and ~4 for real digits) and its
# classifier score is lower (~4, against ~6 for that DCGAN and ~10 for real digits).
# The classifier's CLASS COVERAGE alone is fooled, though: it must call every noisy
# blob some digit, and the noise spreads over all 10 classes. So G must cover ≥ 9 of
# the 10 classes AND beat the mean digit plus noise on Fréchet distance and on
# classifier score.
#
# After the quick run's 300 steps only the DCGAN does: the MLP, with no prior that
# neighbouring pixels belong together, has not yet learned strokes (it covers 5 to 8
# classes, and the classifier finds it further from digits than the noise); after the
# full run's 3,000 steps both do.

# %%
classifier, accuracy = train_classifier(images_host, labels,
                                        epochs=default_epochs(len(images_host)),
                                        seed=lesson.seed, log=lambda line: None)
real_feats, real_probs = classifier.features_and_proba(images_host)


def judged(samples):
    """(classes covered, classifier score, Fréchet distance to the real digits'
    features) of samples."""
    feats, probs = classifier.features_and_proba(samples)
    return (class_coverage(probs)[0], classifier_score(probs),
            frechet_distance(feats, real_feats))


verdicts = {"real digits (500)": judged(images_host[:500]),
            "mean digit + noise": judged(mean_plus_noise)}
verdicts.update({arch: judged(samples) for arch, samples in final_samples.items()})
print(f"  evaluation classifier: {default_epochs(len(images_host))} epochs, "
      f"held-out accuracy {accuracy:.1%}")
print(f"  {'':20s} {'classes covered':>16s} {'classifier score':>17s} "
      f"{'Frechet distance':>17s}")
for name, (covered, score, fd) in verdicts.items():
    print(f"  {name:20s} {covered:>16d} {score:>17.2f} {fd:>17.1f}")
lesson.check_that("the classifier knows digits (held-out accuracy > 90 %)",
                  accuracy > 0.9, f"{accuracy:.1%}")
n_cov, n_score, n_fd = verdicts["mean digit + noise"]
lesson.check_that("class coverage ALONE is fooled: the mean digit plus noise covers >= "
                  "9 classes", n_cov >= 9, f"{n_cov} of 10")
real_fd = verdicts["real digits (500)"][2]
lesson.check_that("... but not the features: its Fréchet distance is over 10x the real "
                  "digits'", n_fd > 10 * real_fd, f"{n_fd:.1f} vs {real_fd:.1f}")


def learned_digits(arch):
    covered, score, fd = verdicts[arch]
    return covered >= 9 and fd < n_fd and score > n_score


for arch in final_samples:
    covered, score, fd = verdicts[arch]
    detail = (f"{covered} classes, score {score:.2f} vs {n_score:.2f}, "
              f"FD {fd:.1f} vs {n_fd:.1f} (mean digit + noise)")
    if arch == "mlp" and lesson.quick:
        lesson.check_that("mlp after the quick run's 300 steps: NOT yet more "
                          "digit-like than the mean digit plus noise (its FD is "
                          "higher: no strokes yet)", fd > n_fd, detail)
    else:
        lesson.check_that(f"{arch}: G learned digits: covers >= 9 classes and beats "
                          f"the mean digit plus noise on score and FD",
                          learned_digits(arch), detail)

# %% [markdown]
# ## The training curves
#
# Both losses (moving average of 10 steps) beside their equilibrium values
# $2 \log 2$ and $\log 2$, and D's mean outputs on real and on fake images beside $1/2$.

# %%
fig, axes = plt.subplots(2, 2, figsize=(12, 7), sharex=True)


def smooth(v, k=10):
    return np.convolve(v, np.ones(k) / k, mode="valid")


for col, (arch, history) in enumerate(histories.items()):
    for key, label in (("loss_d", "L_D"), ("loss_g", "L_G")):
        axes[0, col].plot(smooth(np.array([h[key] for h in history])), label=label)
    axes[0, col].axhline(2 * np.log(2), color="tab:blue", linestyle=":", linewidth=0.8,
                         label="2 log 2")
    axes[0, col].axhline(np.log(2), color="tab:orange", linestyle=":", linewidth=0.8,
                         label="log 2")
    axes[0, col].set_title(f"{arch}: losses (moving average of 10)")
    axes[0, col].legend(fontsize=8)
    for key, label in (("d_real", "mean D(x)"), ("d_fake_before", "mean D(G(z))")):
        axes[1, col].plot(smooth(np.array([h[key] for h in history])), label=label)
    axes[1, col].axhline(0.5, color="gray", linestyle=":", linewidth=0.8)
    axes[1, col].set_ylim(0, 1)
    axes[1, col].set_xlabel("step")
    axes[1, col].set_title(f"{arch}: D's outputs")
    axes[1, col].legend(fontsize=8)
lesson.savefig(fig, "training.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. The mean digit plus noise passes both pixel checks that every trained G passed.
#    What does it lack that a digit has, and which of the classifier's three figures
#    notices it, and which does not?
# 2. After the quick run the MLP's last-30-step losses are close to their equilibrium
#    values, the DCGAN's far from them ($L_D$ well below $2 \log 2$). Does that make the
#    MLP the better GAN? What does the lesson's evaluation say?
# 3. The DCGAN's G has far fewer parameters than the MLP's G (the lesson prints both),
#    yet learns digits faster. What prior do its convolutions build in?
#
# Short answers: `lessons/ANSWERS.md`.
