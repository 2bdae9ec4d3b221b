# %% [markdown]
# # Lesson 19 — a conditional U-Net GAN: restoring digits, and enlarging them
#
# Lesson 17 gave G a label. Here G gets an IMAGE: a damaged digit $x$, and it must
# return the clean one $y$. Two damages, one recipe:
#
# - **inpainting**: the bottom half of the digit is lost;
# - **super-resolution**: only the 4x4 averages of its 2x2 blocks are left.
#
# There are two ways to restore with a GAN.
#
# 1. Train an ordinary, unconditional $G(z)$ on clean digits, then for each damaged
#    digit SEARCH for the $z$ whose $G(z)$ best matches the pixels that are left
#    (lesson 18, `minigan.inpaint.restore`, Yeh et al. 2017): hundreds of Adam steps
#    per image, and the answer can only be a point of G's range.
# 2. **pix2pix** (Isola et al. 2017): make training pairs $(x, y)$ by damaging clean
#    digits, and train a conditional $G(x) \approx y$ on them. G learns the mapping
#    itself: a restoration is ONE forward pass, and G is trained on exactly the task
#    it is asked to do, with the damaged pixels as its input rather than as a
#    constraint of a search.
#
# The lesson checks, in float64 against central differences: the whole U-Net's
# backward (its skips included: the fork adds its paths' gradients), the patch D's,
# and the gradient of G's loss, adversarial + $\lambda$ L1. It shows that each patch
# logit sees only its own patch. Then it trains both tasks on the digits, with the
# last 30 % held out, and measures the restorations against the baselines.

# %%
from _common import Lesson, plt, timeit  # first: the path, BLAS threads, matplotlib

import time

import numpy as np

import minigan
from minigan import backend
from minigan.data import load_digits
from minigan.gradcheck import check_layer, numerical_gradient, rel_error
from minigan.inpaint import named_mask, restore
from minigan.layers import (Concat, Conv2d, ConvTranspose2d, Identity, LeakyReLU,
                            Sequential)
from minigan.losses import generator_loss
from minigan.metrics import train_classifier
from minigan.metrics.classifier import default_epochs
from minigan.models import build
from minigan.pix2pix import (Pix2Pix, pair_sampler, bilinear_upsample, downsample,
                             generator_output_grad, inpainting_inputs, masked_mse,
                             patch_discriminator, paste_known, receptive_window,
                             super_resolution_inputs, translate, unet_generator)
from minigan.datasource import split_holdout
from minigan.train import GAN

lesson = Lesson("19_conditional_restoration_unet")
xp = lesson.xp
H = backend.to_numpy
generator_output_grad = lesson.exercises(generator_output_grad)
STEPS = 150 if lesson.quick else 2000          # pix2pix steps per task
WIDTH = 16 if lesson.quick else 32             # the U-Net's and the patch D's c
LR = 1e-3 if lesson.quick else 2e-4            # quick: a few big steps
GAN_STEPS = 300 if lesson.quick else 4000      # the unconditional DCGAN
N_ZOPT = 64 if lesson.quick else None          # held-out digits restored by z-search


def normal(rng, shape):
    return backend.asarray(rng.standard_normal(shape), dtype=backend.default_dtype())


# %% [markdown]
# ## The U-Net, and the gradient of a skip
#
# G maps $(N, C_{in}, 8, 8)$ to $(N, 1, 8, 8)$ (`minigan.pix2pix.unet_generator`,
# $c$ = width):
#
# | level | down: Conv k4 s2 p1 | up: ConvT k4 s2 p1 | skip $[x, \text{up}]$ |
# |---|---|---|---|
# | 8x8 | $(C_{in},8,8) \to (c,4,4)$ | $(2c,4,4) \to (c,8,8)$ | $(C_{in}+c, 8, 8)$ |
# | 4x4 | $(c,4,4) \to (2c,2,2)$ | $(2c,2,2) \to (c,4,4)$ | $(2c, 4, 4)$ |
# | 2x2 | 2 residual blocks $x + f(x)$ on $(2c,2,2)$ | | |
#
# (LeakyReLU after each down, ReLU after each up), then a 3x3 convolution and tanh.
# An encoder-decoder alone squeezes the digit through the 2x2 bottleneck, where the
# exact position of every stroke is blurred away. A **skip** hands each level's input
# straight to its decoder, beside what the coarser levels made of it:
# `Concat(Identity(), inner)`, $y = [x,\ f(x)]$ on the channels. For inpainting, the
# known top half reaches the output through the skip and one 3x3 convolution.
#
# Its backward: $x$ FORKS into two paths, and $x$ changes $L$ through both, so the
# multivariate chain rule adds them. With $g = \partial L / \partial y$ split into the
# skip's channels $g_x$ and the inner path's $g_f$:
#
# $$\frac{\partial L}{\partial x} = g_x + J_f^{\top} g_f .$$
#
# The first check is the whole U-Net, every parameter and the input, against central
# differences. The second takes one skip level alone and drops either term of the
# sum: each half on its own is off by far more than the sum (relative error $> 10^{-3}$
# against $\sim 10^{-10}$).

