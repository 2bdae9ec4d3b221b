"""Lesson 15 — evaluating a GAN honestly: every figure beside the same figure for real data.

THE IDEA
--------
"The samples look good" is not a measurement. A GAN is judged with a CLASSIFIER trained on the real
data (here built from minigan's own layers and trained with its own Adam): its predictions and its
penultimate features turn images into numbers. And every number is printed BESIDE the same number for
real images the generator never saw: the last 30 % of the digits (539 of 1,797) are held out of G's
training, exactly as `minigan train --holdout 0.3` does (minigan.run.split_holdout), and G trains on
the other 1,258 only. Without that column nobody knows whether a Fréchet distance of 3 is good or bad.

THE CLASSIFIER (minigan.metrics.make_classifier): images (N, 1, 8, 8) -> logits (N, 10), with
    p(y|x) = softmax(logits)           (N, 10)   its predicted class distribution
    f(x)   = penultimate activations    (N, F)    a feature vector that "knows" what digits look like

THE FIGURES (minigan.metrics.evaluate_images), each for G's samples AND for real held-out images,
always measured against the same REFERENCE set, G's 1,258 training images (as `minigan evaluate` does
for a run trained with --holdout):
  classes covered   classes that receive at least 1 % of the argmax predictions (10 is perfect)
  KL to uniform     h = histogram of predicted classes; KL(h || uniform) = sum_k h_k log(10 h_k)
                    0 for perfectly balanced classes, log 10 = 2.30 if every sample is one class
  classifier score  exp( E_x KL( p(y|x) || p(y) ) ), p(y) = E_x p(y|x)    (the "Inception score")
                    high when each sample is confidently ONE class and all classes appear: 1..10
  Fréchet distance  fit a Gaussian to each feature set: (mu_g, S_g) for generated, (mu_r, S_r) real
                    FD = |mu_g - mu_r|^2 + Tr(S_g + S_r - 2 (S_g S_r)^(1/2))        (Heusel et al. 2017)
                    0 when the two Gaussians agree; sensitive to quality AND diversity at once
  precision, recall (Kynkäänniemi et al. 2019, k = 3) the real manifold = union of balls around each
                    real feature, radius = distance to its 3rd nearest real neighbour;
                    precision = share of generated samples inside the real manifold   (quality)
                    recall    = share of real samples inside the generated manifold    (diversity)
  nearest training image (minigan.metrics.nearest_distance)  the memorisation check: the mean pixel
                    distance from each sample to its nearest TRAINING image, beside the same for the
                    held-out images. A G that copies its training set scores ~0; one that generalises
                    scores about what unseen real digits score. Only a held-out set gives that
                    yardstick: with nothing held out every real image IS a training image, at
                    distance 0, exactly like a perfect copier.

WHY EACH FIGURE NEEDS THE OTHERS
A generator that copies ONE training image has perfect precision (1.0) — every sample is a real digit —
but recall 0, one class covered, a huge FD, and a distance 0 to its nearest training image: pure
memorisation. Uniform noise fools the coverage count (the classifier must guess something, so its
guesses spread over classes) but not recall nor FD. The lesson scores four "generators" to show this:
real held-out images (the reference row: what perfect looks like), a DCGAN trained briefly on the
training images, copies of one training image (perfect quality, no diversity), and noise.

Run:  python lessons/15_evaluating_gans.py [--quick] [--backend cupy] [--out DIR]
"""
from _common import Lesson, plt  # first: sets up the path, BLAS threads, matplotlib's Agg backend

import numpy as np

from minigan import backend, options
from minigan.data import load_digits
from minigan.metrics import evaluate_images, format_table, nearest_distance, train_classifier
from minigan.metrics.images import FIGURES
from minigan.models import build
from minigan.run import split_holdout
from minigan.train import GAN
from minigan.viz import image_grid

lesson = Lesson(__file__, __doc__)

lesson.section("1. the judge: a small CNN classifier trained on the real digits")
images, labels = load_digits()
classifier, accuracy = train_classifier(images, labels, epochs=5 if lesson.quick else 25, seed=lesson.seed)
lesson.check_that("the classifier knows digits: held-out accuracy above 90 %", accuracy > 0.9,
                  f"{100 * accuracy:.1f} %")

