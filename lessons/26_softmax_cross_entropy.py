# %% [markdown]
# # Lesson 26 — softmax and cross-entropy: p - y, log-sum-exp, the evaluation classifier
#
# A classifier with $K$ classes ends in $K$ numbers, the **logits** $z$, turned into
# probabilities by the **softmax** $p_k = e^{z_k} / \sum_j e^{z_j}$ and scored by the
# **cross-entropy** $-\log p_y$ of the true class $y$. Lesson 03 did the two-class
# case (a sigmoid and a binary cross-entropy, the GAN's discriminator); this lesson
# does $K$ classes, the loss of the classifier that `minigan evaluate` trains to get
# its features (the Fréchet distance of lesson 15) and its class probabilities:
#
# 1. the softmax's Jacobian $\mathrm{diag}(p) - p p^\top$, against central
#    differences;
# 2. the cross-entropy's backward, **the exercise**: you derive it, and it comes out
#    as short as a backward can be, $(p - \mathrm{onehot}(y))/N$;
# 3. the **log-sum-exp trick** that keeps the forward finite when the logits are
#    large, measured against the naive formula and a 40-digit reference;
# 4. the classifier of `minigan evaluate` (`minigan.metrics.classifier`), trained on
#    the digits with YOUR loss, beside the library's own `train_classifier`; and the
#    value its loss starts at, $\log 10$, predicted to the fifth digit.
#
# **Exercise.** Write `softmax_cross_entropy` in
# `lessons/exercises/26_softmax_cross_entropy.py`, then run
# `python lessons/26_softmax_cross_entropy.py --exercise`: the checks of sections 2, 3
# and 4 then run on your function instead of minigan's.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import decimal
import math
import warnings

import numpy as np

from minigan import backend
from minigan.data import load_digits
from minigan.gradcheck import rel_error
from minigan.metrics import classifier as clf
from minigan.optim import Adam

lesson = Lesson("26_softmax_cross_entropy")
H = backend.to_numpy
rng = np.random.default_rng(lesson.seed)
decimal.getcontext().prec = 40  # digits of the reference in section 3
K = 10


def numeric_jacobian(f, x, h=1e-6):
    """J[i, j] = d f(x)_i / d x_j by central differences; x a float64 vector."""
    cols = []
    for j in range(len(x)):
        e = np.zeros_like(x)
        e[j] = h
        cols.append((f(x + e) - f(x - e)) / (2 * h))
    return np.stack(cols, axis=1)


# %% [markdown]
# ## 1. The softmax and its Jacobian
#
# Shapes: logits $(N, K)$ $\to$ probabilities $(N, K)$, row by row. Unlike an
# activation of lesson 03, each output depends on EVERY input of its row (through the
# sum), so the Jacobian of one row is a full $K \times K$ matrix. From
# $\log p_i = z_i - \log \sum_j e^{z_j}$,
# $\partial \log p_i / \partial z_j = [i = j] - p_j$, and multiplying by $p_i$:
#
# $$\frac{\partial p_i}{\partial z_j} = p_i([i = j] - p_j), \qquad
#   J = \mathrm{diag}(p) - p p^\top.$$
#
# $J$ is symmetric, and $J \mathbf{1} = p - p (p^\top \mathbf{1}) = 0$: adding the
# same constant to every logit changes nothing (section 3 uses that). The check: $J$
# against central differences in float64 ($h = 10^{-6}$, truncation and rounding
# both $\sim 10^{-10}$, lesson 02), relative error at most $10^{-8}$; the rows of
# the numeric $J$ summing to 0 ($\le 10^{-8}$); and, a contract, the analytic $J$
# symmetric with rows summing to 0 to rounding ($10^{-14}$).

# %%
lesson.section("1. the softmax's Jacobian diag(p) - p p^T vs central differences")
z1 = rng.standard_normal(K) * 2.0
p1 = clf.softmax(z1[None])[0]
J = np.diag(p1) - np.outer(p1, p1)
J_num = numeric_jacobian(lambda v: clf.softmax(v[None])[0], z1)
lesson.check("softmax Jacobian diag(p) - p p^T vs central differences (rel err, "
             "float64)", rel_error(J, J_num), 1e-8)
lesson.check("the numeric Jacobian's rows sum to 0: softmax(z + c) = softmax(z) "
             "(max |J_num 1|)", abs(J_num.sum(axis=1)).max(), 1e-8)
lesson.check("contract: the analytic J is symmetric and J 1 = 0 (max of both)",
             max(abs(J - J.T).max(), abs(J.sum(axis=1)).max()), 1e-14)

fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
axes[0].bar(range(K), p1)
axes[0].set(title="p = softmax(z), one row", xlabel="class k", ylabel="p_k")
lim = abs(J).max()
im = axes[1].imshow(J, cmap="RdBu_r", vmin=-lim, vmax=lim)
axes[1].set(title="J = diag(p) - p p^T", xlabel="j (logit)", ylabel="i (probability)")
fig.colorbar(im, ax=axes[1])
lesson.savefig(fig, "softmax_jacobian.png")

# %% [markdown]
# ## 2. Cross-entropy and its backward: the exercise
#
# For a batch of $N$ rows with labels $y_n \in \{0, \dots, K-1\}$,
#
# $$L = -\frac{1}{N} \sum_n \log p_{n, y_n}, \qquad p_n = \mathrm{softmax}(z_n).$$
#
# Its gradient $\partial L / \partial z$, shape $(N, K)$, is what a classifier's last
# layer receives. Derive it: either write $-\log p_y = -z_y + \log\sum_j e^{z_j}$ and
# differentiate with respect to $z_k$, or chain $\partial(-\log p_y)/\partial p$ with
# the Jacobian of section 1. All of the softmax's coupling cancels, and the result is
# the one announced in the title, probabilities minus the one-hot label, over $N$.
# Nothing in it can blow up: every entry lies in $[-1/N, 1/N]$.
#
# `softmax_cross_entropy(logits, labels)` returns `(L, dL/dlogits)`. The checks (all
# in float64 unless said): the gradient against central differences of $L$ computed
# from `minigan.metrics.classifier.log_softmax` ($\le 10^{-7}$); $L$ against that
# same reference ($\le 10^{-12}$); in float32, the gradient against minigan's own
# `softmax_cross_entropy` ($\le 10^{-6}$, a few float32 roundings) and its dtype
# kept (a contract: a float64 gradient would silently turn a float32 model's
# backward into float64); and each row of the gradient summing to 0, the shift
# invariance of section 1 seen from the loss.

# %%
def softmax_cross_entropy(logits, labels):
    """minigan's: ``minigan.metrics.classifier.softmax_cross_entropy``, on NumPy."""
    return clf.softmax_cross_entropy(np.asarray(logits), np.asarray(labels))


softmax_cross_entropy = lesson.exercises(softmax_cross_entropy)


def reference_loss(z, labels):
    """-mean log softmax(z)[n, y_n], from minigan's log_softmax."""
    return -float(clf.log_softmax(z)[np.arange(len(z)), labels].mean())


lesson.section("2. cross-entropy: the backward vs central differences (the exercise)")
N2 = 6
z2 = rng.standard_normal((N2, K)) * 2.0
y2 = rng.integers(0, K, N2)
L2, g2 = softmax_cross_entropy(z2.copy(), y2)
g_num = np.zeros_like(z2)
for idx in np.ndindex(z2.shape):
    for sign in (1, -1):
        zz = z2.copy()
        zz[idx] += sign * 1e-6
        g_num[idx] += sign * reference_loss(zz, y2) / 2e-6
g2 = np.asarray(g2)
lesson.check("dL/dlogits vs central differences of the loss (rel err, float64)",
             rel_error(g2, g_num), 1e-7)
lesson.check("the loss's value vs -mean log_softmax[n, y_n] (abs err)",
             abs(L2 - reference_loss(z2, y2)), 1e-12)
lesson.check("each row of dL/dlogits sums to 0 (max |row sum|)",
             abs(g2.sum(axis=1)).max(), 1e-12)
z32 = z2.astype(np.float32)
_, g32 = softmax_cross_entropy(z32.copy(), y2)
_, g32_lib = clf.softmax_cross_entropy(z32.copy(), y2)
lesson.check_that("contract: float32 logits give a float32 gradient",
                  np.asarray(g32).dtype == np.float32, f"{np.asarray(g32).dtype}")
lesson.check("float32: dL/dlogits vs minigan's softmax_cross_entropy (rel err)",
             rel_error(np.asarray(g32, dtype=np.float64), g32_lib), 1e-6)

# %% [markdown]
# ## 3. The log-sum-exp trick
#
# The naive softmax computes $e^{z_k}$ first. $e^{z}$ overflows to `inf` for
# $z > 709.8$ in float64 and $z > 88.7$ in float32, and `inf / inf` is `nan`; logits
# far below zero underflow instead, to $0 / 0$. A classifier's logits are small at
# initialisation but nothing keeps them so, and a GAN's samples can give it inputs
# nothing like its data.
#
# The cure is the shift invariance of section 1: with $m = \max_j z_j$,
#
# $$\log \sum_j e^{z_j} = m + \log \sum_j e^{z_j - m},$$
#
# where every exponent is $\le 0$ (no overflow) and the largest term is $e^0 = 1$
# (the sum is $\ge 1$: no $\log 0$). The checks: the naive softmax fails on most rows
# at logit scale $10^3$ (measured, float32 and float64); your loss stays finite there
# and agrees with a 40-digit `decimal` reference to a few units of the last place
# (relative error $\le 8\epsilon$: $\epsilon = 2^{-23}$ in float32, $2^{-52}$ in
# float64); and its gradient does not move when $10^3$ is added to every logit
# (relative change $\le 10^{-10}$: $z + 1000$ rounds each logit to $\sim 10^{-13}$).
# Figure `overflow.png`: the share of rows the naive softmax turns to `nan`, by scale.