# %%
lesson.section("1. the U-Net's backward against central differences (float64)")
minigan.set_default_dtype("float64")
rng = backend.rng(lesson.seed)
G64 = unet_generator(2, 1, width=3, residual_blocks=2)
for _, p, _ in G64.parameters():
    p *= 3   # at the default init the bottleneck's gradients are so small that rounding
    # (about 1e-16 of the output / h) would show in them as a relative error near 1e-7
errors = check_layer(G64, normal(rng, (3, 2, 8, 8)))
lesson.check("the whole U-Net (input and all parameters), max rel err",
             max(errors.values()), 1e-7)

level = Concat(Identity(), Sequential(Conv2d(2, 3, 4, stride=2, padding=1),
                                      LeakyReLU(0.2),
                                      ConvTranspose2d(3, 2, 4, stride=2, padding=1)))
x = normal(rng, (2, 2, 8, 8))
g = normal(rng, (2, 4, 8, 8))                # dL/dy: 2 skip channels, 2 inner ones
level(x)
summed = level.backward(g, param_grads=False)
level[1](x)                                  # the inner path alone, forward again
inner = level[1].backward(xp.ascontiguousarray(g[:, 2:]), param_grads=False)
numeric = numerical_gradient(lambda: float((level(x) * g).sum()), x)
lesson.check("one skip level: dL/dx = g_x + J_f^T g_f (rel err)",
             rel_error(summed, numeric), 1e-7)
lesson.check_that("each path alone is wrong: the skip's g_x, the inner J_f^T g_f",
                  min(rel_error(g[:, :2], numeric), rel_error(inner, numeric)) > 1e-3,
                  f"rel err {rel_error(g[:, :2], numeric):.2f} and "
                  f"{rel_error(inner, numeric):.2f}")

# %% [markdown]
# ## The patch discriminator
#
# D judges a PAIR: $[x, y]$ stacked on the channels, $(N, C_{in} + 1, 8, 8)$, so it asks
# "is $y$ a plausible restoration OF $x$?", not just "is $y$ a digit?" (a digit that
# ignores $x$'s top half is an easy fake). And it answers patch by patch: one k4 s2 p1
# convolution and two 1x1 convolutions (`patch_discriminator`) give a $4 \times 4$
# grid of logits, $(N, 1, 4, 4)$, and logit $(i, j)$ sees only the $4 \times 4$ window
# of rows and columns $2i - 1, \dots, 2i + 2$ (`receptive_window`). Each patch is
# judged alone, and the loss averages over the $16 N$ judgements. On 256x256 photos
# pix2pix's patches are 70 pixels wide; here they are half the digit.
#
# The check: $\partial\, \text{logit}(i, j) / \partial [x, y]$ is nonzero at every pixel
# of its window and exactly zero outside it, for all 16 logits; and D's backward
# against central differences.

# %%
lesson.section("2. the patch D: one logit per 4x4 window")
D64 = patch_discriminator(3, width=4)
errors = check_layer(D64, normal(rng, (3, 3, 8, 8)))
lesson.check("the patch D (input and all parameters), max rel err",
             max(errors.values()), 1e-7)
pair = normal(rng, (1, 3, 8, 8))
exact = True
for i in range(4):
    for j in range(4):
        logits = D64(pair)                   # a forward for each backward
        seed = xp.zeros_like(logits)
        seed[0, 0, i, j] = 1
        reach = np.abs(H(D64.backward(seed, param_grads=False))[0]).sum(axis=0) > 0
        window = np.zeros((8, 8), dtype=bool)
        window[receptive_window(i, j)] = True
        exact &= bool((reach == window).all())
lesson.check_that("each of the 16 logits depends on exactly its window's pixels",
                  exact, f"logits {tuple(logits.shape)}")

