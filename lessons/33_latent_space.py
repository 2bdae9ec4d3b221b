# %% [markdown]
# # Lesson 33 — the latent space: lerp or slerp, label arithmetic, truncation
#
# A generator maps a point $z$ of its latent space to an image. Walking that space is
# how GAN papers show off (interpolation grids, "smiling woman - woman + man"), and
# how they trade variety for quality (BigGAN's truncation trick). Each of those moves
# rests on a fact about where $z$ lives, and this lesson measures them:
#
# 1. the norm of $z \sim N(0, I_d)$ concentrates on a thin shell of radius about
#    $\sqrt d$; the midpoint of a straight line (lerp) between two draws falls far
#    inside it, a great-circle path (slerp, White 2016, "Sampling generative
#    networks") stays on it;
# 2. interpolation grids and a GIF from a small conditional GAN on the digits, lerp
#    against slerp at the midpoints;
# 3. arithmetic on the conditional model: keep $z$, change the label part of G's
#    input: the digit changes, the style stays;
# 4. the truncation trick (Brock et al. 2019, "Large scale GAN training for high
#    fidelity natural image synthesis"): draw $z$ from a truncated normal and
#    precision rises while recall falls.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import math

import numpy as np

from minigan import backend
from minigan.data import load_digits
from minigan.layers import Dense, LeakyReLU, Sequential, Tanh
from minigan.losses import bce_with_logits
from minigan.metrics import train_classifier
from minigan.metrics.images import precision_recall_knn
from minigan.optim import Adam

lesson = Lesson("33_latent_space")
xp = lesson.xp
H = backend.to_numpy
rng = np.random.default_rng(lesson.seed)
Z, K, PIXELS, BATCH = 32, 10, 64, 64
STEPS = 3000 if lesson.quick else 10000     # conditional GAN training steps
QUIET = dict(log=lambda line: None)        # train_classifier's progress lines

# %% [markdown]
# ## 1. Gaussian noise lives on a shell, and a straight line leaves it
#
# $\lVert z \rVert$ for $z \sim N(0, I_d)$ follows the chi distribution with $d$
# degrees of freedom: mean $\mu_d = \sqrt 2\, \Gamma(\frac{d+1}{2}) /
# \Gamma(\frac d2) \approx \sqrt{d - 1/2}$ and variance $d - \mu_d^2 \to 1/2$.
# The radius grows like $\sqrt d$ but the shell's thickness does not grow at all:
# in $d = 512$ the norms lie in $22.6 \pm 0.7$, and the density's peak at $z = 0$
# is a place no sample ever visits.
#
# Between two independent draws $z_0, z_1$ the straight line's midpoint
# $(z_0 + z_1)/2$ is $N(0, \frac12 I)$: its norm is about $\sqrt{d/2}$, about
# $0.71\sqrt d$ — for large $d$ many shell thicknesses inside the shell. Spherical
# interpolation walks the great circle instead:
#
# $$\mathrm{slerp}(z_0, z_1; t) = \frac{\sin((1-t)\Omega)}{\sin \Omega} z_0 +
#   \frac{\sin(t\Omega)}{\sin \Omega} z_1, \quad
#   \cos\Omega = \frac{z_0 \cdot z_1}{\lVert z_0 \rVert \lVert z_1 \rVert}.$$
#
# For two nearly orthogonal vectors of nearly equal norm (what two draws in high $d$
# are), every point of that path has about the same norm as the ends. The checks
# compare the measured norms with the chi distribution's mean and standard deviation,
# and measure both midpoints in units of the shell's thickness.

# %%
lesson.section("1. the norm of Gaussian z: a thin shell")


def chi_mean_std(d):
    """Mean and standard deviation of the norm of z ~ N(0, I_d)."""
    mean = math.sqrt(2) * math.exp(math.lgamma((d + 1) / 2) - math.lgamma(d / 2))
    return mean, math.sqrt(d - mean ** 2)


def lerp(z0, z1, t):
    return (1 - t) * z0 + t * z1


def slerp(z0, z1, t):
    """Spherical interpolation, row by row: z0, z1 (N, d), t a number in [0, 1]."""
    cos = (z0 * z1).sum(-1, keepdims=True) / (
        np.linalg.norm(z0, axis=-1, keepdims=True)
        * np.linalg.norm(z1, axis=-1, keepdims=True))
    omega = np.arccos(np.clip(cos, -1, 1))
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


