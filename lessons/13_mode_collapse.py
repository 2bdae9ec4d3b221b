"""Lesson 09 — toy 2-D GANs and mode collapse: seeing it, measuring it, curing it.

THE IDEA
--------
On a mixture of 8 Gaussians on a ring you can SEE what a GAN learned: scatter its samples over the
modes. The classic failure is mode collapse: G puts all its samples on one or a few modes (or between
them) and D's feedback does not pull it out. This lesson provokes a collapse on purpose, measures it
with the standard protocol, and fixes it with a recipe from the literature (PacGAN, and a learning
rate that decays to zero).

THE DATA: "ring8" (minigan.data.sample_toy), PacGAN's set
    8 modes with means mu_k = (cos 2 pi k/8, sin 2 pi k/8), k = 0..7, each a Gaussian of std 0.01;
    samples (N, 2) float32. G: z (N, 8) ~ N(0, I) -> (N, 2); D: (N/pack, 2*pack) -> logits (N/pack, 1).

WHY G COLLAPSES
Hold D fixed and look at G's non-saturating loss, L_G = -E_z log D(G(z)). Its minimum over ALL
generators is reached by sending every z to the single point x* = argmax_x D(x): a point mass, not a
distribution. Only D's reaction keeps G honest: once G piles onto x*, D should lower D(x*) and raise
it on the modes G abandoned. If D reacts too slowly (here: its learning rate is 100x smaller than G's),
G has time to converge onto D's current favourite point and stays there: a full collapse. If D reacts but
judges one sample at a time, it cannot see "all samples are alike" directly; G often hops from mode to
mode instead of spreading out.

THE CURES USED HERE
  * PacGAN (Lin et al., 2018): D judges PACKS of m samples concatenated, (N/m, 2m) here m = 2. A pack
    of two real points comes from two different modes 7 times out of 8; a pack from a collapsed G never
    does. So D can detect missing diversity, and its gradient pushes G's samples apart. In the paper's
    terms, the total-variation distance between the packed distributions P^m and Q^m grows with m
    when Q misses modes, so D's signal against mode dropping is amplified.
  * D and G at the same brisk learning rate (5e-3, falling to 0), so D keeps up.
  * a learning rate that decays linearly to 0 (GAN(lr_schedule="linear")): late steps are small, and
    G settles ON the modes instead of orbiting them, which the HQ fraction below rewards.

THE PROTOCOL (PacGAN / VEEGAN; minigan.metrics.evaluate_toy) on 2,500 samples of G:
    a sample is HIGH QUALITY (HQ) if its distance to the nearest mode mean is below 3 std (0.03 here);
    a mode is CAPTURED if at least one HQ sample is nearest to it;        "modes", 0..8
    hq_fraction = fraction of samples that are HQ;                        (perfect samples: ~0.989)
    q_k = fraction of ALL samples nearest to mode k; reverse KL to the uniform mixture
        rev_kl = sum_k q_k log(q_k * 8),   0 for a perfect balance, log 8 = 2.08 for a single mode.
(The literature reports the mean over 10 seeds; PacGAN2 reaches 7.9 modes, rev KL 0.07 on the ring.
The full run of this lesson uses 3 seeds, --quick one.)

WHAT THE LESSON DOES
  1. trains a COLLAPSING GAN: pack 1, lr_d = 1e-5 (D 100x too slow), lr_g = 1e-3;
  2. trains the CURED GAN: pack 2, lr 5e-3 for both, linear decay (same widths and depths);
  3. evaluates both with the protocol, prints and checks the figures (the cure captures more modes and
     balances them far better); scatters over the true modes (collapse.png, cure.png, and a side-by-side
     comparison.png with the per-mode histograms).
Run:  python lessons/13_mode_collapse.py [--quick] [--backend cupy] [--out DIR]
"""
from _common import Lesson, plt  # first: sets up the path, BLAS threads, matplotlib's Agg backend

import numpy as np

from minigan import backend
from minigan.data import sample_toy, toy_means, toy_std
from minigan.metrics import evaluate_toy, summarize
from minigan.models import build
from minigan.train import GAN
from minigan.viz import save_scatter

lesson = Lesson(__file__, __doc__)
A = backend.asarray
DATA, Z, WIDTH, BATCH = "ring8", 8, 128, 256
SEEDS = [lesson.seed] if lesson.quick else [lesson.seed + i for i in range(3)]
RECIPES = {
    "collapse": dict(pack=1, lr_g=1e-3, lr_d=1e-5, steps=500 if lesson.quick else 1500, lr_schedule="constant"),
    "cure": dict(pack=2, lr_g=5e-3, lr_d=5e-3, steps=1000 if lesson.quick else 3000, lr_schedule="linear"),
}