# %% [markdown]
# ## The objective: adversarial + $\lambda$ L1
#
# With $P = 16N$ patch logits, $d = \sigma(\text{logit})$, and $t$ the clean digit:
#
# $$L_D = \operatorname{mean}_P \operatorname{softplus}(-D([x, t]))
#   + \operatorname{mean}_P \operatorname{softplus}(D([x, G(x)])),$$
#
# $$L_G = \operatorname{mean}_P \operatorname{softplus}(-D([x, G(x)]))
#   + \lambda \frac{1}{M} \sum_i |G(x)_i - t_i|, \qquad M = N \cdot 64 .$$
#
# Why both. The L1 term alone is minimised, for a pixel whose value is uncertain
# given $x$, by the MEDIAN of its plausible values (the L2 term by their mean): a
# compromise between the ways the digit could end, often a blur that no real digit
# has. The patch D penalises patches that never occur in a real pair, so it pulls G
# off the compromise towards one sharp answer, and the L1 term keeps that answer close
# to the truth ($\lambda = 100$, as in pix2pix). The first check of this section: for
# each lost pixel of the training digits, the constant $c$ of least
# $\operatorname{mean}_n |v_n - c|$ over those digits is their median (no $c$ on a fine
# grid does better), and it is not their mean (the least-squares answer).
#
# The gradient G's backward starts from (the exercise):
#
# $$\frac{\partial L_G}{\partial G(x)}
#   = \Big(\frac{\partial L_{adv}}{\partial [x, G(x)]}\Big)_{\text{last channel}}
#   + \lambda\, \frac{\operatorname{sign}(G(x) - t)}{M}:$$
#
# D's input gradient for the pair, of which only G(x)'s channel is kept ($x$ is data),
# and the L1 term's sign. The check: that gradient against central differences of
# $L_G$ with respect to $G(x)$, with $\lambda = 1$ so that both terms count.

# %%
lesson.section("3. the L1 term's answer, and dL_G/dG(x) against central differences")
digits = load_digits()[0]
lost = digits[:round(0.7 * len(digits)), 0, 4:].reshape(-1, 32).astype(np.float64)
grid = np.linspace(-1, 1, 401)
l1_grid = np.abs(lost[:, :, None] - grid).mean(axis=0)          # (32 pixels, 401 c)
l1_median = np.abs(lost - np.median(lost, axis=0)).mean(axis=0)
l1_mean = np.abs(lost - lost.mean(axis=0)).mean(axis=0)
lesson.check("L1 at each pixel's median minus the best c of the grid (<= 0)",
             max(0.0, float((l1_median - l1_grid.min(axis=1)).max())), 1e-12)
lesson.check_that("the mean does worse in L1 at most lost pixels",
                  (l1_mean > l1_median + 1e-9).mean() > 0.5,
                  f"at {(l1_mean > l1_median + 1e-9).sum()} of 32")
x = normal(rng, (2, 2, 8, 8))
fake = xp.tanh(normal(rng, (2, 1, 8, 8)))
target = xp.tanh(normal(rng, (2, 1, 8, 8)))


def loss_g(fake):
    adv, grad = generator_loss(D64(xp.concatenate([x, fake], axis=1)).reshape(-1))
    return adv + float(xp.abs(fake - target).mean()), grad


_, grad_logits = loss_g(fake)
grad_pair = D64.backward(grad_logits.reshape(2, 1, 4, 4), param_grads=False)
analytic = generator_output_grad(H(grad_pair), H(fake), H(target), 1.0)  # NumPy in, out
numeric = numerical_gradient(lambda: loss_g(fake)[0], fake)
lesson.check("dL_G/dG(x), analytic vs numeric (rel err)", rel_error(analytic, numeric),
             1e-7)
minigan.set_default_dtype("float32")

# %% [markdown]
# ## Inpainting: training on pairs we make ourselves
#
# The digits are split as `minigan train --holdout 0.3` splits them: G and D train on
# the first 1,258, the last 539 are held out. A pair is (the digit with its bottom half
# set to $-1$, the background, and the mask beside it as a second channel; the clean
# digit). The mask (1 known, 0 lost: `minigan.inpaint.named_mask("bottom", ...)`)
# tells G which $-1$ is paper and which is a hole.
#
# Each restoration is scored on the LOST pixels only, with the known ones pasted back
# (the same for every method): the masked-pixel MSE, and the accuracy of a digit
# classifier on the restored digits (the recipe of the classifier `minigan evaluate`
# uses, trained on all the digits). The baseline is the background fill: the lost
# pixels left at $-1$.

