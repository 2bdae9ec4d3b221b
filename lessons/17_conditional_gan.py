"""Lesson 17 — a conditional GAN: asking G for a particular digit.

THE IDEA
--------
An ordinary GAN draws digits, but you cannot ask it for a 7. A CONDITIONAL GAN (Mirza & Osindero, 2014)
gives both players the label: G(z, y) must draw a digit of class y, and D(x, y) judges whether x is a
real image OF CLASS y. A fake 3 labelled "7" is now easy to reject, so G has to honour the label.

HOW THE LABEL GOES IN: one-hot, concatenated to the input
    y_onehot (N, 10):  row n is all zeros except a 1 in column y_n
    G input  [z, y_onehot]                    (N, 32 + 10)  -> G -> image (N, 64) in [-1, 1]
    D input  [x, y_onehot]                    (N, 64 + 10)  -> D -> logit (N, 1)
Concatenation has the simplest backward there is: its input gradient is the output gradient CUT BACK
into the same pieces,
    d L / d x = (d L / d [x, y])[:, :64]       d L / d y = (d L / d [x, y])[:, 64:]  (unused: y is data)
so the G step reads D's input gradient, keeps its first 64 columns, and back-propagates them into G.

THE TWO-PHASE STEP, with labels (batch B = 64; bce = binary cross-entropy on logits, lesson 03)
    D step:  real (x, y) from the data:           L_D  = bce(D([x, y]), 1)
             fake: c ~ uniform labels, z ~ N(0,I): L_D += bce(D([G([z, c]), c]), 0);  Adam step on D
    G step:  the same fakes, judged by the updated D: L_G = bce(D([G([z, c]), c]), 1);  Adam step on G
What each backward is asked for (every backward can skip its input gradient, input_grad=False, or its
parameter gradients, param_grads=False):
  * D step: D's parameter gradients only. The images and labels are data and G is not updated here,
    so nobody needs dL/d(D's input): D.backward(grad, input_grad=False).
  * G step: D's INPUT gradient only, D.backward(grad, param_grads=False). D's parameter gradients
    would be of L_G, not of L_D, and nothing reads them: D's Adam step has already run, and the next
    step's D.zero_grad() clears D's gradients before its D step accumulates new ones, so they would be
    thrown away unread. The lesson checks it: two training steps computed both ways end with
    identical G and D. G's backward then skips G's input gradient (z is not learned).

THE CHECKS
  1. the whole chain G -> concat -> D -> loss, back-propagated by hand, against central differences
     w.r.t. z (float64, tolerance 1e-7): the "cut the gradient back" rule is exactly right;
  2. D's parameter gradients in the G step would be thrown away: two training steps, once with
     D.backward(grad, param_grads=False) in the G step and once computing them, give identical G and D;
  3. after training, a classifier trained on the real digits (lesson 15) reads G's samples: asked for
     class k, G must produce something classified as k far more often than chance (10 %).
Run:  python lessons/17_conditional_gan.py [--quick] [--backend cupy] [--out DIR]
"""
from _common import Lesson, plt  # first: sets up the path, BLAS threads, matplotlib's Agg backend

import copy

import numpy as np

import minigan
from minigan import backend
from minigan.data import load_digits
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.layers import Dense, LeakyReLU, Sequential, Tanh
from minigan.losses import bce_with_logits
from minigan.metrics import train_classifier
from minigan.optim import Adam

lesson = Lesson(__file__, __doc__)
xp = lesson.xp
H = backend.to_numpy
Z, K, PIXELS, BATCH = 32, 10, 64, 64
STEPS = 2000 if lesson.quick else 8000


def make_pair(width=256):
    G = Sequential(Dense(Z + K, width), LeakyReLU(0.2), Dense(width, width), LeakyReLU(0.2), Dense(width, PIXELS),
                   Tanh())
    D = Sequential(Dense(PIXELS + K, width), LeakyReLU(0.2), Dense(width, width), LeakyReLU(0.2), Dense(width, 1))
    return G, D


def one_hot(labels):
    """labels (N,) int -> (N, 10) in the parameters' dtype, on the active backend."""
    out = np.zeros((len(labels), K))
    out[np.arange(len(labels)), labels] = 1
    return backend.asarray(out, dtype=backend.default_dtype())


def g_loss_and_grad_z(G, D, z, c):
    """L_G of one batch and its gradient w.r.t. z, back-propagated by hand through D, the concat and G."""
    fake = G(xp.concatenate([z, c], axis=1))
    loss, grad = bce_with_logits(D(xp.concatenate([fake, c], axis=1)), 1.0)
    grad_fake = D.backward(grad, param_grads=False)[:, :PIXELS]  # cut the concat's gradient back: image part
    grad_z = G.backward(grad_fake, param_grads=False)[:, :Z]     # and again at G's input
    return loss, grad_z


lesson.section("1. the concatenation's backward, checked (float64)")
minigan.set_default_dtype("float64")
backend.seed(lesson.seed)
G64, D64 = make_pair(width=16)
rng = backend.rng(lesson.seed)
z = backend.asarray(rng.standard_normal((5, Z)))
c = one_hot(rng.integers(0, K, 5))
_, analytic = g_loss_and_grad_z(G64, D64, z, c)
numeric = numerical_gradient(lambda: g_loss_and_grad_z(G64, D64, z, c)[0], z)
lesson.check("dL_G/dz through G -> concat -> D, analytic vs numeric (rel err)", rel_error(analytic, numeric), 1e-7)
minigan.set_default_dtype("float32")

