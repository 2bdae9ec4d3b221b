# %% [markdown]
# # Lesson 25 — style transfer: Gram matrices, random filters, one image or a collection
#
# Gatys, Ecker and Bethge ("Texture Synthesis Using Convolutional Neural Networks",
# NeurIPS 2015; "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016)
# describe a picture's **style** by the correlations between the feature maps of a
# convolutional network, its Gram matrices, and make a picture with a given style by
# gradient descent on its PIXELS: the network stays fixed, the image is the parameter.
# They used VGG, a network trained on ImageNet. Ustyuzhaninov, Brendel, Gatys and
# Bethge ("What does it take to generate natural textures?", ICLR 2017) found that
# RANDOM, untrained filters of one or a few layers already capture much of a texture's
# statistics. This lesson uses random filters (minigan's `Conv2d` as initialised,
# never trained), so everything fits in a CPU's minute:
#
# 1. the Gram matrix and its gradient with respect to the features (the exercise);
# 2. the gradient of a style loss with respect to the pixels, through minigan's
#    hand-written `Conv2d` and `ReLU` backward, checked by central differences;
# 3. **texture synthesis**: pixels from noise until their Gram matrices are the
#    painting's, measured: the loss falls, and the result is not a copy;
# 4. **style transfer**: the photo's features plus the painting's Gram matrices, and
#    the trade-off between the two, measured;
# 5. **InstanceNorm** as the other way to say "style": a feature plane's mean and
#    standard deviation (Huang & Belongie's AdaIN), with InstanceNorm's backward (the
#    second exercise);
# 6. why CycleGAN learns the style of a COLLECTION of paintings instead of one.
#
# **The pictures** (in `lessons/data/`, where `SOURCES.md` says where each came from):
# Vincent van Gogh's *The Starry Night* (1889; public domain: van Gogh died in 1890),
# reduced to 96x75 pixels from the copy in Debian's `opencv-doc` package, and a photo
# of Grace Hopper (1984, a U.S. Navy photo: public domain), reduced to 64x64 from
# matplotlib's sample data. Both are read as $(1, 3, H, W)$ arrays in $[-1, 1]$.
#
# **Exercises.** Write `gram_backward` and `instance_norm_backward` in
# `lessons/exercises/25_style_transfer.py`, then run
# `python lessons/25_style_transfer.py --exercise`: every check below then runs on
# your functions instead of the lesson's.

# %%
from _common import LESSONS_DIR, Lesson, plt  # first: the path, BLAS threads, backend

import numpy as np

from minigan import backend
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.layers import Conv2d, InstanceNorm2d, ReflectionPad2d, ReLU, Sequential
from minigan.layers import no_grad
from minigan.layers.base import Module
from minigan.optim import Adam

