# %% [markdown]
# # Lesson 23 — a colour DCGAN on the emoji: checkerboards, memorisation, categories
#
# The digits of lessons 14-21 have one channel. The emoji have three (red, green,
# blue), and ten categories. This lesson trains DCGANs on them and measures four things:
#
# 1. what three channels change in a DCGAN: two layers, the first convolution of D and
#    the last transposed convolution of G (checked by counting parameters);
# 2. the **checkerboard** a stride-2 transposed convolution paints (lesson 06), here in
#    colour, and its usual cure, **resize then convolve** (Odena, Dumoulin & Olah,
#    "Deconvolution and Checkerboard Artifacts", Distill 2016): a checkerboard statistic
#    measured on both generators, untrained and briefly trained, beside real emoji;
# 3. what **memorisation** looks like when G has only 16 emoji to learn from, measured
#    by the distance from its samples to the nearest training emoji, beside the same
#    distance for held-out emoji;
# 4. a **conditional** DCGAN (lesson 17), asked for one category per row, and whether
#    its rows carry a measurable trace of the category they were asked for.
#
# The data: the Google (Noto) emoji of the emoji-data project, 64-pixel pictures
# composited on white and reduced to 32x32 by area means, in $[-1, 1]$
# (`minigan/data/emoji.py` says how; the pictures are under the Apache License 2.0).
# The lesson reads them from minigan's cache folder, where
# `minigan train --dataset emoji-google --download` puts them. Held out: the base
# emoji that the spread rule picks at $F = 0.1$ (every tenth in the emoji's order),
# each with all its skin-tone variations (`minigan.data.spread_holdout`).

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import numpy as np

from minigan import backend
from minigan.data import default_data_dir, spread_holdout
from minigan.data.emoji import load_emoji
from minigan.gradcheck import check_layer
from minigan.layers import (BatchNorm1d, BatchNorm2d, Concat, Conv2d, Dense,
                            LabelPlanes, ReLU, Reshape, Sequential, Tanh, dcgan_init,
                            eval_mode, no_grad)
from minigan.layers.base import Module
from minigan.metrics.images import nearest_distance
from minigan.models import build
from minigan.train import GAN
from minigan.viz import image_grid

lesson = Lesson("23_colour_dcgan_emoji")
xp = lesson.xp
H = backend.to_numpy
VENDOR, HOLDOUT, Z = "google", 0.1, 32
CATEGORIES = ("Smileys & Emotion", "People & Body", "Component", "Animals & Nature",
              "Food & Drink", "Travel & Places", "Activities", "Objects", "Symbols",
              "Flags")                                   # categories.json's order
K = len(CATEGORIES)
WIDTH32, STEPS_CB = 8, 150 if lesson.quick else 1000     # section 2: 32x32
WIDTH16 = 16                                             # sections 3 and 4: 16x16
N_SMALL, STEPS_SMALL = 16, 800 if lesson.quick else 2000
STEPS_COND = 600 if lesson.quick else 1500

try:
    images32, labels, groups = load_emoji(VENDOR, default_data_dir("emoji"), 32)
except FileNotFoundError as exc:   # one line and exit status 1, no traceback
    lesson.stop(f"lesson 23 reads the emoji from minigan's cache folder: {exc}. The "
                f"lesson reads only that folder: `minigan train --dataset "
                f"emoji-{VENDOR} --download` fetches the package into it (or put the "
                f"package or its .tgz there)")
held = spread_holdout(groups, HOLDOUT)
train32, train_labels = images32[~held], labels[~held]