DIMS = [2, 8, 32, 128, 512]
N_NORM = 2000 if lesson.quick else 20000
worst_mean = worst_std = 0.0
shell = {}
for d in DIMS:
    z0, z1 = rng.standard_normal((2, N_NORM, d))
    norms = np.linalg.norm(z0, axis=1)
    mean, std = chi_mean_std(d)
    se_mean, se_std = std / math.sqrt(N_NORM), std / math.sqrt(2 * N_NORM)
    worst_mean = max(worst_mean, abs(norms.mean() - mean) / se_mean)
    worst_std = max(worst_std, abs(norms.std(ddof=1) - std) / se_std)
    mid_lerp = np.linalg.norm(lerp(z0, z1, 0.5), axis=1)
    mid_slerp = np.linalg.norm(slerp(z0, z1, 0.5), axis=1)
    # where the midpoints sit, in shell thicknesses (std) from the shell's radius
    shell[d] = ((mid_lerp.mean() - mean) / std, (mid_slerp.mean() - mean) / std)
    print(f"  d = {d:3d}: |z| {norms.mean():6.2f} ± {norms.std():.3f} (chi: "
          f"{mean:6.2f} ± {std:.3f}); midpoint |lerp| {mid_lerp.mean():6.2f}, "
          f"|slerp| {mid_slerp.mean():6.2f}")
lesson.check("mean norm against the chi distribution's mean, worst of the d "
             "(standard errors)", worst_mean, 4)
lesson.check("std of the norm against the chi distribution's std, worst of the d "
             "(standard errors)", worst_std, 4)
lesson.check("the shell's thickness in d = 512 against 1/sqrt(2) (abs. error)",
             abs(chi_mean_std(512)[1] - 1 / math.sqrt(2)), 1e-3)
lerp_out, slerp_out = shell[512]
lesson.check_that("d = 512: the lerp midpoint lies > 5 shell thicknesses inside "
                  "the shell, the slerp midpoint < 0.5 from it",
                  lerp_out < -5 and abs(slerp_out) < 0.5,
                  f"{lerp_out:.1f} vs {slerp_out:+.2f} thicknesses")

ts = np.linspace(0, 1, 21)
z0, z1 = rng.standard_normal((2, 200, Z))
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
axes[0].hist([np.linalg.norm(rng.standard_normal((5000, d)), axis=1) / math.sqrt(d)
              for d in DIMS], bins=60, histtype="step", density=True,
             label=[f"d = {d}" for d in DIMS])
axes[0].set_xlabel("|z| / sqrt(d)")
axes[0].set_title("the norm of N(0, I_d) concentrates", fontsize=9)
axes[0].legend(fontsize=8)
for name, f in (("lerp", lerp), ("slerp", slerp)):
    path = np.array([np.linalg.norm(f(z0, z1, t), axis=1).mean() for t in ts])
    axes[1].plot(ts, path, label=name)
axes[1].axhline(chi_mean_std(Z)[0], color="gray", lw=0.8, ls="--",
                label="chi mean")
axes[1].set_xlabel("t along the path")
axes[1].set_ylabel(f"mean |z|, d = {Z}")
axes[1].set_title("lerp dips inside the shell, slerp stays on it", fontsize=9)
axes[1].legend(fontsize=8)
lesson.savefig(fig, "norm_shell.png")

# %% [markdown]
# ## 2. A small conditional GAN, and walks through its latent space
#
# Lesson 17's recipe, smaller: an MLP G gets $[z, \text{one-hot}(y)]$ with $d = 32$,
# an MLP D gets $[x, \text{one-hot}(y)]$, both trained with the non-saturating loss
# for a few thousand steps on 1,497 of the 1,797 digits; the other 300 are held out
# for section 4. The conditional model lets section 3 take $z$ and the label apart.
#
# A grid walks from $z_0$ to $z_1$ (rows: pairs of draws, one label per row) by lerp
# and by slerp; a GIF walks a loop of slerps through several draws. What does the
# midpoint's smaller norm do to the image? A network with LeakyReLU is nearly
# positively homogeneous in its first layer's input: a shorter $z$ is something
# like a weaker signal against the label and the biases, which pull toward the
# label's average digit. The lesson measures, at the midpoints, the norm of the
# image's deviation from its label's mean image ("how far from the average digit"),
# D's logit and the classifier's confidence in the label, paired over the same
# $(z_0, z_1, y)$. The first is checked: the lerp midpoints are blander, nearer the
# average digit (and the classifier, fond of average digits, is MORE sure of them;
# blander is not worse by every measure). The slerp midpoints look like the ends.
# D's logit moves by a few standard errors in either direction from seed to seed:
# printed, not resolved, not checked.

