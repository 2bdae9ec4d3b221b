# %% [markdown]
# # Lesson 28 — sanity checks before training: four cheap tests that catch bugs
#
# A GAN that trains badly may be a hard game or a plain bug, and a long run does not
# say which. Stanford's CS231n ("Neural Networks Part 3: Learning and Evaluation")
# lists checks that take seconds and tell them apart BEFORE the long run. This lesson
# runs four of them on minigan's networks and the embedded 8x8 digits, and plants a
# bug in each to show that the check catches it:
#
# 1. **the expected initial loss**: at initialisation the loss has a value you can
#    predict on paper ($2 \log 2$ for D, $\log 2$ for G, $\log 10$ for a 10-class
#    classifier); a measured value far from it means a wrong init, a wrong scale or a
#    wrong loss;
# 2. **overfitting a tiny batch**: any working model drives its training loss to ~0
#    on 16 examples; a model that cannot has a bug (here: an optimiser that updates a
#    copy of the model);
# 3. **the update/weight ratio** $\lVert \Delta\theta \rVert / \lVert \theta \rVert$
#    per layer in the first steps: the learning rate measured where it acts, with
#    Adam's first step predicted exactly;
# 4. **gradient checks near kinks**: a ReLU input within $h$ of 0 makes a correct
#    backward fail a central-difference check, and the lesson shows why and how big.
#
# Everything is float32 except the gradient checks (float64, as in lesson 02).

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import copy
import math

import numpy as np

from minigan import backend, losses
from minigan.data.digits import load_digits
from minigan.gradcheck import check_layer, numerical_gradient, rel_error
from minigan.layers import LeakyReLU, ReLU, no_grad
from minigan.metrics.classifier import make_classifier, softmax_cross_entropy
from minigan.models import build
from minigan.optim import Adam
from minigan.train import GAN

lesson = Lesson("28_sanity_checks")
xp = lesson.xp
H = backend.to_numpy
Z, WIDTH, BATCH = 16, 16, 64
RATIO_STEPS = 20 if lesson.quick else 100      # section 3
OVERFIT_STEPS = 150 if lesson.quick else 300   # section 2
images, labels = load_digits()                 # (1797, 1, 8, 8) in [-1, 1], 0..9
host = np.random.default_rng(lesson.seed)


def batch_of(n, rng=host):
    """n random digits and their labels, on the active backend."""
    idx = rng.choice(len(images), n, replace=False)
    return (backend.asarray(images[idx], dtype=backend.default_dtype()),
            backend.asarray(labels[idx]))


# %% [markdown]
# ## 1. The expected initial loss
#
# **D.** The DCGAN initialisation draws every weight from $N(0, 0.02^2)$, so a fresh
# D's logits $x$ are tiny and $D(x) = \sigma(x) \approx 1/2$ on every image, real or
# fake. D's loss is $-\log D(\text{real}) - \log(1 - D(\text{fake}))$, each term
# $\approx -\log(1/2) = \log 2$, so
#
# $$L_D \approx 2 \log 2 \approx 1.386, \qquad
#   L_G = -\log D(G(z)) \approx \log 2 \approx 0.693$$
#
# (G's non-saturating loss). How near? Per sample $\log(1 + e^{x}) = \log 2 + x/2 +
# x^2/8 + O(x^4)$: with logits of mean $\mu$ and spread $s$ each term moves by
# about $|\mu|/2 + s^2/8$. The lesson prints both; with $|\mu| \le 0.1$ and
# $s \le 0.2$ (seeds 0-5 give at most 0.09 and 0.2) that is under 0.055, 8 % of
# $\log 2$, so the checks allow a 10 % relative difference from $2 \log 2$ (and from
# $\log 2$).
#
# **A classifier.** Softmax over $K$ classes with small logits gives every class
# $\approx 1/K$, so the initial cross-entropy is $\approx \log K$, $\log 10 = 2.303$
# for the digits. minigan's classifier (`make_classifier`) keeps the default
# fan-in initialisation, whose logits are not tiny: the same 10 % tolerance.
#
# **Planted bugs.** A final layer initialised 100 times too large (a wrong `std`, a
# forgotten `/ sqrt(fan_in)`) makes the logits large: confident, mostly wrong
# answers, and an initial loss far above the prediction. The check on them is that
# they miss the prediction by more than the tolerance, i.e. that the sanity check
# would have caught the bug.

