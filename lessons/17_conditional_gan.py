# %% [markdown]
# # Lesson 17 — a conditional GAN: asking G for a particular digit
#
# An ordinary GAN draws digits, but you cannot ask it for a 7. A **conditional GAN**
# (Mirza & Osindero, 2014) gives both players the label: $G(z, y)$ must draw a digit of
# class $y$, and $D(x, y)$ judges whether $x$ is a real image OF CLASS $y$. A fake 3
# labelled "7" is now easy to reject, so G has to honour the label.
#
# The lesson checks three things:
#
# 1. the whole chain G → concat → D → loss, back-propagated by hand, against central
#    differences with respect to $z$ (float64, tolerance $10^{-7}$): the "cut the
#    gradient back" rule below is exactly right;
# 2. D's parameter gradients in the G step would be thrown away: two training steps,
#    once with `D.backward(grad, param_grads=False)` in the G step and once computing
#    them, give identical G and D;
# 3. after training, a classifier trained on the real digits (lesson 15) reads G's
#    samples: asked for class $k$, G must produce something classified as $k$ far more
#    often than chance (10 %).

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import copy

import numpy as np

from minigan import backend
from minigan.data import load_digits
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.layers import Dense, LeakyReLU, Sequential, Tanh
from minigan.losses import bce_with_logits
from minigan.metrics import train_classifier
from minigan.optim import Adam

lesson = Lesson("17_conditional_gan")
xp = lesson.xp
H = backend.to_numpy
Z, K, PIXELS, BATCH = 32, 10, 64, 64
STEPS = 2000 if lesson.quick else 8000

# %% [markdown]
# ## How the label goes in: one-hot, concatenated to the input
#
# Row $n$ of $y_{\text{onehot}}$, shape $(N, 10)$, is all zeros except a 1 in column
# $y_n$. Both players get it beside their usual input:
#
# | player | input | shape | output |
# |---|---|---|---|
# | G | $[z,\ y_{\text{onehot}}]$ | $(N, 32 + 10)$ | an image $(N, 64)$ in $[-1, 1]$ |
# | D | $[x,\ y_{\text{onehot}}]$ | $(N, 64 + 10)$ | a logit $(N, 1)$ |
#
# Concatenation has the simplest backward there is: its input gradient is the output
# gradient CUT BACK into the same pieces,
#
# $$g = \frac{\partial L}{\partial [x, y]}\ \ (N, 64 + 10): \qquad
#   \frac{\partial L}{\partial x} = g_{[:,\ :64]}, \qquad
#   \frac{\partial L}{\partial y} = g_{[:,\ 64:]}$$
#
# (the second is unused: $y$ is data). So the G step reads D's input gradient, keeps
# its first 64 columns, and back-propagates them into G. The first check follows that
# chain by hand down to $z$ (keeping the first 32 columns of G's input gradient) and
# compares it with central differences, on a small pair in float64.

# %%
def make_pair(width=256):
    G = Sequential(Dense(Z + K, width), LeakyReLU(0.2), Dense(width, width),
                   LeakyReLU(0.2), Dense(width, PIXELS), Tanh())
    D = Sequential(Dense(PIXELS + K, width), LeakyReLU(0.2), Dense(width, width),
                   LeakyReLU(0.2), Dense(width, 1))
    return G, D


def one_hot(labels):
    """labels (N,) int -> (N, 10) in the parameters' dtype, on the active backend."""
    out = np.zeros((len(labels), K))
    out[np.arange(len(labels)), labels] = 1
    return backend.asarray(out, dtype=backend.default_dtype())


def g_loss_and_grad_z(G, D, z, c):
    """L_G of one batch and its gradient w.r.t. z, back-propagated by hand through D,
    the concat and G."""
    fake = G(xp.concatenate([z, c], axis=1))
    loss, grad = bce_with_logits(D(xp.concatenate([fake, c], axis=1)), 1.0)
    # cut the concat's gradient back: the image part
    grad_fake = D.backward(grad, param_grads=False)[:, :PIXELS]
    grad_z = G.backward(grad_fake, param_grads=False)[:, :Z]   # again at G's input
    return loss, grad_z


lesson.section("1. the concatenation's backward, checked (float64)")
backend.seed(lesson.seed)
with backend.using_dtype("float64"):
    G64, D64 = make_pair(width=16)
    rng = backend.rng(lesson.seed)
    z = backend.asarray(rng.standard_normal((5, Z)))
    c = one_hot(rng.integers(0, K, 5))
    _, analytic = g_loss_and_grad_z(G64, D64, z, c)
    numeric = numerical_gradient(lambda: g_loss_and_grad_z(G64, D64, z, c)[0], z)
