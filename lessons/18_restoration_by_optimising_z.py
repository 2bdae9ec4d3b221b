# %% [markdown]
# # Lesson 18 — Restoration by optimising z: the closest point of G's range
#
# A trained generator maps every noise vector $z$ to an image $G(z)$; together those
# images form G's **range**, a curved surface of digit-like pictures inside the space of
# all $8 \times 8$ images. Show G a digit whose lower half is hidden. Somewhere on that
# surface there are digits whose UPPER half looks like the one we see; their lower
# halves are G's guesses for the pixels we lost. Yeh et al. (2017, "Semantic image
# inpainting with deep generative models") find such a digit by searching $z$; the loss
# below is a variant of theirs (they weight an L1 context loss by how close each known
# pixel is to the hole, use $\log(1 - D)$ as the prior, and blend the result in with
# Poisson blending):
#
# $$\hat z = \arg\min_z \ \underbrace{\frac{1}{n}\sum_j m_j\,\big(G(z)_j - x_j\big)^2}_
#   {\text{context: fit the visible pixels}}
#   \;+\; \lambda \underbrace{\big(-\log \sigma(D(G(z)))\big)}_
#   {\text{prior: where D believes}}$$
#
# where the mask $m$ is 1 on a visible pixel and 0 on a hidden one, $n = \sum_j m_j$
# counts the visible pixels, and the prior is the generator's non-saturating loss: it
# keeps $G(z)$ where D says "real", so the fit of the visible half is not bought with a
# picture no digit looks like. Then the restoration keeps what was seen and takes only
# the rest from G:
#
# $$\hat x = m \odot x + (1 - m) \odot G(\hat z).$$
#
# Training fixed $z$ and learned G; here G is fixed and $z$ is learned, by Adam, with
# several random starts per image (the loss has many local minima: the search keeps the
# start of lowest final loss). G and D run in eval mode, so that BatchNorm uses its
# running statistics and no image in the batch affects another.
#
# The lesson trains a small DCGAN on 70 % of the digits, then checks:
#
# 1. the gradient of the context loss with respect to $G(z)$, and the whole chain down
#    to $z$ (prior included), against central differences in float64;
# 2. that the visible pixels of a restoration are the input's to the last bit, and that
#    Adam on $z$ lowers the loss;
# 3. that on the held-out 30 % of the digits, with the lower half hidden, restoration
#    beats filling the hidden pixels with the background (a claim measured, not
#    assumed), beside a rival that needs no GAN at all: the nearest training digit.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import copy

import numpy as np

from minigan import backend
from minigan.data import load_digits
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.inpaint import named_mask, restoration_loss, restore
from minigan.models import build
from minigan.train import GAN

lesson = Lesson("18_restoration_by_optimising_z")
H = backend.to_numpy
Z, WIDTH, BATCH = 32, 32, 64
STEPS = 500 if lesson.quick else 8000          # GAN training steps
ZSTEPS = 100 if lesson.quick else 300          # Adam steps on z per restoration
RESTORED = 60 if lesson.quick else None        # held-out digits restored (None: all)

# %% [markdown]
# ## A generator to search in
#
# The recipe of `minigan train --dataset digits`: a narrow DCGAN ($z \in
# \mathbb{R}^{32}$, 32 base channels) with Adam at $5 \cdot 10^{-4}$ decaying linearly,
# trained on the first 70 % of the digits. The last 30 % are never shown to G
# (what `--holdout 0.3` keeps out): those are the digits we restore.

# %%
lesson.section(f"training a digits DCGAN on 70 % of the digits ({STEPS} steps)")
images, labels = load_digits()
cut = len(images) - round(0.3 * len(images))
train, held = images[:cut], images[cut:]
held_labels = labels[cut:]
backend.seed(lesson.seed)
G, D = build("dcgan", (1, 8, 8), Z, width=WIDTH)
gan = GAN(G, D, Z, lr_g=5e-4, lr_d=5e-4, lr_schedule="linear", total_steps=STEPS,
          seed=lesson.seed)
train_x = backend.asarray(train)


def real_batch(rng, n):
    return train_x[backend.asarray(rng.choice(len(train), n, replace=False))]