# %%
def naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def broken_share(z):
    """Share of the rows of (N, K) logits whose naive softmax is not finite."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # the overflow is the point
        return float((~np.isfinite(naive_softmax(z)).all(axis=1)).mean())


def decimal_loss(z, labels):
    """The mean cross-entropy of (N, K) logits, each exp and log to 40 digits."""
    total = decimal.Decimal(0)
    for row, y in zip(z.astype(np.float64), labels):
        d = [decimal.Decimal(float(v)) for v in row]
        total += sum(v.exp() for v in d).ln() - d[y]
    return float(total / len(z))


lesson.section("3. the log-sum-exp trick: naive softmax vs the shifted one")
N3 = 64
base = rng.standard_normal((N3, K))
y3 = rng.integers(0, K, N3)
scales = np.logspace(0, 4, 25)
share = {dt: [broken_share((base * s).astype(dt)) for s in scales]
         for dt in (np.float32, np.float64)}
for dt, eps in ((np.float32, 2.0 ** -23), (np.float64, 2.0 ** -52)):
    z3 = (base * 1e3).astype(dt)
    naive = broken_share(z3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # a near miss may overflow
        L3, g3 = softmax_cross_entropy(z3.copy(), y3)
    ref = decimal_loss(z3, y3)
    name = np.dtype(dt).name
    lesson.check_that(f"{name}, logits ~ 1e3: the naive softmax breaks on most rows",
                      naive > 0.5, f"{naive:.0%} of rows inf/nan")
    err = abs(L3 - ref) / abs(ref) if math.isfinite(L3) else math.inf
    lesson.check(f"{name}, logits ~ 1e3: your loss vs the 40-digit reference "
                 f"(rel err in units of eps = {eps:.1e})", err / eps, 8)
z_small = base * 3.0
_, g_a = softmax_cross_entropy(z_small.copy(), y3)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)
    _, g_b = softmax_cross_entropy(z_small + 1e3, y3)
lesson.check("shift invariance: dL/dlogits at z + 1000 vs at z (rel err, float64)",
             rel_error(np.asarray(g_a), np.asarray(g_b)), 1e-10)

fig, ax = plt.subplots(figsize=(5.5, 3.4))
for dt, style in ((np.float32, "o-"), (np.float64, "s-")):
    ax.semilogx(scales, share[dt], style, ms=3, label=f"naive, {np.dtype(dt).name}")
ax.axhline(0, color="k", lw=1, label="shifted (log-sum-exp): never")
ax.set(xlabel="logit scale s (logits = s * N(0, 1))", ylabel="share of rows inf/nan",
       title="naive softmax exp(z) / sum exp(z)")
ax.legend(fontsize=8)
lesson.savefig(fig, "overflow.png")

# %% [markdown]
# ## 4. The classifier that `minigan evaluate` trains
#
# `minigan evaluate` scores a generator through a small CNN classifier
# (`make_classifier`: three convolutions and two Dense layers, built from minigan's
# own layers), trained on the real images with softmax cross-entropy and Adam
# (lr $10^{-3}$, betas $(0.9, 0.999)$, batches of 128, 10 % held out). Its
# penultimate Dense output is the feature space of the Fréchet distance, its softmax
# the $p(y \mid x)$ of the class coverage and the classifier score. Here it is trained
# on the 1,797 8x8 digits twice, from the same seed: once by the library's
# `train_classifier`, once by the loop below, the same recipe step for step but with
# YOUR `softmax_cross_entropy`. The two must reach the same held-out accuracy (to 2
# of the 180 held-out digits: float32 rounding may differ), above 90 %.
#
# **Where the loss starts.** At initialisation the logits are small (their spread
# $\sigma \approx 0.07$ here), so $p \approx 1/K$ and $L \approx \log K = 2.3026$
# for $K = 10$. Expanding $\log\sum_j e^{z_j}$ to second order about the row's mean
# $\bar z$ gives a sharper prediction per row,
# $-\log p_y \approx \log K + \bar z - z_y + \tfrac12 \mathrm{Var}_j(z_j)$, whose
# error is of third order, $\sim \sigma^3$. The checks: the first batch's loss within
# $0.01$ of $\log 10$, and within $10^{-4}$ of the second-order prediction. A first
# loss far from $\log K$ is a classic bug sign: an initialisation too large, or a
# loss summed where it should be averaged. Figure `classifier.png`: the training loss
# per step, from $\log 10$ down.

# %%
lesson.section("4. the classifier of minigan evaluate, trained with your loss")
images, labels = load_digits()
EPOCHS = 10 if lesson.quick else clf.default_epochs(len(images))
SEED, BATCH = lesson.seed, 128
lib_model, lib_acc = clf.train_classifier(images, labels, EPOCHS, seed=SEED,
                                          log=lambda line: None)

# the recipe of train_classifier, step for step, with your loss
order0 = np.random.default_rng(SEED).permutation(len(images))
n_held = max(1, round(clf.HOLDOUT_FRACTION * len(images)))
train_idx, held_idx = order0[n_held:], order0[:n_held]
with backend.seeded(SEED):
    model = clf.make_classifier(images.shape[1:], K)
opt = Adam(model, lr=1e-3, betas=(0.9, 0.999))
shuffle = np.random.default_rng(SEED + 1)
losses, first = [], None
for epoch in range(EPOCHS):
    model.train()
    order = shuffle.permutation(train_idx)
    for start in range(0, len(order) - BATCH + 1, BATCH):
        idx = order[start:start + BATCH]
        logits = model(backend.asarray(images[idx], dtype=model.dtype))
        loss, grad = softmax_cross_entropy(H(logits), labels[idx])
        if first is None:
            first = H(logits).astype(np.float64), labels[idx], loss
        opt.zero_grad()
        model.backward(backend.asarray(grad, dtype=model.dtype), input_grad=False)
        opt.step()
        losses.append(float(loss))
model.eval()
probs = model.predict_proba(images[held_idx])
acc = float((probs.argmax(axis=1) == labels[held_idx]).mean())

z0, y0, L0 = first
rows0 = np.arange(len(z0))
second_order = float(np.mean(math.log(K) + z0.mean(axis=1) - z0[rows0, y0]
                             + z0.var(axis=1) / 2))
print(f"  {EPOCHS} epochs, {len(losses)} steps; first batch: logit spread "
      f"{z0.std():.3f}, loss {L0:.5f}, log 10 = {math.log(K):.5f}, second-order "
      f"prediction {second_order:.5f} = log 10 "
      f"{np.mean(z0.mean(axis=1) - z0[rows0, y0]):+.5f} (mean(z) - z_y) "
      f"{np.mean(z0.var(axis=1) / 2):+.5f} (Var(z)/2)")
lesson.check("the first loss vs log 10 (abs diff)", abs(L0 - math.log(K)), 0.01)
lesson.check("the first loss vs the second-order prediction log K + mean(z) - z_y + "
             "Var(z)/2 (abs diff)", abs(L0 - second_order), 1e-4)
lesson.check_that("held-out accuracy with your loss > 90 %", acc > 0.9,
                  f"{acc:.1%} of {len(held_idx)} digits")
lesson.check_that("the same as the library's train_classifier, to 2 held-out digits",
                  abs(acc - lib_acc) * len(held_idx) <= 2 + 1e-9,
                  f"{acc:.1%} vs {lib_acc:.1%}")
confidence = float(probs.max(axis=1).mean())
print(f"  held-out: mean top probability {confidence:.1%} vs accuracy {acc:.1%}")

fig, ax = plt.subplots(figsize=(5.5, 3.4))
ax.plot(losses, lw=1, label="training loss (your softmax_cross_entropy)")
ax.axhline(math.log(K), color="k", ls="--", lw=1, label="log 10: uniform p")
ax.set(xlabel="Adam step", ylabel="cross-entropy", yscale="log",
       title=f"digits classifier: held-out accuracy {acc:.1%}")
ax.legend(fontsize=8)
lesson.savefig(fig, "classifier.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Derive $\partial L / \partial z_{nk} = (p_{nk} - [k = y_n]) / N$ in two lines.
#    Why does every row of it sum to zero, and why can no entry exceed $1/N$ in size?
# 2. Forget the $1/N$ in the gradient and the gradient check fails by a factor of
#    $N = 6$, yet the classifier of section 4 trains just as well. Why? Which
#    optimiser of lesson 07 would have noticed?
# 3. The log-sum-exp trick subtracts the row's maximum. Why the maximum, and not the
#    mean of the row, which is also a constant?
# 4. The first loss misses $\log 10$ by $0.004$, and the second-order prediction
#    accounts for all but $2 \times 10^{-5}$ of it. What do its two terms measure,
#    and what would a first loss of $23$ suggest?
#
# Short answers: `lessons/ANSWERS.md`.
