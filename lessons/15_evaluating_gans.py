"""Lesson 11 — evaluating a GAN honestly: every figure beside the same figure for real data.

THE IDEA
--------
"The samples look good" is not a measurement. A GAN is judged with a CLASSIFIER trained on the real
data (here built from minigan's own layers and trained with its own Adam): its predictions and its
penultimate features turn images into numbers. And every number is printed BESIDE the same number for
real images the generator never had to imitate (a held-out half of the real data): without that
column nobody knows whether a Fréchet distance of 3 is good or bad.

THE CLASSIFIER (minigan.metrics.make_classifier): images (N, 1, 8, 8) -> logits (N, 10), with
    p(y|x) = softmax(logits)           (N, 10)   its predicted class distribution
    f(x)   = penultimate activations    (N, F)    a feature vector that "knows" what digits look like

THE FIGURES (minigan.metrics.evaluate_images), each for G's samples AND for real held-out images,
always measured against the same REFERENCE half of the real data:
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

WHY EACH FIGURE NEEDS THE OTHERS
A generator that copies ONE real image has perfect precision (1.0) — every sample is a real digit —
but recall 0, one class covered, and a huge FD. Uniform noise fools the coverage count (the classifier
must guess something, so its guesses spread over classes) but not recall nor FD. The lesson scores
four "generators" to show this: real held-out images (the reference row: what perfect looks like),
a DCGAN trained briefly on the digits, copies of one image (perfect quality, no diversity), and noise.

Run:  python lessons/15_evaluating_gans.py [--quick] [--backend cupy] [--out DIR]
"""
import numpy as np

from _common import Lesson, plt

from minigan import backend
from minigan.data import load_digits
from minigan.metrics import evaluate_images, format_table, train_classifier
from minigan.metrics.images import FIGURES
from minigan.models import build
from minigan.train import GAN
from minigan.viz import image_grid

lesson = Lesson(__file__, __doc__)

lesson.section("1. the judge: a small CNN classifier trained on the real digits")
images, labels = load_digits()
classifier, accuracy = train_classifier(images, labels, epochs=5 if lesson.quick else 25, seed=lesson.seed)
lesson.check_that("the classifier knows digits: held-out accuracy above 90 %", accuracy > 0.9,
                  f"{100 * accuracy:.1f} %")

lesson.section("2. the real data in two halves: a reference, and a held-out half scored like a generator")
order = np.random.default_rng(lesson.seed).permutation(len(images))
reference, held_out = images[order[:898]], images[order[898:]]
n = len(held_out)

lesson.section("3. four generators")
backend.seed(lesson.seed)
G, D = build("dcgan", (1, 8, 8), z_dim=32, width=32)
steps = 300 if lesson.quick else 4000
gan = GAN(G, D, z_dim=32, lr_g=5e-4, lr_d=5e-4, seed=lesson.seed, lr_schedule="linear", total_steps=steps)
data = backend.asarray(images)
gan.fit(lambda rng, k: data[backend.asarray(rng.choice(len(data), k, replace=False))], steps, 64)
print(f"  trained a DCGAN for {steps} steps")
candidates = {
    "real held-out": held_out,
    f"DCGAN ({steps} steps)": gan.sample(n, seed=lesson.seed + 1),
    "copies of one image": np.repeat(held_out[:1], n, axis=0),
    "uniform noise": np.random.default_rng(lesson.seed).uniform(-1, 1, held_out.shape).astype(np.float32),
}
scores = {}
for name, samples in candidates.items():
    result = evaluate_images(samples, held_out, reference, classifier)
    scores[name] = result["generated"]
    if name.startswith("DCGAN"):
        print(format_table(result))

lesson.section("4. what the figures say")
real, dcgan = scores["real held-out"], scores[f"DCGAN ({steps} steps)"]
copies, noise = scores["copies of one image"], scores["uniform noise"]
print("  " + f"{'':22s}" + "".join(f"{f[:18]:>19s}" for f in FIGURES))
for name, s in scores.items():
    print("  " + f"{name:22s}" + "".join(f"{s[f]:19.4g}" for f in FIGURES))
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