# %%
lesson.section("1. the expected initial loss")
backend.seed(lesson.seed)
G, D = build("dcgan", (1, 8, 8), Z, width=WIDTH)
real, real_labels = batch_of(BATCH)
z = backend.asarray(host.standard_normal((BATCH, Z)), dtype=backend.default_dtype())


def gan_losses(G, D):
    """(L_D, L_G, the logits) of a fresh GAN on one real and one fake batch."""
    with no_grad():
        real_logits, fake_logits = D(real), D(G(z))
    l_real, _ = losses.bce_with_logits(real_logits, 1.0)
    l_fake, _ = losses.bce_with_logits(fake_logits, 0.0)
    l_g, _ = losses.bce_with_logits(fake_logits, 1.0)
    return l_real + l_fake, l_g, np.concatenate([H(real_logits), H(fake_logits)])


loss_d, loss_g, logits = gan_losses(G, D)
print(f"  fresh D: logits on reals {logits[:BATCH].mean():+.3f} +- "
      f"{logits[:BATCH].std():.3f}, on fakes {logits[BATCH:].mean():+.3f} +- "
      f"{logits[BATCH:].std():.3f}")
print(f"  L_D {loss_d:.4f} (2 log 2 = {2 * math.log(2):.4f}), "
      f"L_G {loss_g:.4f} (log 2 = {math.log(2):.4f})")
lesson.check("L_D of a fresh GAN vs 2 log 2 (relative difference)",
             abs(loss_d / (2 * math.log(2)) - 1), 0.1)
lesson.check("L_G (non-saturating) of a fresh GAN vs log 2 (relative difference)",
             abs(loss_g / math.log(2) - 1), 0.1)

classifier = make_classifier((1, 8, 8), 10, width=8)
with no_grad():
    ce, _ = softmax_cross_entropy(classifier(real), real_labels)
print(f"  fresh classifier: cross-entropy {ce:.4f} (log 10 = {math.log(10):.4f})")
lesson.check("a fresh classifier's cross-entropy vs log 10 (relative difference)",
             abs(ce / math.log(10) - 1), 0.1)

# the planted bug: the last layer's weights 100x too large
D_bad, cls_bad = copy.deepcopy(D), copy.deepcopy(classifier)
D_bad.layers[-1].params["W"] *= 100
cls_bad.layers[-1].params["W"] *= 100
bad_d, _, bad_logits = gan_losses(G, D_bad)
with no_grad():
    bad_ce, _ = softmax_cross_entropy(cls_bad(real), real_labels)
print(f"  last layer x100: D's logits std {bad_logits.std():.2f}, L_D {bad_d:.2f}; "
      f"classifier cross-entropy {bad_ce:.2f}")
lesson.check_that("planted bug (D's last layer x100): L_D misses 2 log 2 by > 10 %",
                  abs(bad_d / (2 * math.log(2)) - 1) > 0.1,
                  f"{bad_d:.2f} vs {2 * math.log(2):.2f}")
lesson.check_that("planted bug (classifier's last layer x100): misses log 10 by > 10 %",
                  abs(bad_ce / math.log(10) - 1) > 0.1,
                  f"{bad_ce:.2f} vs {math.log(10):.2f}")