lesson.section("2. the real data: G's training images (the reference), and 30 % held out of G's training")
config = options.validate(options.make_config({"holdout": 0.3}))     # what `minigan train --holdout 0.3` uses
(train_images, _), (held_out, _) = split_holdout(config, images, labels)   # the last round(0.3 N) held out
reference = train_images
n = len(held_out)
print(f"  {len(train_images)} training images (G's data and the reference), {n} held out (never shown to G)")
closest = min(nearest_distance(held_out[i:i + 1], train_images) for i in range(n))   # per held-out image
lesson.check_that("the held-out images are the last 30 %, and none of them is in G's training set",
                  n == round(0.3 * len(images)) and bool((held_out == images[-n:]).all())
                  and len(train_images) + n == len(images) and closest > 0,
                  f"{len(train_images)} + {n} = {len(images)}; the closest held-out/training pair is "
                  f"{closest:.2f} apart")

lesson.section("3. four generators")
backend.seed(lesson.seed)
G, D = build("dcgan", (1, 8, 8), z_dim=32, width=32)
steps = 300 if lesson.quick else 4000
gan = GAN(G, D, z_dim=32, lr_g=5e-4, lr_d=5e-4, seed=lesson.seed, lr_schedule="linear", total_steps=steps)
data = backend.asarray(train_images)                                 # G sees the training images only
gan.fit(lambda rng, k: data[backend.asarray(rng.choice(len(data), k, replace=False))], steps, 64)
print(f"  trained a DCGAN for {steps} steps on the {len(train_images)} training images")
candidates = {
    "real held-out": held_out,
    f"DCGAN ({steps} steps)": gan.sample(n, seed=lesson.seed + 1),
    "copies of one image": np.repeat(train_images[:1], n, axis=0),   # a perfect memoriser of ONE training image
    "uniform noise": np.random.default_rng(lesson.seed).uniform(-1, 1, held_out.shape).astype(np.float32),
}
scores = {}
held_out_nearest = nearest_distance(held_out, train_images)
for name, samples in candidates.items():
    result = evaluate_images(samples, held_out, reference, classifier)
    result["generated"]["nearest_train_distance"] = nearest_distance(samples, train_images)
    result["real"]["nearest_train_distance"] = held_out_nearest
    scores[name] = result["generated"]
    if name.startswith("DCGAN"):
        print(format_table(result))

lesson.section("4. what the figures say")
real, dcgan = scores["real held-out"], scores[f"DCGAN ({steps} steps)"]
copies, noise = scores["copies of one image"], scores["uniform noise"]
COLUMNS = FIGURES + ("nearest_train_distance",)
print("  " + f"{'':22s}" + "".join(f"{f[:18]:>19s}" for f in COLUMNS))
for name, s in scores.items():
    print("  " + f"{name:22s}" + "".join(f"{s[f]:19.4g}" for f in COLUMNS))
lesson.check_that("real held-out data covers all 10 classes", real["classes_covered"] == 10,
                  f"{real['classes_covered']}")
lesson.check_that("copies of one image: perfect precision, zero recall, one class",
                  copies["precision"] > 0.9 and copies["recall"] < 0.05 and copies["classes_covered"] == 1,
                  f"P {copies['precision']:.2f}, R {copies['recall']:.2f}, {copies['classes_covered']} class")
lesson.check_that("noise: the Fréchet distance exposes it (FD far above the real reference)",
                  noise["frechet_distance"] > 10 * real["frechet_distance"],
                  f"{noise['frechet_distance']:.1f} vs {real['frechet_distance']:.2f}")
lesson.check_that("the DCGAN beats noise and copies on FD",
                  dcgan["frechet_distance"] < min(noise["frechet_distance"], copies["frechet_distance"]),
                  f"{dcgan['frechet_distance']:.2f}")
lesson.check_that("the DCGAN's recall is far above the copies'", dcgan["recall"] > copies["recall"] + 0.2,
                  f"{dcgan['recall']:.2f} vs {copies['recall']:.2f}")
# the memorisation check: distance to the nearest TRAINING image, beside the held-out images' own
lesson.check("copies of one training image: distance to the nearest training image ~0 (a memoriser)",
             copies["nearest_train_distance"], 1e-6)
lesson.check_that("the DCGAN is no copier: its samples lie about as far from the training images as unseen "
                  "real digits do, or farther (>= 0.8 x)", dcgan["nearest_train_distance"] >= 0.8 * held_out_nearest,
                  f"{dcgan['nearest_train_distance']:.2f} vs held-out {held_out_nearest:.2f}")

fig, axes = plt.subplots(1, 4, figsize=(14, 4))
for ax, (name, samples) in zip(axes, candidates.items()):
    ax.imshow(image_grid(samples[:36]), cmap="gray", vmin=0, vmax=1)
    s = scores[name]
    ax.set_title(f"{name}\nFD {s['frechet_distance']:.2f}  P {s['precision']:.2f}  R {s['recall']:.2f}", fontsize=9)
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