gan.fit(real_batch, STEPS, BATCH)
print(f"  {len(train)} training digits, {len(held)} held out")

# %% [markdown]
# ## The gradient, by the chain rule
#
# Write $g = G(z)$ for one image, $l = D(g)$ for D's logit. The context term
# $C(g) = \frac{1}{n}\sum_j m_j (g_j - x_j)^2$ has the gradient
#
# $$\frac{\partial C}{\partial g_j} = \frac{2\, m_j\,(g_j - x_j)}{n}:$$
#
# zero on a hidden pixel (nothing pulls it: only G's shape decides it). The prior
# $P = -\log\sigma(l) = \operatorname{softplus}(-l)$ has $\partial P/\partial l =
# \sigma(l) - 1$, which D's backward (input gradient only, `param_grads=False`) carries
# back to the image. The sum goes back through G, asking G for its INPUT gradient this
# time (z is what we learn) and for no parameter gradient:
#
# $$\frac{\partial L}{\partial z} = J_G^\top\Big(\frac{\partial C}{\partial g}
#   + \lambda\, J_D^\top\big(\sigma(l) - 1\big)\Big)
#   = \texttt{G.backward}(\,\cdot\,, \texttt{param\_grads=False}).$$
#
# The images are independent, so one batched backward of $\sum_i L_i$ gives every
# $\partial L_i/\partial z_i$. The checks compare, in float64 (copies of the trained G
# and D), the context gradient with central differences in $g$, the context loss with
# minigan's (`minigan.inpaint.restoration_loss` with $\lambda = 0$), and the whole
# gradient in $z$, prior included ($\lambda = 0.5$), with central differences in $z$.
# Tolerance $10^{-7}$ each: in float64 a right gradient scores near $10^{-9}$.

# %%
def context_loss_and_grad(fake, images, mask):
    """Each image's context loss (N,) and its gradient w.r.t. fake (N, C, H, W)."""
    xp = backend.get_array_module(fake)
    visible = xp.maximum(mask.sum(axis=(1, 2, 3)), 1)
    diff = mask * (fake - images)
    loss = (diff * diff).sum(axis=(1, 2, 3)) / visible
    return loss, 2 * diff / visible[:, None, None, None]


context_loss_and_grad = lesson.exercises(context_loss_and_grad)

lesson.section("1. the gradient through G, checked (float64)")
G64, D64 = (copy.deepcopy(m).astype("float64").eval() for m in (gan.G, gan.D))
rng = np.random.default_rng(lesson.seed)
z = backend.asarray(rng.standard_normal((3, Z)))
x = backend.asarray(rng.uniform(-1, 1, (3, 1, 8, 8)))
mask = backend.asarray(rng.integers(0, 2, (3, 1, 8, 8)).astype(np.float64))
fake = lesson.xp.ascontiguousarray(G64(z))     # perturbed in place by the check
loss, grad_fake = context_loss_and_grad(fake, x, mask)
numeric = numerical_gradient(
    lambda: float(context_loss_and_grad(fake, x, mask)[0].sum()), fake)
lesson.check("dC/dG(z), analytic vs numeric (rel err)", rel_error(grad_fake, numeric),
             1e-7)
reference, _ = restoration_loss(G64, D64, z, x, mask, 0.0)
lesson.check("the context loss against minigan.inpaint's (rel err)",
             rel_error(loss, reference), 1e-12)
G64(z)
grad_z = G64.backward(grad_fake, param_grads=False)      # the chain, by hand, into z
numeric = numerical_gradient(
    lambda: float(context_loss_and_grad(G64(z), x, mask)[0].sum()), z)
lesson.check("dC/dz = G.backward(dC/dG(z)), analytic vs numeric (rel err)",
             rel_error(grad_z, numeric), 1e-7)
_, grad_z = restoration_loss(G64, D64, z, x, mask, 0.5)
numeric = numerical_gradient(
    lambda: float(restoration_loss(G64, D64, z, x, mask, 0.5)[0].sum()), z)
lesson.check("dL/dz with D's prior (lambda 0.5), analytic vs numeric (rel err)",
             rel_error(grad_z, numeric), 1e-7)