lesson.section(f"2. training a conditional MLP GAN on the digits ({STEPS} steps)")
images, labels = load_digits()
flat = backend.asarray(images.reshape(len(images), PIXELS))


def train_step(G, D, g_opt, d_opt, x, y, c, z, d_grads_in_g_step=False):
    """One two-phase step on a real batch (x, y) and fakes G([z, c]). -> (L_D, L_G).

    d_grads_in_g_step=True also computes D's parameter gradients in the G step (the check in part 2).
    """
    # (1) update D on a real and a fake batch, each with its label
    D.zero_grad()                                      # clears D's gradients, whatever the last G step left
    loss_real, grad = bce_with_logits(D(xp.concatenate([x, y], axis=1)), 1.0)
    D.backward(grad, input_grad=False)                 # the data are constants: no dL/dx
    fake = G(xp.concatenate([z, c], axis=1))
    loss_fake, grad = bce_with_logits(D(xp.concatenate([fake, c], axis=1)), 0.0)
    D.backward(grad, input_grad=False)                 # G is not updated in D's step: no dL/d(fake) either
    d_opt.step()
    # (2) update G: the same fakes through the updated D, the image part of D's input gradient into G.
    # D's parameter gradients are not asked for: the next D.zero_grad() would throw them away unread.
    G.zero_grad()
    loss_g, grad = bce_with_logits(D(xp.concatenate([fake, c], axis=1)), 1.0)
    grad_in = D.backward(grad, param_grads=d_grads_in_g_step)
    G.backward(grad_in[:, :PIXELS], input_grad=False)  # z is not learned: no dL/dz
    g_opt.step()
    return loss_real + loss_fake, loss_g


def draw_batch(rng):
    """A real batch (x, y) and the fakes' labels and noise (c, z), drawn from ``rng``."""
    idx = rng.choice(len(images), BATCH, replace=False)
    c = one_hot(rng.integers(0, K, BATCH))
    z = backend.asarray(rng.standard_normal((BATCH, Z)), dtype="float32")
    return flat[backend.asarray(idx)], one_hot(labels[idx]), c, z


def parameters_of(*models):
    return [H(p).copy() for model in models for _, p, _ in model.parameters()]


backend.seed(lesson.seed)
G, D = make_pair()
g_opt, d_opt = Adam(G, lr=5e-4), Adam(D, lr=5e-4)

# The check: from the same state, two steps with and two without D's parameter gradients in the G step.
start = parameters_of(G, D)
# one deepcopy of the four together: each copied optimiser updates its own copied G or D
copies = {flag: copy.deepcopy((G, D, g_opt, d_opt)) for flag in (False, True)}
check_rng = backend.rng(lesson.seed + 7)                 # not `rng`: the training run below stays as it was
batches = [draw_batch(check_rng) for _ in range(2)]
left_in_D = 0.0
for flag, (G_c, D_c, g_c, d_c) in copies.items():
    for batch in batches:
        train_step(G_c, D_c, g_c, d_c, *batch, d_grads_in_g_step=flag)
    if flag:
        left_in_D = max(float(abs(H(g)).max()) for _, _, g in D_c.parameters())   # what the G step left
after = {flag: parameters_of(*pair[:2]) for flag, pair in copies.items()}
diff = max(float(abs(a - b).max()) for a, b in zip(after[False], after[True]))
moved = max(float(abs(a - b).max()) for a, b in zip(after[False], start))
untouched = all((a == b).all() for a, b in zip(parameters_of(G, D), start))
print(f"  D's parameter gradients left by the last G step when computed: max |grad| {left_in_D:.2e}; "
      f"the 2 steps moved the parameters by up to {moved:.1e}")
lesson.check_that("those gradients are thrown away unread: after 2 steps computed both ways, G and D are identical",
                  diff == 0.0 and left_in_D > 0 and moved > 0 and untouched,
                  f"max |difference of any parameter| = {diff:.1e}")

losses = []
for step in range(STEPS):
    losses.append(train_step(G, D, g_opt, d_opt, *draw_batch(rng)))
print(f"  last losses: L_D {losses[-1][0]:.3f}, L_G {losses[-1][1]:.3f}")

lesson.section("3. does G honour the label? a classifier trained on real digits reads its samples")
classifier, accuracy = train_classifier(images, labels, epochs=5 if lesson.quick else 20, seed=lesson.seed)
asked = np.repeat(np.arange(K), 50)
z = backend.asarray(rng.standard_normal((len(asked), Z)), dtype="float32")
G.eval()
samples = backend.to_numpy(G(xp.concatenate([z, one_hot(asked)], axis=1))).reshape(-1, 1, 8, 8)
read = classifier.predict_proba(samples).argmax(axis=1)
per_class = [(read[asked == k] == k).mean() for k in range(K)]
agreement = float((read == asked).mean())
print("  classified as asked, per class: " + "  ".join(f"{k}: {p:.0%}" for k, p in enumerate(per_class)))
lesson.check_that("the classifier itself reads real digits (held-out accuracy > 90 %)", accuracy > 0.9,
                  f"{accuracy:.1%}")
lesson.check_that("G draws the digit it is asked for far above chance (> 50 % vs 10 %)", agreement > 0.5,
                  f"{agreement:.1%}")

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