# %%
lesson.section(f"4. inpainting: pix2pix, {STEPS} steps on the 70 % (c = {WIDTH})")
images, labels = load_digits()
(train, _), (test, test_labels) = split_holdout({"holdout": 0.3}, images, labels)
mask = named_mask("bottom", images.shape[1:])          # (1, 1, 8, 8), 1 = known
x_train, x_test = backend.asarray(train), backend.asarray(test)
epochs = 5 if lesson.quick else default_epochs(len(images))
classifier, _ = train_classifier(images, labels, epochs, seed=0, log=lambda line: None)


def accuracy(restored, labels=test_labels):
    """The share of the digits (N, 1, 8, 8) the classifier reads as their label."""
    return float((classifier.predict_proba(restored).argmax(axis=1) == labels).mean())


def trained_unet(inputs, log_every):
    backend.seed(lesson.seed)
    c_in = inputs.shape[1]
    trainer = Pix2Pix(unet_generator(c_in, 1, WIDTH),
                      patch_discriminator(c_in + 1, WIDTH), lr_g=LR, lr_d=LR,
                      seed=lesson.seed)

    def report(figures):
        if trainer.step % log_every == 0:
            print(f"  step {trainer.step}: L1 {figures['l1']:.3f}, D(real) "
                  f"{figures['d_real']:.2f}, D(fake) {figures['d_fake_before']:.2f}")

    trainer.fit(pair_sampler(inputs, x_train), STEPS, 64, report)
    return trainer.G


G_inpaint = trained_unet(inpainting_inputs(x_train, backend.asarray(mask)), STEPS // 3)
test_inputs = inpainting_inputs(x_test, backend.asarray(mask))
unet = paste_known(translate(G_inpaint, test_inputs), test, mask)
background = paste_known(-np.ones_like(test), test, mask)
scores = {"U-Net": (masked_mse(unet, test, mask), accuracy(unet)),
          "background fill": (masked_mse(background, test, mask), accuracy(background)),
          "clean": (0.0, accuracy(test))}
for name, (mse, acc) in scores.items():
    print(f"  {name:>16}: masked-pixel MSE {mse:.3f}, classifier accuracy {acc:.1%}")
lesson.check_that("the U-Net's masked-pixel MSE is below the background fill's",
                  scores["U-Net"][0] < scores["background fill"][0],
                  f"{scores['U-Net'][0]:.3f} < {scores['background fill'][0]:.3f}")
lesson.check_that("the classifier reads the U-Net's digits better than the filled ones",
                  scores["U-Net"][1] > scores["background fill"][1],
                  f"{scores['U-Net'][1]:.1%} > {scores['background fill'][1]:.1%}")

# %% [markdown]
# ## Against restoration by optimising z
#
# An unconditional DCGAN trained on the same 1,258 digits (the digits' recipe of
# `minigan train`, 4,000 steps in the full run, 300 in the quick one), and
# `minigan.inpaint.restore` on the held-out digits: for each, Adam on $z$ to fit $G(z)$
# to the known top half (plus a small prior from D), the best of several random starts
# kept (its defaults: 300 steps, 4 starts; the quick run restores 64 digits with 100
# steps and 2 starts). The checks: the cost of a restoration, the U-Net's one forward
# pass against the whole search, and (full run) the masked-pixel MSE of the two.

# %%
lesson.section(f"5. against z-optimisation ({GAN_STEPS}-step DCGAN, minigan.inpaint)")
backend.seed(lesson.seed)
G, D = build("dcgan", (1, 8, 8), z_dim=32, width=32)
gan = GAN(G, D, z_dim=32, lr_g=5e-4, lr_d=5e-4, seed=lesson.seed, lr_schedule="linear",
          total_steps=GAN_STEPS)
gan.fit(lambda rng, k: x_train[backend.asarray(rng.choice(len(train), k,
                                                         replace=False))],
        GAN_STEPS, 64)
subset = slice(0, N_ZOPT)
zopt_options = dict(steps=100, restarts=2) if lesson.quick else {}
start = time.perf_counter()
zopt = restore(G, D, test[subset], mask, 32, seed=lesson.seed,
               **zopt_options).images.astype(np.float32)
zopt_seconds = time.perf_counter() - start   # restore returns NumPy: the GPU is done
unet_seconds = timeit(lambda: translate(G_inpaint, test_inputs[subset]), repeats=5)
on_subset = {name: (masked_mse(restored, test[subset], mask),
                    accuracy(restored, test_labels[subset]))
             for name, restored in [("z-optimisation", zopt), ("U-Net", unet[subset])]}
print(f"  on {len(zopt)} held-out digits:")
for name, (mse, acc) in on_subset.items():
    print(f"  {name:>16}: masked-pixel MSE {mse:.3f}, classifier accuracy {acc:.1%}")
print(f"  seconds: z-optimisation {zopt_seconds:.2f}, U-Net {unet_seconds:.4f}")
lesson.check_that("one U-Net pass costs under 5 % of the z-search",
                  unet_seconds < 0.05 * zopt_seconds,
                  f"{unet_seconds * 1e3:.1f} ms vs {zopt_seconds:.2f} s")
if not lesson.quick:
    mse_unet, mse_z = on_subset["U-Net"][0], on_subset["z-optimisation"][0]
    lesson.check_that("the U-Net's masked-pixel MSE is below z-optimisation's",
                      mse_unet < mse_z, f"{mse_unet:.3f} < {mse_z:.3f}")

# %%
rows = [("masked", np.where(mask > 0, test, 0)), ("z-optimisation", zopt),
        ("U-Net", unet), ("true", test)]


def draw_rows(rows, title, filename):
    """One row of 10 held-out digits per (name, images (N, 1, 8, 8)) pair."""
    fig, axes = plt.subplots(len(rows), 10, figsize=(8, 0.9 * len(rows)))
    for r, (name, pictures) in enumerate(rows):
        for j in range(10):
            axes[r, j].imshow(pictures[j, 0], cmap="gray", vmin=-1, vmax=1)
            axes[r, j].set_xticks([])
            axes[r, j].set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=8)
    fig.suptitle(title)
    lesson.savefig(fig, filename)