# %% [markdown]
# ## 2. Overfitting a tiny batch
#
# Take 16 digits and train on them alone, full batch, with Adam ($10^{-2}$) and no
# regularisation. A model with 10 thousand parameters can memorise 16 labels, so
# the training loss must fall to near 0 in a few hundred steps. If it does not, the
# model, the loss or the update is broken, and no amount of data would have helped.
# The check: the cross-entropy falls below 0.01.
#
# **The planted bug** is one that runs without an error: the optimiser is built on a
# copy of the model (`Adam(copy.deepcopy(model))`, or a model rebuilt after the
# optimiser was made), so the gradients are computed on one set of weights and the
# steps applied to another. Every line runs, the loss is finite, and it never falls:
# the check is that it stays above 1 (against 0.01).

# %%
lesson.section(f"2. overfitting 16 digits in {OVERFIT_STEPS} steps")
tiny_x, tiny_y = batch_of(16, np.random.default_rng(lesson.seed + 1))


def overfit(buggy):
    """Train a fresh classifier on the 16 digits; its loss at every step."""
    with backend.seeded(lesson.seed + 2):
        model = make_classifier((1, 8, 8), 10, width=8)
    opt = Adam(copy.deepcopy(model) if buggy else model, lr=1e-2, betas=(0.9, 0.999))
    history = []
    for _ in range(OVERFIT_STEPS):
        model.zero_grad()
        loss, grad = softmax_cross_entropy(model(tiny_x), tiny_y)
        model.backward(grad, input_grad=False)
        opt.step()
        history.append(loss)
    return np.array(history)


good, bad = overfit(False), overfit(True)
print(f"  loss at step 1 / last: correct {good[0]:.3f} / {good[-1]:.2e}, "
      f"optimiser on a copy {bad[0]:.3f} / {bad[-1]:.3f}")
lesson.check_that("a correct model overfits 16 digits: final loss < 0.01",
                  good[-1] < 0.01, f"{good[-1]:.1e}")
lesson.check_that("planted bug (optimiser on a copy): final loss stays > 1",
                  bad[-1] > 1, f"{bad[-1]:.2f}")

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogy(good, label="correct")
ax.semilogy(bad, label="optimiser on a copy (bug)")
ax.axhline(math.log(10), color="grey", ls=":", label="log 10")
ax.set_xlabel("step")
ax.set_ylabel("training cross-entropy")
ax.set_title("overfitting 16 digits", fontsize=9)
ax.legend(fontsize=8)
lesson.savefig(fig, "overfit_tiny_batch.png")

# %% [markdown]
# ## 3. The update/weight ratio
#
# CS231n suggests watching, per layer, the size of an update relative to the
# weights, $\lVert \Delta\theta \rVert / \lVert \theta \rVert$, with "about $10^{-3}$"
# as a rule of thumb for SGD: much lower and the layer barely learns, much higher
# and it forgets what it knew each step.
#
# **Adam's first step is predicted exactly.** With $m$ and $v$ starting at 0, the
# bias corrections make $\hat m_1 = g$ and $\hat v_1 = g^2$, so each coordinate moves
# by $\mathrm{lr} \cdot g / (|g| + \epsilon) \approx \mathrm{lr} \cdot
# \mathrm{sign}(g)$: by exactly the learning rate, whatever the gradient's size
# (when $|g| \gg \epsilon = 10^{-8}$). So $\lVert \Delta\theta \rVert =
# \mathrm{lr} \sqrt{n}$ and the ratio is $\mathrm{lr} / \mathrm{rms}(\theta)$: for a
# DCGAN weight, $\mathrm{rms} \approx 0.02$, at $\mathrm{lr} = 2 \times 10^{-4}$ that
# is $10^{-2}$, ten times CS231n's rule, by construction of the DCGAN recipe; for a
# BatchNorm scale ($\approx 1$) it is $2 \times 10^{-4}$.
#
# The lesson trains the digits DCGAN (`GAN`, Adam $2 \times 10^{-4}$, batch 64) and
# measures every weight's and every BatchNorm scale's ratio after each step. Biases
# and BatchNorm shifts start at 0, where the ratio is undefined; they are left out.
# Checks: in the first step every coordinate moved by $-\mathrm{lr} \cdot g /
# (|g| + \epsilon)$ (to $10^{-3}$ of lr: float32 rounds a weight near 1 to
# $6 \times 10^{-8}$, $3 \times 10^{-4}$ of lr), and the ratio stays within
# $[10^{-5}, 10^{-1}]$ for every weight and every step (Adam's later steps are at
# most about lr per coordinate, and smaller once the gradients' signs start to
# disagree between steps).