def smaller(images):
    """(N, 3, 2S, 2S) -> (N, 3, S, S): the mean of each 2x2 block."""
    n, c, h, w = images.shape
    return images.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def show(ax, images, nrow, title=""):
    ax.imshow(image_grid(images, nrow), interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


# %% [markdown]
# ## 1. Three channels: what changes in the DCGAN
#
# A batch of colour images has shape $(N, 3, H, W)$: channel 0 red, 1 green, 2 blue.
# The library's `dcgan` on $(C, 32, 32)$ has three stride-2 stages. With $c$ the
# width (here $c = 8$): G maps $z$ by a Dense layer and BatchNorm1d to $(4c, 4, 4)$,
# then transposed convolutions (k4 s2 p1) double the side and halve the channels,
# $4c \to 2c \to c \to C$; D mirrors it, $C \to c \to 2c \to 4c$, then a Dense layer
# to one logit. The number of channels $C$ appears in two layers only:
#
# | player | layer | weight | bias |
# |---|---|---|---|
# | G | last ConvTranspose2d$(c \to C)$ | $(c, C, 4, 4)$ | $(C,)$ |
# | D | first Conv2d$(C \to c)$ | $(c, C, 4, 4)$ | $(c,)$ |
#
# so going from grey ($C = 1$) to colour ($C = 3$) adds $2 \cdot 16c$ weights to each
# player and 2 biases to G: $64c + 2$ parameters in all. If any other layer depended
# on $C$ the count would differ; the check counts the parameters of both pairs. The
# figure shows training emoji, one row per category.

# %%
lesson.section("1. three channels: what changes in the DCGAN (32x32)")
print(f"  {len(images32)} emoji, shape {images32.shape[1:]}, {int(held.sum())} held "
      f"out (spread rule, F = {HOLDOUT}); per category in training: "
      + ", ".join(f"{name} {int((train_labels == k).sum())}"
                  for k, name in enumerate(CATEGORIES)))
backend.seed(lesson.seed)
pairs = {C: build("dcgan", (C, 32, 32), Z, width=WIDTH32) for C in (1, 3)}
G3, D3 = pairs[3]
x = xp.zeros((2, Z), dtype=backend.default_dtype())
with no_grad():
    for name, model in (("G", G3), ("D", D3)):
        steps = []
        for layer in model:
            x = layer(x)
            kind = type(layer).__name__
            if kind in ("Reshape", "ConvTranspose2d", "Conv2d", "Dense"):
                steps.append(f"{kind} {tuple(x.shape[1:])}")
        print(f"  {name}: " + " -> ".join(steps))
counts = {C: sum(m.num_parameters() for m in pair) for C, pair in pairs.items()}
lesson.check_that("grey -> colour adds exactly 64c + 2 parameters (c = 8): only D's "
                  "first and G's last layer see C",
                  counts[3] - counts[1] == 64 * WIDTH32 + 2,
                  f"{counts[3]} - {counts[1]} = {counts[3] - counts[1]}, "
                  f"64c + 2 = {64 * WIDTH32 + 2}")


def category_row(k, n=12):
    """Up to n training emoji of category k, spread over its order; white padding."""
    members = train32[train_labels == k]
    row = members[np.unique(np.linspace(0, len(members) - 1, n).astype(int))]
    return np.concatenate([row, np.ones((n - len(row),) + row.shape[1:], row.dtype)])


rows = np.concatenate([category_row(k) for k in range(K)])
fig, ax = plt.subplots(figsize=(6.2, 5.6))
ax.imshow(image_grid(rows, 12), interpolation="nearest")
ax.set_yticks([1 + 33 * k + 16 for k in range(K)], CATEGORIES, fontsize=8)
ax.set_xticks([])
ax.set_title("training emoji, one row per category (32x32)", fontsize=9)
lesson.savefig(fig, "emoji_by_category.png")

# %% [markdown]
# ## 2. The checkerboard, in colour, and resize-then-convolve
#
# Lesson 06 showed why a transposed convolution with kernel 4 and stride 2 paints a
# checkerboard: output pixels of the four phases (row parity $a$, column parity $b$)
# are painted by four different $2 \times 2$ sub-kernels `W[:, :, a::2, b::2]`, so
# even a flat input comes out with four different levels unless the four sub-kernels
# sum alike. In colour every output channel $o$ has its own sub-kernels
# `W[:, o, a::2, b::2]`, so each of red, green and blue gets its own checkerboard.
#
# **The statistic.** A checkerboard is energy at the highest frequencies an image can
# hold, the Nyquist frequencies. With $\hat y$ the 2-D discrete Fourier transform of one
# channel $y$ ($H \times W$),
# $\hat y(\pi, 0) = \sum_{ij} (-1)^i y_{ij}$ (even rows minus odd rows),
# $\hat y(0, \pi) = \sum_{ij} (-1)^j y_{ij}$ and
# $\hat y(\pi, \pi) = \sum_{ij} (-1)^{i+j} y_{ij}$: the three contrasts between the
# four phases. The **Nyquist share** is their energy over all the energy but the mean's,
#
# $$\nu(y) = \frac{|\hat y(\pi, 0)|^2 + |\hat y(0, \pi)|^2 + |\hat y(\pi, \pi)|^2}
#                 {\sum_{f \neq 0} |\hat y(f)|^2},$$
#
# averaged over images and channels (0 for a constant channel): 0 with no
# checkerboard, 1 for a pure one. White noise spreads its energy evenly over the
# $HW - 1$ frequencies $f \neq 0$, so its share is about $3 / (HW - 1)$, 0.0029 at
# 32x32 (checked below).
#
# **Resize, then convolve.** Instead of ConvTranspose2d(k4 s2), repeat every pixel
# into a $2 \times 2$ block (nearest-neighbour upsampling), then apply an ordinary
# Conv2d(k3 s1 p1). The upsampled image has NO Nyquist energy: along a row
# $u_{2a} = u_{2a+1}$, so $\sum_i (-1)^i u_i = \sum_a (u_{2a} - u_{2a+1}) = 0$, and
# likewise down the columns. A stride-1 convolution treats every pixel alike, so away
# from the border it multiplies each frequency by the kernel's response there (the
# convolution theorem), and a zero stays zero. In a G built so, the LAST upsampling
# sets the output's Nyquist energy to zero, whatever came before it; after it only the
# last convolution's zero padding (at the border) and the final tanh (pointwise, but
# not linear) can bring some back. The measurements below say how much.
#
# minigan has no upsampling layer, so the lesson writes one. Forward:
# $y_{n,c,i,j} = x_{n,c,\lfloor i/2 \rfloor, \lfloor j/2 \rfloor}$, shapes
# $(N, C, H, W) \to (N, C, 2H, 2W)$. Each $x_{n,c,a,b}$ is used four times, so its
# gradient is the SUM of the four (the fork rule of lesson 19):
#
# $$\frac{\partial L}{\partial x_{n,c,a,b}} = \sum_{i \in \{2a, 2a+1\}}
#   \sum_{j \in \{2b, 2b+1\}} \frac{\partial L}{\partial y_{n,c,i,j}}.$$
#
# That backward is this lesson's exercise. It is checked against central differences
# in float64 (`check_layer`, tolerance $10^{-7}$), alone and followed by a Conv2d.

# %%
def upsample_backward(grad):
    """dL/dx of the 2x nearest upsampling: (N, C, 2H, 2W) -> (N, C, H, W), the sum of
    each 2x2 block of the gradient."""
    n, c, h2, w2 = grad.shape
    return grad.reshape(n, c, h2 // 2, 2, w2 // 2, 2).sum(axis=(3, 5))


upsample_backward = lesson.exercises(upsample_backward)


class Upsample(Module):
    """Nearest-neighbour 2x upsampling: y[n, c, i, j] = x[n, c, i // 2, j // 2].

    Shapes: (N, C, H, W) -> (N, C, 2H, 2W). No parameters.
    Backward: dL/dx = the sum of each 2x2 block of dL/dy (upsample_backward).
    """

    def forward(self, x):
        self.check_input(x, 4, {})
        self.save_for_backward()      # nothing to keep, but a backward must match
        return x.repeat(2, axis=2).repeat(2, axis=3)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        self.saved()
        return upsample_backward(grad_out) if input_grad else None

    def __repr__(self):
        return "Upsample(2)"


def resize_conv_generator(data_shape, z_dim, width):
    """dcgan's G with each ConvTranspose2d(k4 s2 p1) replaced by Upsample -> Conv2d(k3
    s1 p1): the same widths, the same BatchNorms and ReLUs, the DCGAN initialisation."""
    C, S, _ = data_shape
    k = 3 if S == 32 else 2                     # dcgan's stages: 32 -> 3, 16 -> 2
    side, top = S >> k, width << (k - 1)
    units = top * side * side
    layers = [Dense(z_dim, units, bias=False), BatchNorm1d(units), ReLU(),
              Reshape(top, side, side)]
    for i in range(k - 1, 0, -1):
        layers += [Upsample(),
                   Conv2d(width << i, width << (i - 1), 3, 1, 1, bias=False),
                   BatchNorm2d(width << (i - 1)), ReLU()]
    G = Sequential(*layers, Upsample(), Conv2d(width, C, 3, 1, 1), Tanh())
    dcgan_init(G)
    return G


def nyquist_share(images):
    """The Nyquist share nu of each image's channels, averaged: (N, C, H, W) -> a
    float."""
    y = np.asarray(H(images), dtype=np.float64)
    h, w = y.shape[-2:]
    power = np.abs(np.fft.fft2(y)) ** 2
    nyquist = power[..., h // 2, 0] + power[..., 0, w // 2] + power[..., h // 2, w // 2]
    rest = power.sum(axis=(-2, -1)) - power[..., 0, 0]
    # a constant channel has no energy beyond its mean: nu = 0, not 0 / 0
    share = np.divide(nyquist, rest, out=np.zeros_like(rest), where=rest > 0)
    return float(share.mean())


lesson.section("2. the checkerboard, in colour, and resize-then-convolve (32x32)")
host = np.random.default_rng(lesson.seed)
with backend.using_dtype("float64"):
    block = Sequential(Upsample(), Conv2d(3, 4, 3, 1, 1))
    for name, layer in (("Upsample", Upsample()),
                        ("Upsample -> Conv2d(k3 s1 p1)", block)):
        errors = check_layer(layer, backend.asarray(host.standard_normal((2, 3, 4, 5))))
        lesson.check(f"{name}: backward vs central differences (worst rel err)",
                     max(errors.values()), 1e-7)
noise = host.standard_normal((1000, 3, 32, 32))
nu_noise = nyquist_share(noise)
lesson.check("white noise: nu = 3 / (HW - 1) (relative difference)",
             abs(nu_noise * (32 * 32 - 1) / 3 - 1), 0.1)
with no_grad():
    nu_up = nyquist_share(Upsample()(noise[:, :, :16, :16]))
lesson.check("a nearest-upsampled image has no Nyquist energy (nu)", nu_up, 1e-20)

# %% [markdown]
# **Untrained.** The library's `dcgan` G (transposed convolutions) and the
# resize-then-convolve G built above, both with the DCGAN initialisation, draw 256
# images each from the same noise, in training mode (BatchNorm on the batch's own
# statistics, as in the first training step).
#
# **Briefly trained.** Then each is trained as a GAN against its own copy of the same
# D (the same initial weights) on the 32x32 training emoji, for the number of steps
# the printout gives (batch 32, Adam $2 \times 10^{-4}$), and draws 256 images in
# evaluation mode. The checks: the transposed convolutions' share is over ten times
# the resize-conv G's, before and after training, and after training still over ten
# times that of the real emoji.

# %%
nu_real = nyquist_share(train32)
batch32 = backend.asarray(train32, dtype=backend.default_dtype())


def sample_cb(rng, n):
    return batch32[backend.asarray(rng.choice(len(train32), n, replace=False))]


gens, nu_init, nu_trained = {}, {}, {}
for kind in ("transposed conv", "resize-conv"):
    backend.seed(lesson.seed)
    G, D = build("dcgan", (3, 32, 32), Z, width=WIDTH32)
    if kind == "resize-conv":
        with backend.seeded(lesson.seed + 1):
            G = resize_conv_generator((3, 32, 32), Z, WIDTH32)
    gan = GAN(G, D, Z, seed=lesson.seed)
    with no_grad():
        nu_init[kind] = nyquist_share(G(gan.noise(256, backend.rng(lesson.seed + 2))))
    gan.fit(sample_cb, STEPS_CB, 32)
    gens[kind] = gan.sample(256, seed=lesson.seed + 3)
    nu_trained[kind] = nyquist_share(gens[kind])
    print(f"  {kind} G ({G.num_parameters()} parameters): nu untrained "
          f"{nu_init[kind]:.2e}, after {STEPS_CB} steps {nu_trained[kind]:.2e}")
print(f"  real emoji: nu {nu_real:.2e}; white noise {nu_noise:.2e}")
ratio_init = nu_init["transposed conv"] / nu_init["resize-conv"]
ratio_trained = nu_trained["transposed conv"] / nu_trained["resize-conv"]
ratio_real = nu_trained["transposed conv"] / nu_real
lesson.check_that("untrained: the transposed convolutions' Nyquist share is > 10x the "
                  "resize-conv G's", ratio_init > 10, f"{ratio_init:.0f}x")
lesson.check_that(f"after {STEPS_CB} steps: still > 10x the resize-conv G's",
                  ratio_trained > 10, f"{ratio_trained:.0f}x")
lesson.check_that("and > 10x the real emoji's: training has not removed it yet",
                  ratio_real > 10, f"{ratio_real:.0f}x")

fig, axes = plt.subplots(2, 3, figsize=(9, 6.4))
spectra = {"transposed conv G": gens["transposed conv"],
           "resize-conv G": gens["resize-conv"], "real emoji": train32}
pick = np.random.default_rng(lesson.seed + 6)     # which 16 the figure shows
for ax, (name, images) in zip(axes[0], spectra.items()):
    shown = images[pick.choice(len(images), 16, replace=False)]
    show(ax, shown, 4, f"{name}\nnu = {nyquist_share(images):.1e}")
for ax, (name, images) in zip(axes[1], spectra.items()):
    y = np.asarray(images, dtype=np.float64)
    y = y - y.mean(axis=(-2, -1), keepdims=True)
    power = np.fft.fftshift((np.abs(np.fft.fft2(y)) ** 2).mean(axis=(0, 1)))
    ax.imshow(np.log10(power + 1e-6), cmap="magma", vmin=-2, vmax=4,
              extent=(-np.pi, np.pi, np.pi, -np.pi))
    ax.set_title("log10 mean power; Nyquist at the edges", fontsize=8)
    ax.set_xlabel("column frequency", fontsize=8)
    ax.set_ylabel("row frequency", fontsize=8)
    ax.tick_params(labelsize=7)
lesson.savefig(fig, "checkerboard.png")

# %% [markdown]
# ## 3. Little data: what memorisation looks like
#
# From here on the images are 16x16 (the 32x32 ones averaged over $2 \times 2$
# blocks) and G is the library's `dcgan` ($c = 16$), so that the runs fit in a CPU's
# minute. A DCGAN is trained on just $n = 16$ emoji, $T$, drawn at random from the
# training split (batch 16: every step sees all of them, Adam $5 \times 10^{-4}$).
# A G that has memorised $T$ draws near-copies of its members, so its samples lie
# closer to $T$ than unseen real emoji do. With
#
# $$\bar d(Q \to T) = \frac{1}{|Q|} \sum_{q \in Q} \min_{t \in T} \lVert q - t \rVert$$
#
# (`minigan.metrics.images.nearest_distance`, over all $3 \cdot 16 \cdot 16$ numbers),
# the lesson compares $\bar d(\text{samples} \to T)$ with
# $\bar d(\text{held out} \to T)$ for the held-out emoji of the spread rule, which
# share no base emoji with $T$.
#
# A small distance alone does not prove copying: a blur may score well too, and the
# lesson checks whether the mean image of $T$ scores below the held-out emoji. So it
# also counts how many DIFFERENT members of $T$ are the nearest one to some
# sample: one blurred image names one, near-copies of many members name many. The
# figure puts each sample beside its nearest training emoji.

# %%
lesson.section(f"3. little data: G trained on {N_SMALL} emoji for {STEPS_SMALL} steps "
               "(16x16)")
train16, held16 = smaller(train32), smaller(images32[held])
small = train16[host.choice(len(train16), N_SMALL, replace=False)]
backend.seed(lesson.seed)
G, D = build("dcgan", (3, 16, 16), Z, width=WIDTH16)
gan_small = GAN(G, D, Z, lr_g=5e-4, lr_d=5e-4, seed=lesson.seed)
small_batch = backend.asarray(small, dtype=backend.default_dtype())
gan_small.fit(lambda rng, n: small_batch[backend.asarray(rng.permutation(n))],
              STEPS_SMALL, N_SMALL)
samples = gan_small.sample(500, seed=lesson.seed + 4)
d_samples = nearest_distance(samples, small)
d_held = nearest_distance(held16, small)
d_mean = nearest_distance(small.mean(axis=0, keepdims=True), small)
flat = lambda a: a.reshape(len(a), -1).astype(np.float64)
nearest = ((flat(samples)[:, None] - flat(small)[None]) ** 2).sum(-1).argmin(axis=1)
named = len(np.unique(nearest))
print(f"  mean distance to the nearest of the {N_SMALL}: samples {d_samples:.2f}, "
      f"held-out emoji {d_held:.2f}, the {N_SMALL}'s mean image {d_mean:.2f}")
lesson.check_that(f"G's samples lie nearer its {N_SMALL} training emoji than held-out "
                  "emoji do", d_samples < d_held, f"{d_samples:.2f} < {d_held:.2f}")
lesson.check_that("so does a blur: the training emoji's mean image scores below the "
                  "held-out emoji", d_mean < d_held, f"{d_mean:.2f} < {d_held:.2f}")
lesson.check_that(f"the samples' nearest training emoji are many different ones "
                  f"(>= {N_SMALL // 2} of {N_SMALL}), not one blur",
                  named >= N_SMALL // 2, f"{named} of {N_SMALL}")

fig, axes = plt.subplots(3, 1, figsize=(8, 2.6))
show(axes[0], samples[:16], 16, "samples of G trained on 16 emoji")
show(axes[1], small[nearest[:16]], 16, "the nearest training emoji of each")
show(axes[2], small, 16, "the 16 training emoji")
lesson.savefig(fig, "memorisation.png")

# %% [markdown]
# ## 4. A conditional DCGAN: one row per category
#
# As in lesson 17, G gets the label's one-hot code beside $z$: $G$ is
# `Concat(G_inner, LabelPlanes(10, 16, 16))`, where `G_inner` is dcgan's G for an
# input of $32 + 10$ numbers and `LabelPlanes` spreads the one-hot code over 10
# constant planes, so G's output is $(N, 3 + 10, 16, 16)$; D is dcgan's D for
# $3 + 10$ channels, and each real batch is the images with their labels' 10 planes.
# `GAN(..., num_classes=10)` gives each fake the label of a real image in the batch
# beside it, so D sees every category equally often in both (the categories are far
# from equal: People & Body alone is 60 % of the emoji). It trains on all the
# training emoji for the number of steps the section title gives.
#
# **Does G honour the category?** Rather than judge the rows by eye (the figure shows
# them), the lesson asks whether they carry ANY measurable trace of their category.
# The reader is the simplest classifier there is: the category whose mean training
# emoji is nearest. Each category $k$ is asked for with the same 50 noise vectors
# $z_1, \dots, z_{50}$, and the **balanced agreement** is the mean over $k$ of the
# share of row $k$ read as $k$. If G ignored the label, every row would be the same 50
# images; the share read as $k$ would be the same fraction $p_k$ in every row, and the
# agreement $\frac{1}{10} \sum_k p_k$ would be exactly 10 % (the $p_k$ of one row sum
# to 1), whatever the reader. The reader's own balanced accuracy on held-out emoji
# says how much it can see.

# %%
lesson.section(f"4. a conditional DCGAN, {STEPS_COND} steps on all the training emoji "
               "(16x16)")
centroids = np.stack([flat(train16[train_labels == k]).mean(axis=0) for k in range(K)])


def read(images):
    """The category whose mean training emoji is nearest, for each image."""
    return ((flat(images)[:, None] - centroids[None]) ** 2).sum(-1).argmin(axis=1)


def balanced(read_as, asked):
    return float(np.mean([(read_as[asked == k] == k).mean() for k in range(K)]))


backend.seed(lesson.seed)
G_inner, _ = build("dcgan", (3, 16, 16), Z + K, width=WIDTH16)
_, D = build("dcgan", (3 + K, 16, 16), Z, width=WIDTH16)
gan_cond = GAN(Concat(G_inner, LabelPlanes(K, 16, 16)), D, Z, seed=lesson.seed,
               num_classes=K)
one_hot = np.eye(K, dtype=np.float32)[train_labels]
with_planes = backend.asarray(np.concatenate(
    [train16, np.broadcast_to(one_hot[:, :, None, None], one_hot.shape + (16, 16))],
    axis=1), dtype=backend.default_dtype())       # (N, 3 + 10, 16, 16)
gan_cond.fit(lambda rng, n: with_planes[backend.asarray(
    rng.choice(len(with_planes), n, replace=False))], STEPS_COND, 32)

z = backend.rng(lesson.seed + 5).standard_normal((50, Z))
asked = np.repeat(np.arange(K), len(z))
codes = np.concatenate([np.tile(z, (K, 1)), np.eye(K)[asked]], axis=1)
with eval_mode(gan_cond.G), no_grad():
    rows = H(gan_cond.G(backend.asarray(codes, dtype=gan_cond.G.dtype)))[:, :3]
reader_accuracy = balanced(read(held16), labels[held])
agreement = balanced(read(rows), asked)
print("  rows read as asked, per category: " + ", ".join(
    f"{k} {(read(rows[asked == k]) == k).mean():.0%}" for k in range(K)))
lesson.check_that("the reader itself: balanced accuracy on held-out emoji far above "
                  "chance (> 30 % vs 10 %)", reader_accuracy > 0.3,
                  f"{reader_accuracy:.0%}")
lesson.check_that("G's rows are read as their category more often than a G blind to "
                  "the label allows (> 20 % vs exactly 10 %)", agreement > 0.2,
                  f"{agreement:.0%}")

fig, ax = plt.subplots(figsize=(5.6, 5.6))
ax.imshow(image_grid(rows.reshape(K, len(z), 3, 16, 16)[:, :10].reshape(-1, 3, 16, 16),
                     10), interpolation="nearest")
ax.set_yticks([1 + 17 * k + 8 for k in range(K)], CATEGORIES, fontsize=8)
ax.set_xticks([])
ax.set_title("row k: G asked for category k (the same 10 z in every row)", fontsize=9)
lesson.savefig(fig, "conditional_rows.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. White noise has a Nyquist share of about $3/(HW - 1)$. Where do the 3 and the
#    $HW - 1$ come from, and why does the nearest-upsampled image score exactly 0
#    while the resize-conv G, made of upsamplings, does not?
# 2. The upsampling's backward sums each $2 \times 2$ block of the gradient. Why a sum
#    and not a mean, and which check would a mean fail, by how much?
# 3. G trained on 16 emoji has samples nearer its training emoji than held-out emoji
#    are, but so has the training emoji's mean image. What does each of the lesson's
#    three memorisation measurements rule in or out?
# 4. With the same $z$ in every row, a G blind to the label scores a balanced agreement
#    of exactly 10 %. Why exactly, and what does an agreement well above 10 % still
#    not tell you about the rows?
#
# Short answers: `lessons/ANSWERS.md`.