lesson = Lesson("25_style_transfer")
xp = lesson.xp
H = backend.to_numpy
DATA = LESSONS_DIR / "data"
STEPS_TEXTURE = 300 if lesson.quick else 1000
STEPS_TRANSFER = 200 if lesson.quick else 600
BETAS = (1.0, 10.0, 100.0) if lesson.quick else (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
BETA_MOMENTS = 10.0             # section 5's weight of the moment loss
WIDTHS = (32, 64, 128)          # random filters per stage
CONTENT = 2                     # the stage carrying the photo's content (the 3rd)
EPS = 1e-5                      # InstanceNorm's eps (minigan's default, PyTorch's)


def read_picture(name):
    """A PNG of lessons/data as a (1, 3, H, W) float32 array in [-1, 1]."""
    rgb = plt.imread(DATA / name)[:, :, :3]                # (H, W, 3) in [0, 1]
    return backend.asarray(rgb.transpose(2, 0, 1)[None] * 2 - 1, dtype="float32")


painting = read_picture("starry_night_96x75.png")        # (1, 3, 75, 96)
photo = read_picture("grace_hopper_64x64.png")            # (1, 3, 64, 64)


def show(ax, image, title=""):
    ax.imshow(np.clip((H(image)[0].transpose(1, 2, 0) + 1) / 2, 0, 1),
              interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()


# %% [markdown]
# ## 1. The Gram matrix and its gradient
#
# A convolution layer's output for one image is $C$ feature maps of $H \times W$
# pixels. Flatten each map into a row: $F$ is $C \times M$ with $M = HW$. The **Gram
# matrix**
#
# $$G = \frac{1}{M} F F^\top, \qquad
#   G_{ab} = \frac{1}{M} \sum_{p=1}^{M} F_{ap} F_{bp} \qquad (C \times C)$$
#
# is the average over positions of the product of features $a$ and $b$: how often
# they are on together, wherever that is. Permuting the $M$ positions (the same
# permutation in every map) leaves $G$ unchanged: the Gram matrix keeps WHAT occurs
# and drops WHERE. That is why it describes a texture, or a style, and not a scene.
# (Dividing by $M$ makes pictures of different sizes comparable: the painting has
# $75 \cdot 96$ pixels, the photo $64 \cdot 64$.)
#
# **Its gradient.** Given $\bar G = \partial L / \partial G$ ($C \times C$), the chain
# rule through $G_{ab} = \frac1M \sum_p F_{ap} F_{bp}$: the entry $F_{cq}$ appears in
# row $c$ of $G$ (as the first factor) and in column $c$ (as the second), so
#
# $$\frac{\partial L}{\partial F_{cq}} = \frac1M \Big(\sum_b \bar G_{cb} F_{bq}
#   + \sum_a \bar G_{ac} F_{aq}\Big), \qquad
#   \frac{\partial L}{\partial F} = \frac1M (\bar G + \bar G^\top) F .$$
#
# A style loss gives a symmetric $\bar G$ (below, $\bar G = 2(G - T)$ times a
# constant), and then this is $\frac2M \bar G F$; but a function of $G$ in general
# does not, so the check uses a random, non-symmetric $\bar G$: the loss
# $L = \sum_{ab} R_{ab} G_{ab}$ has $\bar G = R$ exactly. It is checked against
# central differences in float64 (tolerance $10^{-8}$: $L$ is quadratic in $F$, so
# the central difference has no truncation error, only rounding). For a batch,
# $F$ is $(N, C, H, W)$ and each image has its own $G$, $(N, C, C)$.
#
# **Exercise 1**: `gram_backward(features, grad_gram)`.

# %%
def gram(features):
    """(N, C, H, W) -> (N, C, C): G = F F^T / (HW) for each image."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return f @ f.transpose(0, 2, 1) / (h * w)


def gram_backward(features, grad_gram):
    """dL/dF from dL/dG: (Gbar + Gbar^T) F / (HW), shapes (N, C, H, W) and (N, C, C)."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    both = grad_gram + grad_gram.transpose(0, 2, 1)
    return (both @ f / (h * w)).reshape(features.shape)


gram_backward = lesson.exercises(gram_backward)

lesson.section("1. the Gram matrix and its gradient")
host = np.random.default_rng(lesson.seed)
F64 = backend.asarray(host.standard_normal((2, 4, 3, 5)))
R = backend.asarray(host.standard_normal((2, 4, 4)))                 # not symmetric
numeric = numerical_gradient(lambda: float((R * gram(F64)).sum()), F64)
lesson.check("dL/dF = (Gbar + Gbar^T) F / M vs central differences, Gbar not "
             "symmetric (rel err)", rel_error(gram_backward(F64, R), numeric), 1e-8)
shuffle = host.permutation(15)
shuffled = F64.reshape(2, 4, 15)[:, :, shuffle].reshape(2, 4, 3, 5)
print("  (the definition's property, not a check: shuffling the positions changes G "
      f"by {float(abs(gram(shuffled) - gram(F64)).max()):.0e})")

# %% [markdown]
# ## 2. Through the convolutions to the pixels
#
# **The features.** Three stages of random filters, each reflection padding (minigan's
# `ReflectionPad2d`: no dark frame at the border) then a 3x3 `Conv2d` then `ReLU`:
#
# | stage | layer | features of a 64x64 image |
# |---|---|---|
# | 1 | Conv2d(3 -> 32, k3, s1) | $(32, 64, 64)$ |
# | 2 | Conv2d(32 -> 64, k3, s2) | $(64, 32, 32)$ |
# | 3 | Conv2d(64 -> 128, k3, s2) | $(128, 16, 16)$ |
#
# initialised as minigan initialises every `Conv2d` (uniform in
# $\pm 1/\sqrt{\text{fan-in}}$, bias included) and never trained. Each stage sees a
# larger window of the picture (3, 5 and 9 pixels wide; its positions 1, 2 and 4
# pixels apart): the three Gram matrices describe the style at three scales.
#
# **The style loss** of an image $x$ against the painting $s$ is the squared
# distance of the Gram matrices, each stage's divided by the size of the painting's
# (so that each stage counts alike: features that were all zero would score 1 per
# stage):
#
# $$L_{style}(x) = \sum_{l=1}^{3} \frac{\lVert G_l(x) - G_l(s) \rVert^2}
#   {\lVert G_l(s) \rVert^2}, \qquad
#   \frac{\partial L_{style}}{\partial G_l} = \frac{2 (G_l(x) - G_l(s))}
#   {\lVert G_l(s) \rVert^2} .$$
#
# **Its gradient with respect to the pixels.** Stage $l$'s features $F_l$ reach the
# loss twice: through their own Gram matrix and through the later stages. Reverse
# mode adds the two (the fork rule of lesson 19): starting from the last stage,
#
# $$g_3 = \frac{\partial L}{\partial F_3}, \qquad
#   g_l = \frac{\partial L}{\partial F_l}\Big|_{G_l}
#   + \text{stage}_{l+1}.\text{backward}(g_{l+1}), \qquad
#   \frac{\partial L}{\partial x} = \text{stage}_1.\text{backward}(g_1),$$
#
# where each `backward` is minigan's own: ReLU's mask, then `Conv2d.backward`'s
# transposed convolution (lesson 06), then the reflection padding's fold. The
# filters are not learned, so each backward is asked for no parameter gradient
# (`param_grads=False`). The check: all of it against central differences, in
# float64, on a small net (widths 3, 4, 5) and a 10x10 image, tolerance $10^{-7}$.

# %%
class RandomFeatures:
    """Stages of ReflectionPad2d(1) -> Conv2d(k3) -> ReLU, random and fixed; the first
    has stride 1, the others stride 2. Calling it on x (N, 3, H, W) returns the list of
    each stage's output (saved for backward unless under no_grad)."""

    def __init__(self, widths=WIDTHS):
        chans = (3,) + tuple(widths)
        self.stages = [Sequential(ReflectionPad2d(1),
                                  Conv2d(chans[i], chans[i + 1], 3, 1 if i == 0 else 2),
                                  ReLU()) for i in range(len(widths))]

    def __call__(self, x):
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features

    def backward(self, grads):
        """dL/dx from grads[l] = dL/dF_l through stage l's own loss terms only."""
        g = None
        for stage, own in zip(reversed(self.stages), reversed(grads)):
            g = own if g is None else g + own
            g = stage.backward(g, param_grads=False)
        return g


def style_loss(features, targets):
    """sum_l |G_l - T_l|^2 / |T_l|^2 and its gradient dL/dF_l for each stage."""
    loss, grads = 0.0, []
    for F, T in zip(features, targets):
        diff, scale = gram(F) - T, 1.0 / float((T * T).sum())
        loss += scale * float((diff * diff).sum())
        grads.append(gram_backward(F, 2 * scale * diff))
    return loss, grads


def targets_of(net, image):
    """The Gram matrices of an image, the targets of a style loss."""
    with no_grad():
        return [gram(F) for F in net(image)]


def style_value(net, targets, x):
    """L_style of x (a forward only)."""
    with no_grad():
        return style_loss(net(x), targets)[0]


lesson.section("2. the style loss's gradient with respect to the pixels")
with backend.using_dtype("float64"):
    backend.seed(lesson.seed)
    small_net = RandomFeatures((3, 4, 5))
small_style = backend.asarray(host.uniform(-1, 1, (1, 3, 10, 10)))
small_targets = targets_of(small_net, small_style)
x_small = backend.asarray(host.uniform(-1, 1, (1, 3, 10, 10)))
_, grads = style_loss(small_net(x_small), small_targets)
analytic = small_net.backward(grads)
numeric = numerical_gradient(lambda: style_value(small_net, small_targets, x_small),
                             x_small)
lesson.check("dL_style/dpixels through ReLU, Conv2d and the padding's backward vs "
             "central differences (rel err)", rel_error(analytic, numeric), 1e-7)

# %% [markdown]
# ## 3. Texture synthesis: pixels from noise
#
# The image is the one parameter: `Pixels` is a `Module` whose parameter is the
# image, so minigan's `Adam` (lesson 07) updates it exactly as it updates weights
# (learning rate 0.02, betas $(0.9, 0.999)$). After each step the pixels are clipped
# to $[-1, 1]$. The start is white noise, uniform in $[-1, 1]$, 64x64; the target is
# the painting's three Gram matrices, and the loss is $L_{style}$, for the number of
# steps the printout gives.
#
# The measurements:
#
# - the style loss falls by a large factor (over 100x) from the noise's;
# - the texture ends much nearer the painting's statistics than the photo is: its
#   $L_{style}$ is under a hundredth of the photo's;
# - the texture is NOT a copy of part of the painting. Each 16x16 patch of it (49, on
#   a stride of 8) is compared with every 16x16 window of the painting (4,860), and
#   scored by how much of the patch's pixel variance the nearest window explains,
#   $R^2 = 1 - \min_w \lVert p - w \rVert^2 / \lVert p - \bar p \rVert^2$: a copied
#   patch scores 1. The check: the texture's mean $R^2$ stays far from a copy's
#   (below 0.5); the printout gives the photo's patches' score beside it, for
#   patches that owe the painting nothing.

# %%
class Pixels(Module):
    """An image as the one parameter of a Module, for minigan's optimisers."""

    def __init__(self, image):
        super().__init__()
        self.add_param("x", image)


def optimise(start, loss_and_grad, steps, lr=0.02):
    """Adam on the pixels of ``start`` (a copy), clipped to [-1, 1] after each step;
    loss_and_grad(x) -> (loss, dL/dx). Returns the image and the loss before each
    step."""
    pixels = Pixels(start.copy())
    adam = Adam(pixels, lr=lr, betas=(0.9, 0.999))
    x, grad, history = pixels.params["x"], pixels.grads["x"], []
    for _ in range(steps):
        loss, dx = loss_and_grad(x)
        grad[...] = dx
        adam.step()
        xp.clip(x, -1, 1, out=x)
        history.append(loss)
    return x, history


def style_only(net, targets):
    def loss_and_grad(x):
        loss, grads = style_loss(net(x), targets)
        return loss, net.backward(grads)
    return loss_and_grad


def best_window_r2(image, reference, size=16, stride=8):
    """Mean over the image's size x size patches (on a stride) of the R^2 of the
    nearest window of the reference (every position)."""
    img = np.asarray(H(image), dtype=np.float64)[0]
    ref = np.asarray(H(reference), dtype=np.float64)[0]
    windows = np.lib.stride_tricks.sliding_window_view(ref, (size, size), axis=(1, 2))
    windows = windows.transpose(1, 2, 0, 3, 4).reshape(-1, 3 * size * size)
    patches = np.lib.stride_tricks.sliding_window_view(img, (size, size), axis=(1, 2))
    patches = patches[:, ::stride, ::stride].transpose(1, 2, 0, 3, 4)
    patches = patches.reshape(-1, 3 * size * size)
    d2 = ((patches ** 2).sum(1)[:, None] + (windows ** 2).sum(1)[None]
          - 2 * patches @ windows.T).min(axis=1)
    spread = ((patches - patches.mean(1, keepdims=True)) ** 2).sum(1)
    return float((1 - d2 / spread).mean())


lesson.section(f"3. texture synthesis: {STEPS_TEXTURE} Adam steps on the pixels")
backend.seed(lesson.seed)
net = RandomFeatures()
style_targets = targets_of(net, painting)
noise = backend.asarray(host.uniform(-1, 1, (1, 3, 64, 64)), dtype="float32")
texture, history = optimise(noise, style_only(net, style_targets), STEPS_TEXTURE)
final = style_value(net, style_targets, texture)
photo_style = style_value(net, style_targets, photo)
r2 = {name: best_window_r2(image, painting)
      for name, image in (("texture", texture), ("photo", photo))}
print(f"  L_style: noise {history[0]:.3g}, texture {final:.3g}, "
      f"photo {photo_style:.3g}")
print("  nearest painting window, mean R^2 of 16x16 patches: texture "
      f"{r2['texture']:.2f}, photo {r2['photo']:.2f} (a copy: 1)")
lesson.check_that("the style loss falls over 100x from the noise's",
                  final * 100 < history[0], f"{history[0] / final:.0f}x")
lesson.check_that("the texture is far nearer the painting's statistics than the photo "
                  "(L_style < a hundredth)", final * 100 < photo_style,
                  f"{final:.3g} vs {photo_style:.3g}")
lesson.check_that("the texture is no copy: its patches' mean R^2 against the nearest "
                  "painting window < 0.5", r2["texture"] < 0.5, f"{r2['texture']:.2f}")

fig, axes = plt.subplots(1, 4, figsize=(11, 3), gridspec_kw={"width_ratios": [1.5, 1, 1,
                                                                               1.4]})
show(axes[0], painting, "the painting (style), 96x75")
show(axes[1], noise, "the start: white noise")
show(axes[2], texture, f"after {STEPS_TEXTURE} steps")
axes[3].semilogy(history)
axes[3].set_xlabel("Adam step", fontsize=8)
axes[3].set_title("L_style of the pixels", fontsize=8)
axes[3].tick_params(labelsize=7)
lesson.savefig(fig, "texture.png")

# %% [markdown]
# ## 4. Style transfer: the photo's content, the painting's style
#
# Gatys et al. add a **content loss**: the distance from the image's features at one
# stage to the photo's $p$, here stage 3's (128 maps of 16x16, each position seeing a
# 9-pixel window: what is where, roughly, not which pixel is which),
#
# $$L_{content}(x) = \frac{\lVert F_3(x) - F_3(p) \rVert^2}{\lVert F_3(p) \rVert^2},
#   \qquad \frac{\partial L_{content}}{\partial F_3} =
#   \frac{2 (F_3(x) - F_3(p))}{\lVert F_3(p) \rVert^2},$$
#
# and minimise $L = L_{content} + \beta\, L_{style}$. Its gradient enters the same
# backward pass: $\partial L_{content} / \partial F_3$ is added to stage 3's own term
# (checked below by central differences, as in section 2). The start is the photo
# itself, and $\beta$ sets the trade-off. For each $\beta$ the printout gives both
# losses after the run. The checks:
#
# - a larger $\beta$ buys a smaller style loss at a larger content loss, for every
#   pair of neighbouring $\beta$s (a trade-off, measured, not assumed);
# - at the largest $\beta$ the style loss is under a hundredth of the photo's;
# - the result still holds the photo's layout: its content loss is under half that
#   of the texture of section 3, whose style loss is of the same small order but
#   whose layout owes the photo nothing.

# %%
def style_and_content(net, targets, content_target, beta):
    def loss_and_grad(x):
        features = net(x)
        style, grads = style_loss(features, targets)
        grads = [beta * g for g in grads]
        diff = features[CONTENT] - content_target
        scale = 1.0 / float((content_target * content_target).sum())
        grads[CONTENT] = grads[CONTENT] + 2 * scale * diff
        return (style, scale * float((diff * diff).sum())), net.backward(grads)
    return loss_and_grad


def content_value(net, content_target, x):
    with no_grad():
        diff = net(x)[CONTENT] - content_target
    return float((diff * diff).sum()) / float((content_target ** 2).sum())


lesson.section(f"4. style transfer: content + beta style, {STEPS_TRANSFER} steps each")
with no_grad():
    small_content = small_net(small_style)[CONTENT]
check_beta = 0.7
_, analytic = style_and_content(small_net, small_targets, small_content,
                                check_beta)(x_small)


def total(x):
    return (check_beta * style_value(small_net, small_targets, x)
            + content_value(small_net, small_content, x))


lesson.check("d(L_content + beta L_style)/dpixels vs central differences (rel err)",
             rel_error(analytic, numerical_gradient(lambda: total(x_small), x_small)),
             1e-7)
with no_grad():
    photo_content = net(photo)[CONTENT]
results = {}
for beta in BETAS:
    image, _ = optimise(photo, style_and_content(net, style_targets, photo_content,
                                                 beta), STEPS_TRANSFER)
    results[beta] = (image, style_value(net, style_targets, image),
                     content_value(net, photo_content, image))
    print(f"  beta {beta:<5g}: L_style {results[beta][1]:.3g}, "
          f"L_content {results[beta][2]:.3g}")
styles = [results[b][1] for b in BETAS]
contents = [results[b][2] for b in BETAS]
texture_content = content_value(net, photo_content, texture)
print(f"  the photo: L_style {photo_style:.3g}; section 3's texture: L_style "
      f"{final:.3g}, L_content {texture_content:.3g}")
lesson.check_that("a larger beta: a smaller style loss, a larger content loss (every "
                  "neighbouring pair)",
                  all(a > b for a, b in zip(styles, styles[1:]))
                  and all(a < b for a, b in zip(contents, contents[1:])),
                  f"{len(BETAS) - 1} pairs")
top = BETAS[-1]
lesson.check_that(f"beta {top:g}: L_style under a hundredth of the photo's",
                  results[top][1] * 100 < photo_style,
                  f"{results[top][1]:.3g} vs {photo_style:.3g}")
lesson.check_that(f"beta {top:g} keeps the photo's layout: L_content under half the "
                  "texture's", results[top][2] * 2 < texture_content,
                  f"{results[top][2]:.3g} vs {texture_content:.3g}")

fig = plt.figure(figsize=(2.0 * (len(BETAS) + 1) + 3.2, 2.6))
grid = fig.add_gridspec(1, len(BETAS) + 2, width_ratios=[1] * (len(BETAS) + 1) + [1.7])
show(fig.add_subplot(grid[0]), photo, "the photo (content)")
for i, beta in enumerate(BETAS):
    show(fig.add_subplot(grid[i + 1]), results[beta][0], f"beta = {beta:g}")
ax = fig.add_subplot(grid[-1])
ax.semilogy(contents, styles, "o-")
for beta, c, s in zip(BETAS, contents, styles):
    ax.annotate(f"{beta:g}", (c, s), fontsize=7)
ax.set_xlabel("L_content", fontsize=8)
ax.set_ylabel("L_style", fontsize=8)
ax.set_title("the trade-off, by beta", fontsize=8)
ax.tick_params(labelsize=7)
lesson.savefig(fig, "transfer.png")


# %% [markdown]
# ## 5. InstanceNorm: a style as each feature plane's mean and spread
#
# The Gram matrix is not the only way to say "style". Huang and Belongie ("Arbitrary
# Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017) keep
# just each feature plane's mean and standard deviation over the positions,
#
# $$\mu_c = \frac1M \sum_p F_{cp}, \qquad
#   \sigma_c = \sqrt{\frac1M \sum_p (F_{cp} - \mu_c)^2 + \epsilon},$$
#
# and Li, Wang, Liu and Hou ("Demystifying Neural Style Transfer", IJCAI 2017) find
# that matching these (the statistics BatchNorm computes) also transfers a style.
# The two are close relatives: the Gram's diagonal is
# $G_{cc} = \frac1M \sum_p F_{cp}^2 = \mu_c^2 + \sigma_c^2 - \epsilon$; the moments drop
# the products of DIFFERENT features, which the Gram keeps.
#
# **InstanceNorm** (Ulyanov, Vedaldi and Lempitsky 2016; minigan's `InstanceNorm2d`,
# lesson 04's BatchNorm with the sums over one $(n, c)$ plane) removes exactly these
# two moments: $\hat F_{cp} = (F_{cp} - \mu_c) / \sigma_c$ has every plane's mean 0
# and spread 1 (to $\epsilon$), whatever the style; what it keeps is the arrangement.
# AdaIN puts another picture's moments back, $\sigma_c(s) \hat F_c + \mu_c(s)$.
# CycleGAN's generators normalise with InstanceNorm too (`minigan.cyclegan_models`,
# as the authors' do): after every convolution each plane's mean and spread are
# dropped, and what sets the output's are the layers that follow, trained.
#
# **Its backward** (exercise 2), per plane, with $g = \partial L / \partial \hat F$
# and means over the plane's $M$ positions:
#
# $$\frac{\partial L}{\partial F_{cp}} = \frac{1}{\sigma_c}\Big(g_{cp} - \overline{g_c}
#   - \hat F_{cp}\, \overline{g_c \hat F_c}\Big).$$
#
# Its two subtracted terms are projections: per plane the gradient sums to 0 EXACTLY
# (moving all of a plane by a constant does not change $\hat F$), and it is
# orthogonal to $F_c - \mu_c$ up to $\epsilon$ (scaling a plane about its mean changes
# $\hat F$ only through the $\epsilon$ in $\sigma_c$: the inner product is
# $\frac{\epsilon}{\sigma_c^2} \sum_p g_{cp} \hat F_{cp}$). The checks: against
# minigan's `InstanceNorm2d.backward` (in the lesson's own run that is minigan against
# itself; it is there for YOUR function), against central differences (float64,
# $10^{-7}$), and the two projections (relative to the sizes involved, below
# $10^{-4}$: planes of variance 1 to 9, so $\epsilon / \sigma^2 \le 10^{-5}$).

# %%
def instance_norm_backward(x, grad_out, eps):
    """dL/dx of InstanceNorm2d without affine parameters at x, from dL/dy: minigan's
    backward. Shapes: x, grad_out (N, C, H, W)."""
    norm = InstanceNorm2d(x.shape[1], eps=eps)
    norm(x)
    return norm.backward(grad_out)


instance_norm_backward = lesson.exercises(instance_norm_backward)


def moments(F):
    """Each plane's mean and standard deviation (with eps): (N, C, H, W) -> two
    (N, C)."""
    mu = F.mean(axis=(2, 3))
    return mu, xp.sqrt(((F - mu[:, :, None, None]) ** 2).mean(axis=(2, 3)) + EPS)


def instance_norm(F):
    mu, sd = moments(F)
    return (F - mu[:, :, None, None]) / sd[:, :, None, None]


lesson.section("5. InstanceNorm: a style as each plane's mean and spread")
x_in = backend.asarray(host.standard_normal((2, 3, 4, 5))          # planes of
                       * host.uniform(1, 3, (2, 3, 1, 1))         # std 1 to 3
                       + host.uniform(-2, 2, (2, 3, 1, 1)))
g_in = backend.asarray(host.standard_normal((2, 3, 4, 5)))
dx_in = instance_norm_backward(x_in, g_in, EPS)
norm = InstanceNorm2d(3, eps=EPS)
norm(x_in)
lesson.check("instance_norm_backward vs minigan's InstanceNorm2d.backward (rel err)",
             rel_error(dx_in, norm.backward(g_in)), 1e-10)


def in_value():
    with no_grad():
        return float((g_in * InstanceNorm2d(3, eps=EPS)(x_in)).sum())


lesson.check("instance_norm_backward vs central differences (rel err)",
             rel_error(dx_in, numerical_gradient(in_value, x_in)), 1e-7)
centred = x_in - x_in.mean(axis=(2, 3), keepdims=True)
sums = float((abs(dx_in.sum(axis=(2, 3))) / abs(dx_in).sum(axis=(2, 3))).max())
cosine = float(abs((dx_in * centred).sum(axis=(2, 3))
                   / xp.sqrt((dx_in ** 2).sum(axis=(2, 3))
                             * (centred ** 2).sum(axis=(2, 3)))).max())
lesson.check("the gradient moves no plane's mean: |sum_p dx| / sum_p |dx|, worst plane",
             sums, 1e-12)
lesson.check("nor (to eps) its spread: |cos(dx, x - mu)|, worst plane", cosine, 1e-4)

# %% [markdown]
# **A style transfer with moments.** Replace the Gram matrices by the moments and the
# content by its InstanceNorm (Huang and Belongie's losses, here by optimising the
# pixels instead of training a network):
#
# $$L_{moments}(x) = \sum_{l=1}^{3} \frac{\lVert \mu_l(x) - \mu_l(s) \rVert^2 +
#   \lVert \sigma_l(x) - \sigma_l(s) \rVert^2}{\lVert \mu_l(s) \rVert^2 +
#   \lVert \sigma_l(s) \rVert^2}, \qquad
#   L_{IN}(x) = \frac{\lVert \hat F_3(x) - \hat F_3(p) \rVert^2}
#   {\lVert \hat F_3(p) \rVert^2},$$
#
# minimised as $L_{IN} + \beta L_{moments}$ with $\beta$ = 10 from the photo. With
# $\partial \mu_c / \partial F_{cp} = 1/M$ and
# $\partial \sigma_c / \partial F_{cp} = (F_{cp} - \mu_c) / (M \sigma_c)$ the moments'
# gradient is two broadcasts; the content's goes through `instance_norm_backward`,
# then the convolutions' backward. The content loss no longer cares about stage 3's
# moments at all: what it asks for there (the arrangement) and what the style loss
# asks for (the moments) are separate. The checks: the whole gradient against central
# differences (float64, the small net of section 2); after the run, the moment loss
# below a tenth of the photo's, the Gram style loss of section 3, which this run
# never looks at, below a tenth of the photo's, and the InstanceNorm content loss
# below half the texture's (the layout kept).

# %%
def moment_loss(features, targets):
    """L_moments and its gradient dL/dF_l for each stage; targets: moments(F_l(s))."""
    loss, grads = 0.0, []
    for F, (mu_t, sd_t) in zip(features, targets):
        mu, sd = moments(F)
        scale = 1.0 / float((mu_t ** 2).sum() + (sd_t ** 2).sum())
        loss += scale * float(((mu - mu_t) ** 2).sum() + ((sd - sd_t) ** 2).sum())
        m = F.shape[2] * F.shape[3]
        d_mu = (2 * scale / m) * (mu - mu_t)
        d_sd = (2 * scale / m) * (sd - sd_t) / sd
        grads.append(d_mu[:, :, None, None]
                     + d_sd[:, :, None, None] * (F - mu[:, :, None, None]))
    return loss, grads


def moments_and_in_content(net, targets, content_hat, beta):
    def loss_and_grad(x):
        features = net(x)
        loss, grads = moment_loss(features, targets)
        grads = [beta * g for g in grads]
        diff = instance_norm(features[CONTENT]) - content_hat
        scale = 1.0 / float((content_hat * content_hat).sum())
        grads[CONTENT] = grads[CONTENT] + instance_norm_backward(
            features[CONTENT], 2 * scale * diff, EPS)
        return (loss, scale * float((diff * diff).sum())), net.backward(grads)
    return loss_and_grad


def moment_targets(net, image):
    with no_grad():
        return [moments(F) for F in net(image)]


def in_content_value(net, content_hat, x):
    with no_grad():
        diff = instance_norm(net(x)[CONTENT]) - content_hat
    return float((diff * diff).sum()) / float((content_hat * content_hat).sum())


def moments_value(net, targets, x):
    with no_grad():
        return moment_loss(net(x), targets)[0]


small_moments = moment_targets(small_net, small_style)
with no_grad():
    small_hat = instance_norm(small_net(small_style)[CONTENT])
_, analytic = moments_and_in_content(small_net, small_moments, small_hat,
                                     check_beta)(x_small)


def adain_total(x):
    return (check_beta * moments_value(small_net, small_moments, x)
            + in_content_value(small_net, small_hat, x))


lesson.check("d(L_IN + beta L_moments)/dpixels through instance_norm_backward vs "
             "central differences (rel err)",
             rel_error(analytic, numerical_gradient(lambda: adain_total(x_small),
                                                    x_small)), 1e-7)
painting_moments = moment_targets(net, painting)
with no_grad():
    photo_hat = instance_norm(net(photo)[CONTENT])
adain, _ = optimise(photo, moments_and_in_content(net, painting_moments, photo_hat,
                                                  BETA_MOMENTS), STEPS_TRANSFER)
before = moments_value(net, painting_moments, photo)
after = moments_value(net, painting_moments, adain)
adain_style = style_value(net, style_targets, adain)
adain_content = in_content_value(net, photo_hat, adain)
texture_in_content = in_content_value(net, photo_hat, texture)
print(f"  L_moments: photo {before:.3g}, result {after:.3g}; L_style (Gram): photo "
      f"{photo_style:.3g}, result {adain_style:.3g}; L_IN: result {adain_content:.3g},"
      f" texture {texture_in_content:.3g}")
lesson.check_that("the moment loss falls below a tenth of the photo's",
                  after * 10 < before, f"{after:.3g} vs {before:.3g}")
lesson.check_that("the Gram style loss, never optimised here, below a tenth of the "
                  "photo's", adain_style * 10 < photo_style,
                  f"{adain_style:.3g} vs {photo_style:.3g}")
lesson.check_that("the layout kept: L_IN under half the texture's",
                  adain_content * 2 < texture_in_content,
                  f"{adain_content:.3g} vs {texture_in_content:.3g}")

fig, axes = plt.subplots(1, 4, figsize=(10.5, 2.8))
show(axes[0], photo, "the photo")
show(axes[1], adain, f"moments + IN content, beta {BETA_MOMENTS:g}")
show(axes[2], results[top][0], f"Gram + content, beta {top:g}")
sd_target = H(painting_moments[1][1])[0]
with no_grad():
    for name, image in (("photo", photo), ("moments result", adain)):
        axes[3].loglog(sd_target, H(moments(net(image)[1])[1])[0], ".", label=name)
lim = [float(sd_target.min()) / 2, float(sd_target.max()) * 2]
axes[3].plot(lim, lim, "k:", lw=1)
axes[3].set_xlabel("the painting's sigma_c (stage 2)", fontsize=8)
axes[3].set_ylabel("the image's sigma_c", fontsize=8)
axes[3].legend(fontsize=7)
axes[3].tick_params(labelsize=7)
lesson.savefig(fig, "moments.png")

# %% [markdown]
# ## 6. One picture's style, or a collection's
#
# Everything above fits ONE picture's statistics. How closely? The painting's four
# quarters (37x48 each; the middle row is left out) are pictures of the same style by
# any reckoning, yet each shows something else: sky, moon, cypress, village. The
# lesson measures each quarter's $L_{style}$ against the whole painting and sets them
# beside the photo's and section 3's texture's. Two checks:
#
# - the quarters are far from alike: the farthest from the whole scores over 3 times
#   the nearest. The Gram matrices of one painting depend on what each part shows
#   (the printout puts the photo's beside them: with some draws of the random
#   filters, `--seed 1` for one, the dark cypress quarter is even farther from the
#   whole than the photo is);
# - the texture is nearer the whole painting's statistics than ANY of its quarters:
#   the optimisation fits this one picture more closely than the painting's own parts
#   agree with each other. Its target mixes the style with what the picture happens
#   to show (how much sky, where the moon is), and it fits both.
#
# A style as people mean it, "van Gogh", is a distribution over pictures, and one
# painting is a single draw from it. CycleGAN (Zhu, Park, Isola and Efros,
# "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
# Networks", ICCV 2017; `minigan.cyclegan`) learns it from a collection, which its
# authors call **collection style transfer** and set against Gatys et al.'s
# transfer of one chosen painting: its discriminator sees hundreds of an artist's
# paintings and learns what they share, its generator is pushed toward pictures
# that could belong among them (not toward one picture's Gram matrices), and the
# cycle loss (photo -> painting -> photo) plays the part of the content loss.
# (Huang, Liu, Belongie and Kautz, "Multimodal Unsupervised Image-to-Image
# Translation", ECCV 2018, name the two problems example-guided and collection
# style transfer.) Two costs come with it: the collection (hundreds of paintings in
# the authors' experiments, where Gatys needs one) and a training run. In return a
# trained generator styles a new photo with one forward pass, where this lesson's
# optimisation spends hundreds of forward and backward passes on every picture
# (Johnson, Alahi and Fei-Fei, "Perceptual Losses for Real-Time Style Transfer and
# Super-Resolution", ECCV 2016, made that trade for a single style).

# %%
lesson.section("6. one picture's style, or a collection's")
quarters = {"top left": painting[:, :, :37, :48], "top right": painting[:, :, :37, 48:],
            "bottom left": painting[:, :, 38:, :48],
            "bottom right": painting[:, :, 38:, 48:]}
quarter_style = {name: style_value(net, style_targets, q)
                 for name, q in quarters.items()}
print("  L_style against the whole painting: " + ", ".join(
    f"{name} quarter {v:.3g}" for name, v in quarter_style.items())
    + f"; photo {photo_style:.3g}; texture {final:.3g}")
nearest_quarter = min(quarter_style.values())
farthest_quarter = max(quarter_style.values())
lesson.check_that("the quarters are far from alike: farthest / nearest > 3",
                  farthest_quarter > 3 * nearest_quarter,
                  f"{farthest_quarter:.3g} / {nearest_quarter:.3g} = "
                  f"{farthest_quarter / nearest_quarter:.1f}")
lesson.check_that("the texture is nearer the whole painting than any of its quarters",
                  final < nearest_quarter, f"{final:.3g} < {nearest_quarter:.3g}")

fig, axes = plt.subplots(1, 6, figsize=(12, 2.4))
show(axes[0], painting, "the whole painting")
for ax, (name, q) in zip(axes[1:5], quarters.items()):
    show(ax, q, f"{name}: L_style {quarter_style[name]:.3g}")
show(axes[5], texture, f"texture: L_style {final:.3g}")
lesson.savefig(fig, "one_picture.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. $\partial L / \partial F = \frac1M (\bar G + \bar G^\top) F$. Writing
#    $\frac2M \bar G F$ instead passes every check after section 1's. Why, and why
#    does section 1 use a random, non-symmetric $\bar G$?
# 2. Shuffling the positions leaves a Gram matrix unchanged. Why then is the
#    synthesized texture not a random shuffle of the painting's pixels? What does the
#    loss constrain, and over what distance?
# 3. InstanceNorm's gradient sums to exactly 0 over each plane, but is orthogonal to
#    $F_c - \mu_c$ only up to $\epsilon$. Why each, and which near-miss backward would
#    each of the two checks catch?
# 4. The texture fits the whole painting's Gram matrices more closely than the
#    painting's own quarters do. Why is that a weakness of one-picture style transfer,
#    and what does CycleGAN's discriminator compare a generated picture with instead?
#
# Short answers: `lessons/ANSWERS.md`.
