# %% [markdown]
# # Lesson 15 — evaluating a GAN honestly: each figure beside the same for real data
#
# "The samples look good" is not a measurement. A GAN is judged with a **classifier**
# trained on the real data (here built from minigan's own layers and trained with its
# own Adam): its predictions and its penultimate features turn images into numbers.
#
# And every number is printed **beside** the same number for real images the generator
# never saw: the last 30 % of the digits (539 of 1,797) are held out of G's training,
# exactly as `minigan train --holdout 0.3` does (`minigan.datasource.split_holdout`),
# and G trains on the other 1,258 only. Without that column nobody knows whether a
# Fréchet distance of 3 is good or bad.
#
# ## The judge: a small CNN classifier
#
# `minigan.metrics.make_classifier` maps images $(N, 1, 8, 8)$ to logits $(N, 10)$.
# Two things come out of it:
#
# - $p(y \mid x) = \mathrm{softmax}(\text{logits})$, shape $(N, 10)$: its predicted
#   class distribution;
# - $f(x)$, the penultimate activations, shape $(N, F)$: a feature vector that "knows"
#   what digits look like.
#
# `train_classifier` trains it on the real digits and reports its accuracy on digits it
# did not train on.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import numpy as np

from minigan import backend, options
from minigan.data import load_digits
from minigan.metrics import (evaluate_images, format_table, nearest_distance,
                             train_classifier)
from minigan.metrics.images import FIGURES
from minigan.models import build
from minigan.datasource import split_holdout
from minigan.train import GAN
from minigan.viz import image_grid

lesson = Lesson("15_evaluating_gans")

# %%
lesson.section("1. the judge: a small CNN classifier trained on the real digits")
images, labels = load_digits()
classifier, accuracy = train_classifier(images, labels,
                                        epochs=5 if lesson.quick else 25,
                                        seed=lesson.seed)
lesson.check_that("the classifier knows digits: held-out accuracy above 90 %",
                  accuracy > 0.9, f"{100 * accuracy:.1f} %")

# %% [markdown]
# ## The real data: a reference set and a held-out set
#
# G's 1,258 training images are also the **reference** that every figure is measured
# against (as `minigan evaluate` does for a run trained with `--holdout`). The 539
# held-out images are the "real" column: what real digits that G never saw score. The
# check below makes sure they are the last 30 % and that none of them is also a
# training image.

# %%
lesson.section("2. the real data: G's training images (the reference), "
               "and 30 % held out of G's training")
# what `minigan train --holdout 0.3` uses
config = options.validate(options.make_config({"holdout": 0.3}))
# the last round(0.3 N) held out
(train_images, _), (held_out, _) = split_holdout(config, images, labels)
reference = train_images
n = len(held_out)
print(f"  {len(train_images)} training images (G's data and the reference), "
      f"{n} held out (never shown to G)")
# the distance from each held-out image to its nearest training image; the smallest
closest = min(nearest_distance(held_out[i:i + 1], train_images) for i in range(n))
lesson.check_that("the held-out images are the last 30 %, and none of them is in G's "
                  "training set",
                  n == round(0.3 * len(images))
                  and bool((held_out == images[-n:]).all())
                  and len(train_images) + n == len(images) and closest > 0,
                  f"{len(train_images)} + {n} = {len(images)}; the closest "
                  f"held-out/training pair is {closest:.2f} apart")