lesson.check("dL_G/dz through G -> concat -> D, analytic vs numeric (rel err)",
             rel_error(analytic, numeric), 1e-7)

# %% [markdown]
# ## The two-phase step, with labels
#
# Batch $B = 64$; bce is the binary cross-entropy on logits (lesson 03).
#
# - **D step**: a real pair $(x, y)$ from the data; fakes with labels $c$ drawn
#   uniformly and noise $z \sim \mathcal{N}(0, I)$:
#
#   $$L_D = \mathrm{bce}\big(D([x, y]), 1\big)
#     + \mathrm{bce}\big(D([G([z, c]), c]), 0\big),$$
#
#   then an Adam step on D.
# - **G step**: the same fakes, judged by the updated D:
#
#   $$L_G = \mathrm{bce}\big(D([G([z, c]), c]), 1\big),$$
#
#   then an Adam step on G.
#
# Every backward can skip its input gradient (`input_grad=False`) or its parameter
# gradients (`param_grads=False`). What each is asked for:
#
# - D step: D's parameter gradients only. The images and labels are data and G is not
#   updated here, so nobody needs $\partial L / \partial$(D's input):
#   `D.backward(grad, input_grad=False)`.
# - G step: D's INPUT gradient only, `D.backward(grad, param_grads=False)`. D's
#   parameter gradients would be of $L_G$, not of $L_D$, and nothing reads them: D's
#   Adam step has already run, and the next step's `D.zero_grad()` clears D's gradients
#   before its D step accumulates new ones, so they would be thrown away unread. G's
#   backward then skips G's input gradient ($z$ is not learned).

# %%
lesson.section(f"2. training a conditional MLP GAN on the digits ({STEPS} steps)")
images, labels = load_digits()
flat = backend.asarray(images.reshape(len(images), PIXELS))


def train_step(G, D, g_opt, d_opt, x, y, c, z, d_grads_in_g_step=False):
    """One two-phase step on a real batch (x, y) and fakes G([z, c]). -> (L_D, L_G).

    d_grads_in_g_step=True also computes D's parameter gradients in the G step (the
    check in part 2).
    """
    # (1) update D on a real and a fake batch, each with its label
    D.zero_grad()                 # clears D's gradients, whatever the last G step left
    loss_real, grad = bce_with_logits(D(xp.concatenate([x, y], axis=1)), 1.0)
    D.backward(grad, input_grad=False)        # the data are constants: no dL/dx
    fake = G(xp.concatenate([z, c], axis=1))
    loss_fake, grad = bce_with_logits(D(xp.concatenate([fake, c], axis=1)), 0.0)
    # G is not updated in D's step: no dL/d(fake) either
    D.backward(grad, input_grad=False)
    d_opt.step()
    # (2) update G: the same fakes through the updated D, the image part of D's input
    # gradient into G. D's parameter gradients are not asked for: the next D.zero_grad()
    # would throw them away unread.
    G.zero_grad()
    loss_g, grad = bce_with_logits(D(xp.concatenate([fake, c], axis=1)), 1.0)
    grad_in = D.backward(grad, param_grads=d_grads_in_g_step)
    G.backward(grad_in[:, :PIXELS], input_grad=False)  # z is not learned: no dL/dz
    g_opt.step()
    return loss_real + loss_fake, loss_g


def draw_batch(rng):
    """A real batch (x, y) and the fakes' labels and noise (c, z), drawn from rng."""
    idx = rng.choice(len(images), BATCH, replace=False)
    c = one_hot(rng.integers(0, K, BATCH))
    z = backend.asarray(rng.standard_normal((BATCH, Z)), dtype="float32")
    return flat[backend.asarray(idx)], one_hot(labels[idx]), c, z


def parameters_of(*models):
    return [H(p).copy() for model in models for _, p, _ in model.parameters()]


backend.seed(lesson.seed)
G, D = make_pair()
g_opt, d_opt = Adam(G, lr=5e-4), Adam(D, lr=5e-4)

# %% [markdown]
# ## D's parameter gradients in the G step are thrown away: checked
#
# From the same state, two training steps on copies of G, D and their optimisers: once
# without D's parameter gradients in the G step, once computing them. The gradients
# the G step leaves in D are not zero, the two steps do move the parameters, and yet
# both ways must end with G and D identical to the last bit. The originals are left
# untouched for the training run that follows.