def sample_ring(rng, n):
    return A(sample_toy(DATA, n, rng))


def train(recipe, seed):
    """Train one toy GAN; return 2,500 samples (NumPy (2500, 2)) and the protocol's figures."""
    backend.seed(seed)
    G, D = build("mlp2d", (2,), Z, pack=recipe["pack"], width=WIDTH, depth=3)
    gan = GAN(G, D, z_dim=Z, loss="nonsaturating", lr_g=recipe["lr_g"], lr_d=recipe["lr_d"], pack=recipe["pack"],
              seed=seed, lr_schedule=recipe["lr_schedule"], total_steps=recipe["steps"])
    gan.fit(sample_ring, recipe["steps"], BATCH)
    points = gan.sample(2500, seed=seed + 1000)
    return points, evaluate_toy(points, DATA)


results, first_points = {}, {}
for name, recipe in RECIPES.items():
    lesson.section(f"{'1' if name == 'collapse' else '2'}. the {name}: pack {recipe['pack']}, lr_g {recipe['lr_g']}, "
                   f"lr_d {recipe['lr_d']}, {recipe['steps']} steps, lr {recipe['lr_schedule']}")
    results[name] = []
    for seed in SEEDS:
        points, figures = train(recipe, seed)
        results[name].append(figures)
        first_points.setdefault(name, points)
        print(f"  seed {seed}: modes {figures['modes']}/8, hq_fraction {figures['hq_fraction']:.3f}, "
              f"rev_kl {figures['rev_kl']:.3f}, samples per mode {figures['counts']}")

lesson.section("3. the verdict (mean over seeds)")
summary = {name: summarize(r) for name, r in results.items()}
for name, s in summary.items():
    print(f"  {name:8s}: modes {s['modes']['mean']:.1f} +- {s['modes']['stderr']:.1f}, "
          f"hq_fraction {s['hq_fraction']['mean']:.3f} +- {s['hq_fraction']['stderr']:.3f}, "
          f"rev_kl {s['rev_kl']['mean']:.3f} +- {s['rev_kl']['stderr']:.3f}   ({s['num_seeds']} seed(s))")
col, cur = summary["collapse"], summary["cure"]
lesson.check_that("the collapse is real: rev_kl > 1 (most samples near one or two modes; one mode = 2.08)",
                  col["rev_kl"]["mean"] > 1, f"rev_kl {col['rev_kl']['mean']:.2f}")
lesson.check_that("the cure captures more modes than the collapse", cur["modes"]["mean"] > col["modes"]["mean"],
                  f"{cur['modes']['mean']:.1f} > {col['modes']['mean']:.1f}")
lesson.check_that("the cure captures at least 6 of the 8 modes", cur["modes"]["mean"] >= 6,
                  f"{cur['modes']['mean']:.1f}")
lesson.check_that("the cure balances the modes: rev_kl below 0.2", cur["rev_kl"]["mean"] < 0.2,
                  f"{cur['rev_kl']['mean']:.3f}")

means = toy_means(DATA)
for name in RECIPES:
    f = results[name][0]
    save_scatter(first_points[name], means, lesson.path(f"{name}.png"),
                 f"{name}: {f['modes']}/8 modes, HQ {f['hq_fraction']:.2f}, rev KL {f['rev_kl']:.2f}")

fig, axes = plt.subplots(2, 2, figsize=(11, 10), gridspec_kw={"height_ratios": [2.2, 1]})
for col_i, name in enumerate(RECIPES):
    f, pts = results[name][0], first_points[name]
    ax = axes[0, col_i]
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.3, label="G's samples")
    ax.scatter(means[:, 0], means[:, 1], s=60, marker="x", color="red", label="true modes")
    for m in means:   # the HQ disc, radius 3 std
        ax.add_patch(plt.Circle(m, 3 * toy_std(DATA), fill=False, color="red", linewidth=0.5))
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.set_title(f"{name}: {f['modes']}/8 modes, HQ {f['hq_fraction']:.2f}, rev KL {f['rev_kl']:.2f}")
    ax.legend(loc="upper right", fontsize=8)
    axes[1, col_i].bar(range(8), np.array(f["counts"]) / f["num_samples"])
    axes[1, col_i].axhline(1 / 8, color="gray", linestyle="--", label="uniform: 1/8")
    axes[1, col_i].set_xlabel("mode k (nearest)")
    axes[1, col_i].set_ylabel("q_k, share of samples")
    axes[1, col_i].set_ylim(0, 1)
    axes[1, col_i].legend(fontsize=8)
lesson.savefig(fig, "comparison.png")

lesson.finish()