# %%
lesson.section(f"3. the update/weight ratio, digits DCGAN, {RATIO_STEPS} steps")
backend.seed(lesson.seed)
G, D = build("dcgan", (1, 8, 8), Z, width=WIDTH)
gan = GAN(G, D, Z, seed=lesson.seed)
LR = gan.g_opt.lr
watched = [(f"{net}.{name}", p, g) for net, model in (("D", D), ("G", G))
           for name, p, g in model.parameters()
           if name.endswith("W") or name.endswith("gamma")]
ratios = {name: [] for name, _, _ in watched}
first_step_error, tiny_grads, coords = 0.0, 0, 0
for step in range(RATIO_STEPS):
    before = [H(p).astype(np.float64) for _, p, _ in watched]
    gan.train_step(batch_of(BATCH)[0])
    for (name, p, g), old in zip(watched, before):
        delta = H(p).astype(np.float64) - old
        ratios[name].append(np.linalg.norm(delta) / np.linalg.norm(old))
        if step == 0:                        # predicted: -lr g / (|g| + eps)
            grad = H(g).astype(np.float64)
            predicted = -LR * grad / (np.abs(grad) + gan.g_opt.eps)
            first_step_error = max(first_step_error,
                                   float(np.abs(delta - predicted).max() / LR))
            tiny_grads += int((np.abs(grad) < 1e-6).sum())
            coords += grad.size
for name, _, _ in watched:
    r = ratios[name]
    print(f"  {name:<16} step 1 {r[0]:.1e}   last {r[-1]:.1e}")
all_ratios = np.array([r for r in ratios.values()])
print(f"  first step: {tiny_grads} of {coords} coordinates had |g| < 1e-6")
lesson.check("Adam's first step: each coordinate moves by lr g / (|g| + eps) "
             "(worst diff / lr)", first_step_error, 1e-3)
lesson.check_that("every weight's ratio lies within [1e-5, 1e-1] at every step",
                  1e-5 <= all_ratios.min() and all_ratios.max() <= 1e-1,
                  f"min {all_ratios.min():.1e}, max {all_ratios.max():.1e}")

fig, ax = plt.subplots(figsize=(6, 3.6))
for name, r in ratios.items():
    ax.semilogy(range(1, RATIO_STEPS + 1), r, label=name,
                ls="-" if name.startswith("D") else "--")
ax.axhline(1e-3, color="grey", ls=":")
ax.set_xlabel("step")
ax.set_ylabel("||update|| / ||weight||")
ax.set_title(f"update/weight ratio, Adam lr {LR:g} (dotted: 1e-3)", fontsize=9)
ax.legend(fontsize=6, ncol=2)
lesson.savefig(fig, "update_weight_ratio.png")

# %% [markdown]
# ## 4. Gradient checks near kinks
#
# A central difference $(f(x + h) - f(x - h)) / 2h$ assumes $f$ is smooth on
# $[x - h, x + h]$. A ReLU is not at 0: for an input $x$ with $|x| < h$ the two
# evaluations sit on different sides of the kink, and the difference quotient is
# the slope of the chord between them,
#
# $$\frac{\mathrm{relu}(x + h) - \mathrm{relu}(x - h)}{2h} = \frac{x + h}{2h},$$
#
# anywhere between 0 and 1, while the analytic derivative is 0 or 1. For a LeakyReLU
# of slope $a$ the chord's slope is $\frac{(1 - a) x + (1 + a) h}{2h}$. The backward
# is right; the check is wrong there.
#
# The lesson checks a ReLU and a LeakyReLU(0.2) (`check_layer`, float64,
# $h = 10^{-6}$) on 50 inputs, once with all of them at least $10 h$ away from 0 and
# once with one input planted at $x = 0.3 h$. Checks: away from the kink the error is
# below $10^{-7}$; with the planted input it is $O(1)$ (above $10^{-2}$), and the
# numerical derivative there equals the chord's slope above (to $10^{-6}$).
#
# With random inputs a kink is rare in float64 ($h = 10^{-6}$) but common in float32,
# where $h$ must be $\sim 10^{-3}$. CS231n's advice: track whether any input crossed
# a kink during the check, and check with few data points (fewer kinks).