# %%
lesson.section(f"2. a conditional GAN on the digits ({STEPS} steps), lerp vs slerp")
images, labels = load_digits()
order = np.random.default_rng(lesson.seed + 1).permutation(len(images))
held, train = order[:300], order[300:]
flat = backend.asarray(images[train].reshape(-1, PIXELS))
train_labels = labels[train]


def one_hot(y):
    out = np.zeros((len(y), K))
    out[np.arange(len(y)), y] = 1
    return backend.asarray(out, dtype=backend.default_dtype())


def make_pair(width=128):
    G = Sequential(Dense(Z + K, width), LeakyReLU(0.2), Dense(width, width),
                   LeakyReLU(0.2), Dense(width, PIXELS), Tanh())
    D = Sequential(Dense(PIXELS + K, width), LeakyReLU(0.2), Dense(width, width),
                   LeakyReLU(0.2), Dense(width, 1))
    return G, D


def generate(z, y):
    """G's images (N, 64) as NumPy for noise z (N, Z) NumPy and labels y (N,)."""
    zz = backend.asarray(z, dtype=backend.default_dtype())
    return H(G(xp.concatenate([zz, one_hot(y)], axis=1)))


def d_logit(x, y):
    xx = backend.asarray(x, dtype=backend.default_dtype())
    return H(D(xp.concatenate([xx, one_hot(y)], axis=1)))[:, 0]


backend.seed(lesson.seed)
G, D = make_pair()
g_opt, d_opt = Adam(G, lr=5e-4), Adam(D, lr=5e-4)
for step in range(STEPS):
    idx = rng.choice(len(train), BATCH, replace=False)
    x, y = flat[backend.asarray(idx)], one_hot(train_labels[idx])
    c = one_hot(rng.integers(0, K, BATCH))
    z = backend.asarray(rng.standard_normal((BATCH, Z)), dtype=backend.default_dtype())
    D.zero_grad()
    _, grad = bce_with_logits(D(xp.concatenate([x, y], axis=1)), 1.0)
    D.backward(grad, input_grad=False)
    fake = G(xp.concatenate([z, c], axis=1))
    _, grad = bce_with_logits(D(xp.concatenate([fake, c], axis=1)), 0.0)
    D.backward(grad, input_grad=False)
    d_opt.step()
    G.zero_grad()
    _, grad = bce_with_logits(D(xp.concatenate([fake, c], axis=1)), 1.0)
    G.backward(D.backward(grad, param_grads=False)[:, :PIXELS], input_grad=False)
    g_opt.step()
G.eval()
D.eval()

classifier, accuracy = train_classifier(images[train], labels[train], epochs=8,
                                        width=8, seed=lesson.seed, **QUIET)
print(f"  the reading classifier: held-out accuracy {accuracy:.1%}")

N_PAIRS = 300 if lesson.quick else 1000
label_mean = np.stack([images[train][train_labels == k].reshape(-1, PIXELS).mean(0)
                       for k in range(K)])
z0, z1 = rng.standard_normal((2, N_PAIRS, Z))
y = rng.integers(0, K, N_PAIRS)
ends = np.concatenate([generate(z0, y), generate(z1, y)])
y2 = np.concatenate([y, y])
mids = {name: generate(f(z0, z1, 0.5), y) for name, f in (("lerp", lerp),
                                                          ("slerp", slerp))}


def spread(x, y):
    """Per image: the norm of its deviation from its label's mean real image."""
    return np.linalg.norm(x - label_mean[y], axis=1)


stats = {}
for name, x in (("ends", ends), *mids.items()):
    yy = y2 if name == "ends" else y
    conf = classifier.predict_proba(x.reshape(-1, 1, 8, 8))[np.arange(len(yy)), yy]
    stats[name] = (spread(x, yy), d_logit(x, yy), conf)
    print(f"  {name:5s}: distance from the label's mean digit "
          f"{stats[name][0].mean():.3f}, D's logit {stats[name][1].mean():+.3f}, "
          f"classifier's p(label) {stats[name][2].mean():.3f}")
diff = stats["slerp"][0] - stats["lerp"][0]   # paired: same z0, z1, y
z_spread = diff.mean() / (diff.std(ddof=1) / math.sqrt(N_PAIRS))
diff_d = stats["slerp"][1] - stats["lerp"][1]
z_logit = diff_d.mean() / (diff_d.std(ddof=1) / math.sqrt(N_PAIRS))
print(f"  slerp - lerp midpoint, paired over {N_PAIRS} pairs: distance from the mean "
      f"digit {diff.mean():+.3f} ({z_spread:+.1f} SE), D's logit "
      f"{diff_d.mean():+.3f} ({z_logit:+.1f} SE)")