# %% [markdown]
# ## The figures
#
# `minigan.metrics.evaluate_images` computes each figure for G's samples AND for the
# real held-out images, always against the same reference set:
#
# - **Classes covered**: the classes that receive at least 1 % of the argmax predictions
#   (10 is perfect).
# - **KL to uniform**: with $h$ the histogram of predicted classes ($h_k$ the share of
#   samples predicted $k$, and $0 \log 0 = 0$),
#
#   $$\mathrm{KL}(h \,\|\, \text{uniform}) = \sum_k h_k \log(10\, h_k),$$
#
#   $0$ for perfectly balanced classes, $\log 10 = 2.30$ if every sample is one class.
# - **Classifier score** (the "Inception score", with this classifier):
#
#   $$\mathrm{CS} = \exp\Big(\mathbb{E}_x\, \mathrm{KL}\big(p(y \mid x) \,\|\, p(y)\big)
#     \Big), \qquad p(y) = \mathbb{E}_x\, p(y \mid x),$$
#
#   high when each sample is confidently ONE class and all classes appear: from 1 to 10.
# - **Fréchet distance** (Heusel et al. 2017): fit a Gaussian to each feature set,
#   $(\mu_g, \Sigma_g)$ for the generated, $(\mu_r, \Sigma_r)$ for the real, then
#
#   $$\mathrm{FD} = \lVert \mu_g - \mu_r \rVert^2
#     + \mathrm{Tr}\big(\Sigma_g + \Sigma_r - 2\, (\Sigma_g \Sigma_r)^{1/2}\big),$$
#
#   $0$ when the two Gaussians agree; sensitive to quality AND diversity at once.
# - **Precision and recall** (Kynkäänniemi et al. 2019, $k = 3$): the real manifold is
#   the union of balls around each real feature, of radius the distance to its 3rd
#   nearest real neighbour (the generated manifold likewise);
#   **precision** = the share of generated samples inside the real manifold (quality),
#   **recall** = the share of real samples inside the generated manifold (diversity).
# - **Nearest training image** (`minigan.metrics.nearest_distance`), the memorisation
#   check: the mean Euclidean distance, in pixel space, from each sample to its nearest
#   TRAINING image, beside the same for the held-out images. A G that copies its
#   training set scores $\approx 0$; one that generalises scores about what unseen real
#   digits score. Only a held-out set gives that yardstick: with nothing held out every
#   real image IS a training image, at distance 0, exactly like a perfect copier.
#
# ## Four generators
#
# The lesson scores four "generators": real held-out images (the reference row: what
# real, unseen digits score), a DCGAN trained briefly on the training images, copies of
# one training image (perfect quality, no diversity), and uniform noise. The DCGAN's
# full table is printed with its real held-out column.
#
# The real row is a yardstick, not a bound: the reference is G's own training set, and
# a G trained on it can come closer to it than unseen digits do. The full run's DCGAN
# does, on FD and on recall (compare the first two rows of the table in section 4).

# %%
lesson.section("3. four generators")
backend.seed(lesson.seed)
G, D = build("dcgan", (1, 8, 8), z_dim=32, width=32)
steps = 300 if lesson.quick else 4000
gan = GAN(G, D, z_dim=32, lr_g=5e-4, lr_d=5e-4, seed=lesson.seed, lr_schedule="linear",
          total_steps=steps)
data = backend.asarray(train_images)              # G sees the training images only
gan.fit(lambda rng, k: data[backend.asarray(rng.choice(len(data), k, replace=False))],
        steps, 64)
print(f"  trained a DCGAN for {steps} steps on the {len(train_images)} training images")
noise_rng = np.random.default_rng(lesson.seed)
candidates = {
    "real held-out": held_out,
    f"DCGAN ({steps} steps)": gan.sample(n, seed=lesson.seed + 1),
    # a perfect memoriser of ONE training image
    "copies of one image": np.repeat(train_images[:1], n, axis=0),
    "uniform noise": noise_rng.uniform(-1, 1, held_out.shape).astype(np.float32),
}
scores = {}
held_out_nearest = nearest_distance(held_out, train_images)
for name, samples in candidates.items():
    result = evaluate_images(samples, held_out, reference, classifier)
    result["generated"]["nearest_train_distance"] = nearest_distance(samples,
                                                                     train_images)
    result["real"]["nearest_train_distance"] = held_out_nearest
    scores[name] = result["generated"]
    if name.startswith("DCGAN"):
        print(format_table(result))

# %% [markdown]
# ## Why each figure needs the others
#
# A generator that copies ONE training image has perfect precision (1.0) — every sample
# is a real digit — but recall $\approx 0$, one class covered, a huge FD, and a distance
# 0 to its nearest training image: pure memorisation. Uniform noise fools the coverage
# count (the classifier must guess something, so its guesses spread over the classes)
# but not recall nor FD. The table puts the four side by side; the checks hold each
# figure to what it claims to measure.