# %%
lesson.section("4. gradient checks near kinks (float64, h = 1e-6)")
h = 1e-6
with backend.using_dtype("float64"):
    x = host.standard_normal(50)
    x[np.abs(x) < 10 * h] = 1.0              # every input at least 10 h from 0
    x_kink = x.copy()
    x_kink[7] = 0.3 * h                      # one input within h of the kink
    for layer, a in ((ReLU(), 0.0), (LeakyReLU(0.2), 0.2)):
        smooth = check_layer(layer, backend.asarray(x.reshape(5, 10)), h=h)["x"]
        kinked = check_layer(layer, backend.asarray(x_kink.reshape(5, 10)), h=h)["x"]
        xk = backend.asarray(x_kink.reshape(5, 10))

        def f():
            with no_grad():
                return float(layer.forward(xk).sum())

        numeric = float(H(numerical_gradient(f, xk, h)).reshape(-1)[7])
        chord = ((1 - a) * 0.3 * h + (1 + a) * h) / (2 * h)
        print(f"  {layer!r}: rel error {smooth:.1e} away from 0, {kinked:.1e} with "
              f"x = 0.3h; there numeric {numeric:.4f}, chord {chord:.4f}, analytic 1")
        lesson.check(f"{layer!r}, inputs >= 10h from 0: backward vs central diff",
                     smooth, 1e-7)
        lesson.check_that(f"{layer!r}, one input at 0.3h: the same correct backward "
                          "fails (rel err > 1e-2)", kinked > 1e-2, f"{kinked:.1e}")
        lesson.check(f"{layer!r}: the numeric derivative at 0.3h is the chord's slope",
                     abs(numeric - chord), 1e-6)

fig, ax = plt.subplots(figsize=(5, 3.2))
t = np.linspace(-2 * h, 2 * h, 201)
ax.plot(t / h, np.maximum(t, 0) / h, label="relu(x)")
ends = np.array([0.3 * h - h, 0.3 * h + h])
ax.plot(ends / h, np.maximum(ends, 0) / h, "o--", label="chord of the check")
ax.axvline(0.3, color="grey", ls=":")
ax.set_xlabel("x / h")
ax.set_ylabel("relu(x) / h")
ax.set_title("x = 0.3h: the central difference sees slope 0.65, not 1", fontsize=9)
ax.legend(fontsize=8)
lesson.savefig(fig, "kink.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. A fresh D scores $L_D \approx 2 \log 2$. If it scored $\approx 0.7$ instead, but
#    $L_G \approx \log 2$ still, which of D's two terms would you suspect, and what
#    kind of bug gives that?
# 2. Adam's first step moves every coordinate by the learning rate. Why does that
#    make the update/weight ratio of a weight initialised with std 0.02 ten times
#    CS231n's $10^{-3}$, and why would SGD's ratio depend on the loss's scale when
#    Adam's does not?
# 3. Overfitting 16 digits catches an optimiser that updates a copy. Name a bug it
#    would NOT catch, and a check in this lesson that would.
# 4. Why is a kink a real problem for a float32 gradient check but rare for float64,
#    given the step sizes $h$ each needs?
#
# Short answers: `lessons/ANSWERS.md`.