# %% [markdown]
# ## Restoring held-out digits
#
# The lower half of each held-out digit is hidden (`named_mask("bottom", ...)`: rows 4
# to 7). `minigan.inpaint.restore` runs Adam (learning rate 0.05) on four random starts
# per digit, all in one batch, and keeps each digit's start of lowest final loss;
# $\lambda = 0.01$. It returns where(mask, x, G(z)), so the visible pixels must be the
# input's bit for bit, not merely close: `np.array_equal`. And Adam must have lowered
# the mean loss from its value at the random starts.

# %%
lesson.section("2. restoring held-out digits, lower half hidden")
targets = held[:RESTORED]
target_labels = held_labels[:RESTORED]
bottom = named_mask("bottom", targets.shape[1:])
result = restore(gan.G, gan.D, targets, bottom, Z, steps=ZSTEPS, seed=lesson.seed)
visible = np.broadcast_to(bottom, targets.shape) == 1
first, last = result.history[0], result.history[-1]
print(f"  {len(targets)} digits, {ZSTEPS} Adam steps on z, 4 starts each")
lesson.check_that("contract (restore pastes them back): the visible pixels are the "
                  "input's, to the bit",
                  np.array_equal(result.images[visible], targets[visible]),
                  f"{int(visible.sum())} pixels compared")
lesson.check_that("Adam on z lowers the mean loss", last < first,
                  f"{first:.3f} at the starts -> {last:.3f}")

# %% [markdown]
# ## Does it beat the trivial fill?
#
# The error that matters is on the HIDDEN pixels (the visible ones are exact by
# construction): the mean of $(\hat x_j - x_j)^2$ over them. Two fills to compare:
#
# - **background**: every hidden pixel set to $-1$, the digits' background: what you get
#   knowing nothing of digits;
# - **nearest neighbour**: the training digit closest on the visible half supplies the
#   hidden half: a memory of the training set, no model at all.
#
# Restoration must beat the background fill. Against the nearest neighbour there is no
# claim to check: see the numbers, and question 3.

# %%
lesson.section("3. the error on the hidden pixels")
hidden = ~visible


def hidden_error(restored):
    return float(((restored - targets) ** 2)[hidden].mean())


background = np.where(visible, targets, -1.0)
seen, seen_train = ((a * bottom).reshape(len(a), -1) for a in (targets, train))
distance = ((seen[:, None, :] - seen_train[None, :, :]) ** 2).sum(axis=2)
neighbour = np.where(visible, targets, train[distance.argmin(axis=1)])
errors = {"restoration": hidden_error(result.images),
          "background fill": hidden_error(background),
          "nearest training digit": hidden_error(neighbour)}
for name, error in errors.items():
    print(f"  {name:24s} MSE on the hidden pixels {error:.3f}")
lesson.check_that("restoration beats the background fill on the hidden pixels",
                  errors["restoration"] < errors["background fill"],
                  f"{errors['restoration']:.3f} < {errors['background fill']:.3f}")

# %% [markdown]
# ## The figure
#
# Ten held-out digits: the input with its hidden half grey, the restoration, and the
# true digit.

# %%
rows = [("masked", np.where(visible, targets, 0.0)), ("restored", result.images),
        ("true", targets)]
fig, axes = plt.subplots(3, 10, figsize=(7, 2.6))
for r, (title, picture) in enumerate(rows):
    for j in range(10):
        axes[r, j].imshow(picture[j, 0], cmap="gray", vmin=-1, vmax=1)
        axes[r, j].set_axis_off()
    axes[r, 0].set_title(title, fontsize=8, loc="left")
lesson.savefig(fig, "restoration.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. The gradient of the context loss is zero on every hidden pixel. How, then, does
#    the search decide what the hidden half looks like?
# 2. With $\lambda$ very large, what would the restorations look like, and what would
#    the visible half of $G(\hat z)$ have to do with the input?
# 3. On these digits the nearest training digit can rival or beat the restoration on
#    the hidden pixels. Why can a memory of 1,258 digits do so well here, and what
#    would change for 64 x 64 faces?
# 4. Why does the search use several random starts per image, and why is one batch of
#    all of them correct even though G has BatchNorm layers?
#
# Short answers: `lessons/ANSWERS.md`.