lesson.check_that("the lerp midpoints sit closer to their label's average digit "
                  "than the slerp midpoints (paired, > 3 SE)", z_spread > 3,
                  f"{diff.mean():+.3f}, {z_spread:+.1f} SE")

# %%
STEPS_T = 9
fig, axes = plt.subplots(8, STEPS_T, figsize=(STEPS_T * 0.8, 8 * 0.85))
tt = np.linspace(0, 1, STEPS_T)
for r in range(4):
    for k, (name, f) in enumerate((("lerp", lerp), ("slerp", slerp))):
        row = 2 * r + k
        path = np.concatenate([f(z0[r:r + 1], z1[r:r + 1], t) for t in tt])
        pics = generate(path, np.full(STEPS_T, y[r]))
        for j in range(STEPS_T):
            axes[row, j].imshow(pics[j].reshape(8, 8), cmap="gray", vmin=-1, vmax=1)
            axes[row, j].set_axis_off()
        axes[row, 0].set_title(f"{name}, digit {y[r]}", fontsize=7, loc="left")
lesson.savefig(fig, "interpolation_grid.png")

# A GIF: a closed loop of slerps through 4 draws, 10 digits side by side.
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402

loop = rng.standard_normal((4, Z))
frames = np.concatenate([slerp(loop[i:i + 1], loop[(i + 1) % 4:(i + 1) % 4 + 1], t)
                         for i in range(4) for t in np.linspace(0, 1, 8,
                                                                endpoint=False)])
fig, axes = plt.subplots(1, K, figsize=(K * 0.7, 0.9))
shown = [ax.imshow(np.zeros((8, 8)), cmap="gray", vmin=-1, vmax=1) for ax in axes]
for ax in axes:
    ax.set_axis_off()


def draw(i):
    pics = generate(np.repeat(frames[i:i + 1], K, axis=0), np.arange(K))
    for im, pic in zip(shown, pics):
        im.set_data(pic.reshape(8, 8))
    return shown


gif = lesson.path("slerp_loop.gif")
FuncAnimation(fig, draw, frames=len(frames)).save(gif, writer=PillowWriter(fps=8))
draw(0)
lesson.savefig(fig, "slerp_loop_first_frame.png")

# %% [markdown]
# ## 3. Arithmetic on the conditional model: the label is a direction too
#
# G's input is $[z, e_y]$, so "the same digit style, another digit" is one
# subtraction and one addition: $[z, e_a] - e_a + e_b$. If training has split the
# work as intended, the label part says which digit, and $z$ says everything else:
# slant, width, stroke thickness. Two measurements:
#
# - **the label is obeyed**: with the same $z$ under each of the 10 labels, the share
#   of images the classifier reads as the label asked;
# - **the style follows $z$**: the ink of an image (the mean of its pixels, a
#   stand-in for stroke thickness) is compared between two images of the same $z$
#   under different labels and two images of different $z$ under the same label. If
#   $z$ carries the style, the first pair differs less.