# %%
# The check: from the same state, two steps with and two without D's parameter
# gradients in the G step.
start = parameters_of(G, D)
# one deepcopy of the four together: each copied optimiser updates its own copied G or D
copies = {flag: copy.deepcopy((G, D, g_opt, d_opt)) for flag in (False, True)}
# not `rng`: the training run below stays as it was
check_rng = backend.rng(lesson.seed + 7)
batches = [draw_batch(check_rng) for _ in range(2)]
left_in_D = 0.0
for flag, (G_c, D_c, g_c, d_c) in copies.items():
    for batch in batches:
        train_step(G_c, D_c, g_c, d_c, *batch, d_grads_in_g_step=flag)
    if flag:     # what the G step left in D
        left_in_D = max(float(abs(H(g)).max()) for _, _, g in D_c.parameters())
after = {flag: parameters_of(*pair[:2]) for flag, pair in copies.items()}
diff = max(float(abs(a - b).max()) for a, b in zip(after[False], after[True]))
moved = max(float(abs(a - b).max()) for a, b in zip(after[False], start))
untouched = all((a == b).all() for a, b in zip(parameters_of(G, D), start))
print(f"  D's parameter gradients left by the last G step when computed: max |grad| "
      f"{left_in_D:.2e}; the 2 steps moved the parameters by up to {moved:.1e}")
lesson.check_that("those gradients are thrown away unread: after 2 steps computed both "
                  "ways, G and D are identical",
                  diff == 0.0 and left_in_D > 0 and moved > 0 and untouched,
                  f"max |difference of any parameter| = {diff:.1e}")

# %% [markdown]
# ## Training
#
# The conditional MLP GAN trains on all the digits, each real batch with its labels
# and each fake batch with labels drawn uniformly, for the number of steps the section
# title gives.

# %%
losses = []
for step in range(STEPS):
    losses.append(train_step(G, D, g_opt, d_opt, *draw_batch(rng)))
print(f"  last losses: L_D {losses[-1][0]:.3f}, L_G {losses[-1][1]:.3f}")

# %% [markdown]
# ## Does G honour the label?
#
# G, in eval mode, is asked for each digit $k = 0, \dots, 9$ fifty times, with fresh
# noise. A classifier trained on the real digits (lesson 15) reads the samples; the
# share it classifies as the digit asked for must be far above the 10 % of chance. The
# classifier's own held-out accuracy on real digits says how far its reading can be
# trusted.

# %%
lesson.section("3. does G honour the label? a classifier trained on real digits reads "
               "its samples")
classifier, accuracy = train_classifier(images, labels,
                                        epochs=5 if lesson.quick else 20,
                                        seed=lesson.seed)
asked = np.repeat(np.arange(K), 50)
z = backend.asarray(rng.standard_normal((len(asked), Z)), dtype="float32")
G.eval()
samples = backend.to_numpy(G(xp.concatenate([z, one_hot(asked)], axis=1)))
samples = samples.reshape(-1, 1, 8, 8)
read = classifier.predict_proba(samples).argmax(axis=1)
per_class = [(read[asked == k] == k).mean() for k in range(K)]
agreement = float((read == asked).mean())
print("  classified as asked, per class: "
      + "  ".join(f"{k}: {p:.0%}" for k, p in enumerate(per_class)))
lesson.check_that("the classifier itself reads real digits (held-out accuracy > 90 %)",
                  accuracy > 0.9, f"{accuracy:.1%}")
lesson.check_that("G draws the digit it is asked for far above chance (> 50 % vs 10 %)",
                  agreement > 0.5, f"{agreement:.1%}")

# %% [markdown]
# ## The figures
#
# Row $k$: G asked for digit $k$, ten noise vectors each; then both players' losses
# over the training run.

# %%
fig, axes = plt.subplots(K, 10, figsize=(6, 6.4))
for k in range(K):
    for j in range(10):
        ax = axes[k, j]
        ax.imshow(samples[k * 50 + j, 0], cmap="gray", vmin=-1, vmax=1)
        ax.set_axis_off()
fig.suptitle("row k: G asked for digit k (10 noise vectors each)")
lesson.savefig(fig, "digits_by_class.png")
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot([l[0] for l in losses], label="L_D", linewidth=0.6)
ax.plot([l[1] for l in losses], label="L_G", linewidth=0.6)
ax.set_xlabel("step")
ax.legend()
lesson.savefig(fig, "losses.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Suppose only G were given the label and D judged images alone. What could G do
#    that would satisfy D yet ignore the label?
# 2. In the check, the gradients the G step left in D's parameters were far from zero,
#    yet G and D ended identical whether or not they were computed. Why?
# 3. D's input gradient has $64 + 10$ columns. What do the last 10 measure, and why
#    does no one use them?
# 4. The classifier reads most of G's samples as the digit asked for. What does that
#    agreement not tell you about G?
#
# Short answers: `lessons/ANSWERS.md`.
