"""Lesson 10 — an MLP GAN and a DCGAN on the embedded 8x8 digits.

THE IDEA
--------
Everything so far comes together: Dense, BatchNorm, LeakyReLU and Tanh (lessons 01-04), Conv2d and
ConvTranspose2d (05-06), Adam (07), the non-saturating loss (08). We train two GANs on real images,
1,797 handwritten digits of 8x8 pixels (UCI, embedded in minigan), and compare a fully connected pair
with a convolutional (DCGAN) pair. Same data, same trainer, same loss; only the architecture differs.

THE DATA: minigan.data.load_digits() -> images (1797, 1, 8, 8) float32 scaled to [-1, 1] (background
-1, ink up to +1), labels (1797,). G ends in tanh so its images live in the same [-1, 1].

THE TWO ARCHITECTURES (minigan.models.build; z (N, 32) ~ N(0, I); DCGAN initialisation, N(0, 0.02))
  "mlp"   G: z (N, 32) -> Dense 256 -> LeakyReLU(0.2) -> BatchNorm1d -> Dense 512 -> ... -> Dense 1024 -> ...
             -> Dense 64 -> Tanh -> Reshape -> (N, 1, 8, 8)
          D: (N, 1, 8, 8) -> Flatten (N, 64) -> Dense 512 -> LeakyReLU(0.2) -> Dense 256 -> LeakyReLU -> Dense 1
          Every pixel has its own weights: nothing tells the network that neighbouring pixels are related.
  "dcgan" (width c = 32)
          G: z (N, 32) -> Dense 2c*2*2 = 256 -> BatchNorm1d -> ReLU -> Reshape (N, 64, 2, 2)
             -> ConvTranspose2d(64 -> 32, k4 s2 p1) (N, 32, 4, 4) -> BatchNorm2d -> ReLU
             -> ConvTranspose2d(32 -> 1, k4 s2 p1) (N, 1, 8, 8) -> Tanh
          D: (N, 1, 8, 8) -> Conv2d(1 -> 32, k4 s2 p1) (N, 32, 4, 4) -> LeakyReLU(0.2)
             -> Conv2d(32 -> 64, k4 s2 p1) (N, 64, 2, 2) -> BatchNorm2d -> LeakyReLU -> Flatten (N, 256) -> Dense 1
          A 4x4 kernel is reused at every position (weight sharing) and sees only a neighbourhood
          (locality): the prior that images are made of local strokes. Far fewer parameters (printed).
  The DCGAN rules (Radford et al., 2015): strided convolutions instead of pooling, BatchNorm in both
  nets (not on G's output nor D's input), ReLU in G and LeakyReLU in D, tanh output, Adam with beta1 = 0.5.

ONE TRAINING STEP (minigan.train.GAN.train_step; batch B = 64; lesson 08 for the losses)
    D step: logits of a real batch (B, 1, 8, 8) and of a fake batch G(z); L_D = bce(real, 1) + bce(fake, 0);
            backward through D; Adam step on D.
    G step: the same fakes through the UPDATED D; L_G = -mean log D(G(z)); backward through D (input
            gradient only) and then G; Adam step on G.
    Here both learning rates are 5e-4 and fall linearly to 0 (the digits recipe of `minigan train`).
What to watch: mean D(x) and D(G(z)). At the game's equilibrium D cannot tell, D = 1/2 everywhere, and
L_D = 2 log 2 = 1.386, L_G = log 2 = 0.693. In practice D stays ahead: D(x) > D(G(z)).

WHAT THE LESSON DOES (--quick: 300 steps each; the full run 3,000)
  1. trains the MLP GAN, then the DCGAN, recording every step's figures;
  2. checks that D separates real from fake early on (D(x) > D(G(z))), that G's loss moved, and that G
     learned something about the data: the mean of its images approaches the mean real image, and its
     samples are not all the same (per-pixel spread across samples, compared with the real data's);
  3. saves real.png, mlp_samples.png, dcgan_samples.png (fixed noise, eval mode) and training.png.
(How good are these samples, really? Judging that honestly is lesson 15.)
Run:  python lessons/14_digits_mlp_and_dcgan.py [--quick] [--backend cupy] [--out DIR]
"""
from _common import Lesson, plt  # first: sets up the path, BLAS threads, matplotlib's Agg backend

import numpy as np

from minigan import backend
from minigan.data import load_digits
from minigan.models import build
from minigan.train import GAN
from minigan.viz import save_image_grid