# %%
lesson.section("3. the same z under every label")
N_STYLE = 200 if lesson.quick else 1000
zs = rng.standard_normal((N_STYLE, Z))
grid = np.stack([generate(zs, np.full(N_STYLE, k)) for k in range(K)], axis=1)
read = classifier.predict_proba(grid.reshape(-1, 1, 8, 8)).argmax(1)
obeyed = float((read.reshape(N_STYLE, K) == np.arange(K)).mean())
ink = grid.mean(axis=2)                                 # (N_STYLE, K)
a, b = rng.integers(0, K, (2, 4 * N_STYLE))
b = (a + 1 + b % (K - 1)) % K                           # a label other than a
i, j = rng.integers(0, N_STYLE, (2, 4 * N_STYLE))
j = (i + 1 + j % (N_STYLE - 1)) % N_STYLE               # a z other than i's
# remove each label's own average ink: a 1 has less ink than an 8 whatever the style
centred = ink - ink.mean(axis=0)
same_z = np.abs(centred[i, a] - centred[i, b]).mean()
same_label = np.abs(centred[i, a] - centred[j, a]).mean()
corr = np.corrcoef(centred[:, :K // 2].ravel(), centred[:, K // 2:].ravel())[0, 1]
print(f"  read as the label asked: {obeyed:.1%}")
print(f"  mean |ink difference|: same z, two labels {same_z:.3f}; two z, one label "
      f"{same_label:.3f}")
print(f"  correlation of a z's ink (label average removed) between labels 0-4 "
      f"and 5-9: {corr:+.2f}")
lesson.check_that("changing only the label changes the digit read (> 60 % as asked, "
                  "chance 10 %)", obeyed > 0.6, f"{obeyed:.1%}")
lesson.check_that("z carries the style: ink differs less across labels (same z) "
                  "than across z (same label)", same_z < same_label,
                  f"{same_z:.3f} < {same_label:.3f}")

fig, axes = plt.subplots(6, K, figsize=(K * 0.7, 6 * 0.75))
for r in range(6):
    for k in range(K):
        axes[r, k].imshow(grid[r, k].reshape(8, 8), cmap="gray", vmin=-1, vmax=1)
        axes[r, k].set_axis_off()
fig.suptitle("row: one z; column: the label asked", fontsize=9)
lesson.savefig(fig, "same_z_every_label.png")

# %% [markdown]
# ## 4. The truncation trick: precision for recall
#
# Sampling $z$ from a normal truncated at $t$ (every coordinate with $|z_i| > t$
# drawn again until it falls inside) keeps G away from the rarely-trained outskirts
# of its latent space. BigGAN showed that this buys image quality at the price of
# variety, and that the trade is a dial. In k-NN precision and recall (lesson 15),
# in the features of a small classifier, against the 300 held-out digits: as $t$
# shrinks, precision should rise and recall fall. $t = \infty$ is the plain normal.
# The checks compare $t = 1$ with $t = \infty$ (seeds 0 to 2 agree, by wide margins).
# Below $t = 1$ recall collapses to nearly 0 while precision saturates: near $z = 0$
# G draws about one image per label, and whether precision still rises there is
# within the noise of 300 samples (not checked).

# %%
lesson.section("4. the truncation trick: precision and recall against t")


def truncated_normal(shape, t, rng):
    """N(0, 1) draws, each redrawn until |z| <= t."""
    z = rng.standard_normal(shape)
    while True:
        out = np.abs(z) > t
        if not out.any():
            return z
        z[out] = rng.standard_normal(int(out.sum()))


TRUNC = [np.inf, 2.0, 1.0, 0.5, 0.25]
N_FAKE = 300
real_feats = classifier.features(images[held])
trade = []
for t in TRUNC:
    pr = []
    for rep in range(3 if lesson.quick else 10):
        zt = truncated_normal((N_FAKE, Z), t, rng)
        fake = generate(zt, rng.integers(0, K, N_FAKE)).reshape(-1, 1, 8, 8)
        pr.append(precision_recall_knn(real_feats, classifier.features(fake)))
    trade.append(np.mean(pr, axis=0))
    print(f"  t = {t:4}: precision {trade[-1][0]:.3f}, recall {trade[-1][1]:.3f}")
trade = np.array(trade)
at = TRUNC.index(1.0)
lesson.check_that("truncating at t = 1 raises precision over t = infinity",
                  trade[at, 0] > trade[0, 0], f"{trade[at, 0]:.3f} > {trade[0, 0]:.3f}")
lesson.check_that("truncating at t = 1 lowers recall below t = infinity",
                  trade[at, 1] < trade[0, 1], f"{trade[at, 1]:.3f} < {trade[0, 1]:.3f}")

fig, ax = plt.subplots(figsize=(4.5, 3.6))
ax.plot(trade[:, 1], trade[:, 0], "o-")
for t, (p, r) in zip(TRUNC, trade):
    ax.annotate(f"t = {t}", (r, p), fontsize=8, xytext=(4, 4),
                textcoords="offset points")
ax.set_xlabel("recall")
ax.set_ylabel("precision")
ax.set_title("truncation trades recall for precision", fontsize=9)
lesson.savefig(fig, "truncation_trade.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. In $d = 512$ the lerp midpoint of two draws has norm about 16 while every draw
#    has norm about 22.6 ± 0.7. Why is this a problem for G even though the
#    midpoint is where the Gaussian's density is HIGHER than on the shell?
# 2. Slerp keeps the norm, but is the slerp midpoint distributed like a fresh draw
#    $z \sim N(0, I)$? What about $(z_0 + z_1)/\sqrt 2$?
# 3. Section 3 changes the label with $z$ fixed. In an unconditional GAN, how would
#    you find a direction in $z$ that changes only the stroke thickness?
# 4. Truncation at $t \to 0$ gives one image per label. What do precision and recall
#    tend to there, and why does FID usually get worse well before that?
#
# Short answers: `lessons/ANSWERS.md`.