draw_rows(rows, "held-out digits, bottom half lost (grey)", "restoration_compared.png")

# %% [markdown]
# ## Super-resolution, 4x4 to 8x8
#
# The same U-Net builder, with one input channel: each digit averaged over its 2x2
# blocks and enlarged back to 8x8 by nearest neighbour, the pair's target the clean
# digit. The baselines enlarge the same 4x4 averages by nearest neighbour and
# bilinearly (pixel centres aligned, as PyTorch's `interpolate`). The check: the
# U-Net's MSE over all pixels of the held-out digits below both.

# %%
lesson.section(f"6. super-resolution: pix2pix, {STEPS} steps")
G_sr = trained_unet(super_resolution_inputs(x_train), STEPS // 3)
small = downsample(test)
enlarged = {"U-Net": translate(G_sr, super_resolution_inputs(x_test)),
            "bilinear": bilinear_upsample(small),
            "nearest": super_resolution_inputs(test)}
sr = {name: (float(((img - test) ** 2).mean()), accuracy(img))
      for name, img in enlarged.items()}
for name, (mse, acc) in sr.items():
    print(f"  {name:>9}: MSE {mse:.3f}, classifier accuracy {acc:.1%}")
lesson.check_that("the U-Net's MSE is below nearest and bilinear upsampling's",
                  sr["U-Net"][0] < min(sr["nearest"][0], sr["bilinear"][0]),
                  f"{sr['U-Net'][0]:.3f} < {sr['nearest'][0]:.3f}, "
                  f"{sr['bilinear'][0]:.3f}")

# %%
rows = [("4x4 (nearest)", enlarged["nearest"]), ("bilinear", enlarged["bilinear"]),
        ("U-Net", enlarged["U-Net"]), ("true", test)]
draw_rows(rows, "held-out digits, 4x4 -> 8x8", "super_resolution.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. In the skip check the skip's $g_x$ alone was off by a relative 0.07 and the inner
#    path's $J_f^{\top} g_f$ alone by 0.92. Why is the skip's term most of the gradient
#    of a freshly built level, and why does that help a U-Net train?
# 2. The patch D's logits each see a 4x4 window. What could a G that fools such a D
#    still get wrong, and what in the objective guards against it?
# 3. The U-Net restored the held-out digits in a fraction of a second, the z-search
#    took minutes, and the U-Net's masked-pixel MSE was lower (checked in the full run;
#    the quick run's DCGAN is too short to compare). What does the z-search offer that
#    this U-Net does not? Think of a test mask that hides the LEFT half.
#
# Short answers: `lessons/ANSWERS.md`.