lesson = Lesson(__file__, __doc__)
A = backend.asarray
STEPS = 300 if lesson.quick else 3000
Z, BATCH, LR = 32, 64, 5e-4

images_host = load_digits()[0]                              # (1797, 1, 8, 8) in [-1, 1], NumPy
images = A(images_host)
real_mean = images_host.mean(axis=0)                        # (1, 8, 8): the "average digit"
real_spread = float(images_host.std(axis=0).mean())         # per-pixel std across images, averaged


def sample_digits(rng, n):
    """A batch of n distinct training images, drawn with the trainer's own generator (reproducible)."""
    return images[A(rng.choice(len(images_host), n, replace=False))]


def image_stats(samples):
    """(distance of the mean image to the real mean image, per-pixel spread) of samples (N, 1, 8, 8)."""
    return float(np.sqrt(((samples.mean(axis=0) - real_mean) ** 2).sum())), float(samples.std(axis=0).mean())


save_image_grid(images_host[:64], lesson.path("real.png"), "64 real digits (UCI, 8x8)")
histories = {}
for i, (arch, options) in enumerate([("mlp", {}), ("dcgan", {"width": 32})], start=1):
    lesson.section(f"{i}. {arch}: {STEPS} steps, batch {BATCH}, Adam lr {LR} (linear decay), betas (0.5, 0.999)")
    backend.seed(lesson.seed)
    G, D = build(arch, (1, 8, 8), z_dim=Z, **options)
    print(f"  parameters: G {G.num_parameters():,}, D {D.num_parameters():,}")
    gan = GAN(G, D, z_dim=Z, loss="nonsaturating", lr_g=LR, lr_d=LR, seed=lesson.seed, lr_schedule="linear",
              total_steps=STEPS)
    before = image_stats(gan.sample(500, seed=lesson.seed + 1))
    history = []
    gan.fit(sample_digits, STEPS, BATCH, on_step=history.append)
    histories[arch] = history
    samples = gan.sample(500, seed=lesson.seed + 1)         # the same noise as `before`, eval mode
    after = image_stats(samples)
    save_image_grid(samples[:64], lesson.path(f"{arch}_samples.png"), f"{arch} GAN after {STEPS} steps")

    d_real = np.array([h["d_real"] for h in history])
    d_fake = np.array([h["d_fake_before"] for h in history])
    loss_g = np.array([h["loss_g"] for h in history])
    loss_d = np.array([h["loss_d"] for h in history])
    early = slice(10, 50)
    gap = float((d_real[early] - d_fake[early]).mean())
    print(f"  steps 10-50: mean D(x) {d_real[early].mean():.2f}, mean D(G(z)) {d_fake[early].mean():.2f}")
    print(f"  last 30 steps: L_D {loss_d[-30:].mean():.3f} (equilibrium 1.386), L_G {loss_g[-30:].mean():.3f} "
          f"(0.693), D(x) {d_real[-30:].mean():.2f}, D(G(z)) {d_fake[-30:].mean():.2f}")
    lesson.check_that(f"{arch}: D tells real from fake early (mean D(x) - D(G(z)) over steps 10-50 > 0.05)",
                      gap > 0.05, f"{gap:.2f}")
    moved = float(abs(loss_g - loss_g[:5].mean()).max())
    lesson.check_that(f"{arch}: the generator loss moved (max |L_G - L_G at start| > 0.1)", moved > 0.1,
                      f"{moved:.2f}")
    lesson.check_that(f"{arch}: G's mean image moved toward the real mean image (distance halved at least)",
                      after[0] < 0.5 * before[0], f"{before[0]:.2f} -> {after[0]:.2f}")
    lesson.check_that(f"{arch}: G's samples differ from each other (pixel spread > 0.25 x the real data's)",
                      after[1] > 0.25 * real_spread, f"{after[1]:.2f} vs real {real_spread:.2f}")

fig, axes = plt.subplots(2, 2, figsize=(12, 7), sharex=True)


def smooth(v, k=10):
    return np.convolve(v, np.ones(k) / k, mode="valid")


for col, (arch, history) in enumerate(histories.items()):
    for key, label in (("loss_d", "L_D"), ("loss_g", "L_G")):
        axes[0, col].plot(smooth(np.array([h[key] for h in history])), label=label)
    axes[0, col].axhline(2 * np.log(2), color="tab:blue", linestyle=":", linewidth=0.8, label="2 log 2")
    axes[0, col].axhline(np.log(2), color="tab:orange", linestyle=":", linewidth=0.8, label="log 2")
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