# %%
lesson.section("4. what the figures say")
real, dcgan = scores["real held-out"], scores[f"DCGAN ({steps} steps)"]
copies, noise = scores["copies of one image"], scores["uniform noise"]
COLUMNS = FIGURES + ("nearest_train_distance",)
print("  " + f"{'':22s}" + "".join(f"{f[:18]:>19s}" for f in COLUMNS))
for name, s in scores.items():
    print("  " + f"{name:22s}" + "".join(f"{s[f]:19.4g}" for f in COLUMNS))
print(f"  copies' recall {copies['recall']:.7f}; 1 / (reference size {len(reference)}) "
      f"= {1 / len(reference):.7f}")
lesson.check_that("real held-out data covers all 10 classes",
                  real["classes_covered"] == 10, f"{real['classes_covered']}")
lesson.check_that("copies of one image: perfect precision, zero recall, one class",
                  copies["precision"] > 0.9 and copies["recall"] < 0.05
                  and copies["classes_covered"] == 1,
                  f"P {copies['precision']:.2f}, R {copies['recall']:.2f}, "
                  f"{copies['classes_covered']} class")
lesson.check_that("noise: the Fréchet distance exposes it (FD far above the real "
                  "reference)",
                  noise["frechet_distance"] > 10 * real["frechet_distance"],
                  f"{noise['frechet_distance']:.1f} vs {real['frechet_distance']:.2f}")
lesson.check_that("the DCGAN beats noise and copies on FD",
                  dcgan["frechet_distance"] < min(noise["frechet_distance"],
                                                  copies["frechet_distance"]),
                  f"{dcgan['frechet_distance']:.2f}")
lesson.check_that("the DCGAN's recall is far above the copies'",
                  dcgan["recall"] > copies["recall"] + 0.2,
                  f"{dcgan['recall']:.2f} vs {copies['recall']:.2f}")
# the memorisation check: distance to the nearest TRAINING image, beside the held-out
# images' own
lesson.check("contract (a copy's distance is 0 by definition): copies of one training "
             "image, distance to the nearest training image",
             copies["nearest_train_distance"], 1e-6)
lesson.check_that("the DCGAN is no copier: its samples lie about as far from the "
                  "training images as unseen real digits do, or farther (>= 0.8 x)",
                  dcgan["nearest_train_distance"] >= 0.8 * held_out_nearest,
                  f"{dcgan['nearest_train_distance']:.2f} vs held-out "
                  f"{held_out_nearest:.2f}")

# %% [markdown]
# ## The four, seen
#
# The samples of each generator under its FD, precision and recall; then precision
# against recall for the four: the real held-out images mark where unseen real digits
# sit, and the copies sit in the top-left corner (precision 1, recall 0).

# %%
fig, axes = plt.subplots(1, 4, figsize=(14, 4))
for ax, (name, samples) in zip(axes, candidates.items()):
    ax.imshow(image_grid(samples[:36]), cmap="gray", vmin=0, vmax=1)
    s = scores[name]
    ax.set_title(f"{name}\nFD {s['frechet_distance']:.2f}  P {s['precision']:.2f}  "
                 f"R {s['recall']:.2f}", fontsize=9)
    ax.set_axis_off()
lesson.savefig(fig, "four_generators.png")
fig, ax = plt.subplots(figsize=(5, 5))
for name, s in scores.items():
    ax.scatter(s["recall"], s["precision"], s=60, label=name)
ax.set_xlabel("recall (diversity)")
ax.set_ylabel("precision (quality)")
ax.set_xlim(-0.05, 1.05)
ax.set_ylim(-0.05, 1.05)
ax.legend(fontsize=8)
ax.set_title("precision vs recall (k = 3)")
lesson.savefig(fig, "precision_recall.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. The copies of one training image score precision 1.00 but recall close to 0. Why
#    is their recall one over the size of the reference set (the lesson prints both)?
# 2. Uniform noise covers all 10 classes. Why does a class count not detect it, and
#    which printed figures do?
# 3. The real held-out images are real digits, yet their Fréchet distance to the
#    reference is not 0. Why not, and why does that make the held-out column necessary?
# 4. Why can the memorisation check (distance to the nearest training image) only be
#    read with a held-out set?
#
# Short answers: `lessons/ANSWERS.md`.
