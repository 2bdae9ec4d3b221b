# %% [markdown]
# # Lesson 27 — initialisation and signal propagation: Xavier, He, and N(0, 0.02)
#
# A network is trained from its initial weights, and before the first step they
# decide how large the activations are at every depth, and how large the gradients
# that come back. Too small a weight scale and both shrink by a constant factor per
# layer (they **vanish**); too large and they grow (they **explode**). This lesson
# measures it on minigan's own layers and checks each claim against a one-line
# prediction:
#
# 1. one linear layer: $\mathrm{Var}(y) = n_\text{in} \mathrm{Var}(w) E[x^2]$, with
#    the second moment of the input, not its variance, when the input has a mean;
# 2. a stack of 24 Dense layers with ReLU, LeakyReLU or tanh under five weight scales:
#    $N(0, 1)$, Xavier (Glorot & Bengio 2010), He (He et al. 2015), minigan's default
#    (PyTorch's) and the DCGAN paper's $N(0, 0.02^2)$ (Radford et al. 2016): the
#    activations by depth, against a per-layer factor (tanh: a recursion);
# 3. the backward pass, through each layer's `backward`: the gradient's second moment
#    by depth, against the per-layer factor $n_\text{out} \mathrm{Var}(w)
#    E[\varphi'(h)^2]$;
# 4. convolutions, where $n_\text{in} = C_\text{in} k^2$, and what $N(0, 0.02^2)$
#    does to minigan's `dcgan` generator at its real width, with and without its
#    BatchNorm layers.
#
# The biases are left out (zero) throughout: they add a constant to the variance of
# every layer and hide the factor we measure.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import numpy as np

from minigan import backend
from minigan.layers import (BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Dense,
                            LeakyReLU, ReLU, Sequential, Tanh, dcgan_init, no_grad)
from minigan.models import build

lesson = Lesson("27_initialisation")
xp = lesson.xp
H = backend.to_numpy
WIDTH = 256                                  # units per Dense layer
DEPTH = 24                                   # Dense layers in section 2
BATCH = 128 if lesson.quick else 256         # inputs pushed through at once
REPEATS = 4 if lesson.quick else 12          # independent stacks per setting
SLOPE = 0.2                                  # LeakyReLU's, as in minigan's D


def normal(shape, var):
    """Weights from N(0, var), drawn on the host (seeded) and moved to the backend."""
    values = backend.host_rng().normal(0.0, np.sqrt(var), size=shape)
    return backend.asarray(values, dtype=backend.default_dtype())


def second_moment(a):
    """E[a^2] over every entry, in float64 (an exploded or vanished float32 is fine
    as a number, its square may not be)."""
    return float(xp.mean(a.astype(np.float64) ** 2))


# %% [markdown]
# ## 1. One linear layer: the variance multiplies by $n_\text{in} \mathrm{Var}(w)$
#
# For $y_j = \sum_{i=1}^{n} x_i W_{ij}$ with the weights independent of the inputs and
# of mean zero, every cross term $E[x_i x_{i'} W_{ij} W_{i'j}]$, $i \ne i'$, is zero,
# so
# $$E[y_j^2] = \sum_i E[x_i^2] E[W_{ij}^2] = n \, \mathrm{Var}(w) \, E[x^2].$$
# It is $E[x^2]$, the second moment: it equals $\mathrm{Var}(x)$ only for inputs of
# mean zero. After a ReLU they are not: for $x = \max(g, 0)$, $g \sim N(0, 1)$,
# $E[x^2] = 1/2$ but $\mathrm{Var}(x) = 1/2 - 1/(2\pi) \approx 0.34$. The output's
# mean is still zero (the weights' is), so $\mathrm{Var}(y) = E[y^2]$.
#
# minigan's default (`fan_in_uniform`, PyTorch's) draws $W \sim U(-1/\sqrt{n},
# 1/\sqrt{n})$: $\mathrm{Var}(w) = 1/(3n)$, so each layer divides $E[x^2]$ by 3.
# The lesson measures a `Dense(512, 512)` with its default weights on 2048 inputs,
# Gaussian and after a ReLU. The tolerance: the measured ratio is an average of
# squares, with a relative spread of about $\sqrt{2/(n \, n_\text{out})}$ from the
# weights and $\sqrt{2 (1/n + 1/n_\text{out}) / N}$ from the $N$ inputs; we allow five
# of these spreads added in quadrature.

# %%
lesson.section("1. one Dense layer: Var(y) = n Var(w) E[x^2]")
backend.seed(lesson.seed)
n, n_out, N = 512, 512, 2048
layer = Dense(n, n_out, bias=False)                  # minigan's default weights
var_w = float(xp.var(layer.params["W"].astype(np.float64)))
print(f"  default weights: Var(w) = {var_w:.3e}, 1/(3n) = {1 / (3 * n):.3e}")
spread = np.sqrt(2 / (n * n_out) + 2 * (1 / n + 1 / n_out) / N)
with no_grad():
    g = normal((N, n), 1.0)
    relu_in = xp.maximum(g, 0)
    ratios = {}
    for name, x in (("Gaussian", g), ("after a ReLU", relu_in)):
        y = layer(x)
        mean_sq = second_moment(x)
        var_x = float(xp.var(x.astype(np.float64)))
        ratios[name] = (float(xp.var(y.astype(np.float64))), mean_sq, var_x)
        print(f"  {name:>12}: Var(y) = {ratios[name][0]:.4f}, n Var(w) E[x^2] = "
              f"{n * var_w * mean_sq:.4f}, n Var(w) Var(x) = {n * var_w * var_x:.4f}")
for name, (var_y, mean_sq, var_x) in ratios.items():
    lesson.check(f"{name} input: Var(y) / (n Var(w) E[x^2]) - 1 (5 spreads "
                 f"{spread:.1e})", abs(var_y / (n * var_w * mean_sq) - 1), 5 * spread)
var_y, mean_sq, var_x = ratios["after a ReLU"]
lesson.check_that("after a ReLU, the input's variance (not its second moment) "
                  "misses by far more: > 30 %", var_y / (n * var_w * var_x) - 1 > 0.3,
                  f"Var(y) / (n Var(w) Var(x)) = {var_y / (n * var_w * var_x):.3f}")
lesson.check("minigan's default divides by 3: Var(y) / E[x^2] vs 1/3 (rel)",
             abs(ratios["Gaussian"][0] / ratios["Gaussian"][1] * 3 - 1), 5 * spread)

# %% [markdown]
# ## 2. A deep stack: which explode, which vanish, which hold
#
# Stack $L = 24$ layers $h_{l} = \varphi(h_{l-1}) W_l$ of width $n = 256$ (the first
# takes $x \sim N(0, 1)$ itself). By section 1 the pre-activations' second moment
# $q_l = E[h_l^2]$ follows
# $$q_l = n \, \mathrm{Var}(w) \, E[\varphi(h_{l-1})^2].$$
# For ReLU $E[\varphi(h)^2] = q/2$ (half the Gaussian's mass, all its square); for
# LeakyReLU with slope $a$, $q (1 + a^2)/2$. Both are proportional to $q$, so each
# layer multiplies $q$ by a constant factor $\chi$ and $q_L = \chi^{L-1} q_1$:
#
# | scheme | $\mathrm{Var}(w)$ | $\chi$, ReLU ($n = 256$) |
# |---|---|---|
# | $N(0, 1)$ | 1 | 128: explodes |
# | Xavier (Glorot) | $2/(n_\text{in} + n_\text{out}) = 1/n$ | 1/2: vanishes |
# | He (Kaiming) | $2/n_\text{in}$ | 1: holds |
# | minigan default | $1/(3 n_\text{in})$ | 1/6: vanishes |
# | DCGAN | $0.02^2$ | $0.02^2 n/2 = 0.0512$: vanishes fast |
#
# He's $2/n$ is exactly the $1/n$ of Xavier times the 2 that a ReLU's halving asks
# for. For tanh, $E[\tanh(h)^2]$ is not proportional to $q$: the lesson iterates the
# recursion with the expectation over $h \sim N(0, q)$ computed numerically (the
# "mean-field" prediction; it treats each unit's $h$ as Gaussian, which the sum over
# 256 inputs makes nearly true). Near zero $\tanh(h) \approx h$, so Xavier's $1/n$
# holds the scale there, slowly shrinking; large weights saturate tanh at $\pm 1$
# and $q$ settles at $n \mathrm{Var}(w)$ instead of exploding.
#
# The check takes each layer's factor $q_{l+1} / q_l$ and divides it by the one
# predicted at the measured $q_l$ (for ReLU the constant $\chi$). At width 256 one
# layer's factor scatters by some 10 % (its $n$ output units are a finite sample),
# so the lesson builds 4 stacks per setting (12 in the full run) and takes the mean
# $m$ of the $4 \times 23$ log errors, plus half their variance (a log-normal's
# mean sits $\sigma^2/2$ above its log's mean). That must lie within 4 standard
# errors of 0; the predictions differ by $\ln 2 = 0.69$ per layer (He against
# Xavier) or more, against a standard error near 0.015.

# %%
lesson.section("2. activations by depth: 24 Dense layers, width 256")
SCHEMES = {                      # Var(w) for a square n x n layer; None: the default
    "N(0, 1)": 1.0,
    "Xavier 2/(n_in+n_out)": 2 / (WIDTH + WIDTH),
    "He 2/n_in": 2 / WIDTH,
    "minigan default": None,
    "DCGAN 0.02^2": 0.02 ** 2,
}
ACTIVATIONS = {"ReLU": ReLU, f"LeakyReLU({SLOPE})": lambda: LeakyReLU(SLOPE),
               "tanh": Tanh}

# E over z ~ N(0, 1) on a fine grid (tanh(sqrt(q) z) is steep near 0 when q is large)
Z_GRID = np.linspace(-8, 8, 20001)
Z_WEIGHT = np.exp(-Z_GRID ** 2 / 2) / np.sqrt(2 * np.pi) * (Z_GRID[1] - Z_GRID[0])


def gaussian_mean(f, q):
    """E[f(h)] for h ~ N(0, q), by quadrature."""
    return float(np.sum(Z_WEIGHT * f(np.sqrt(q) * Z_GRID)))


def phi_sq(act, q):
    """E[phi(h)^2] for h ~ N(0, q)."""
    if act == "ReLU":
        return q / 2
    if act.startswith("LeakyReLU"):
        return q * (1 + SLOPE ** 2) / 2
    return gaussian_mean(lambda h: np.tanh(h) ** 2, q)


def dphi_sq(act, q):
    """E[phi'(h)^2] for h ~ N(0, q)."""
    if act == "ReLU":
        return 0.5
    if act.startswith("LeakyReLU"):
        return (1 + SLOPE ** 2) / 2
    return gaussian_mean(lambda h: (1 - np.tanh(h) ** 2) ** 2, q)


def build_stack(act, var_w, depth=DEPTH, n=WIDTH):
    layers = []
    for _ in range(depth):
        dense = Dense(n, n, bias=False)
        if var_w is not None:
            dense.params["W"][...] = normal((n, n), var_w)
        layers += [dense, ACTIVATIONS[act]()]
    return Sequential(*layers)


def run_stack(stack, x, r):
    """Forward x, then backward r (the gradient of sum(r * output)), layer by layer.

    Returns q_l = E[h_l^2] (pre-activations), d_l = E[(dL/dh_l)^2], and the RMS of
    dL/dW_l, for l = 1..L."""
    q, d, w_rms = [], [], []
    a = x
    for i in range(0, len(stack), 2):
        h = stack[i](a)
        q.append(second_moment(h))
        a = stack[i + 1](h)
    grad = r
    for i in range(len(stack) - 2, -1, -2):
        delta = stack[i + 1].backward(grad)              # dL/dh_l
        d.append(second_moment(delta))
        grad = stack[i].backward(delta)                  # dL/d(input of layer l)
        w_rms.append(np.sqrt(second_moment(stack[i].grads["W"])))
    return np.array(q), np.array(d[::-1]), np.array(w_rms[::-1])


def predict(act, var_w, depth=DEPTH, n=WIDTH):
    """Mean-field q_l and d_l: forward from E[x^2] = 1, backward from E[r^2] = 1."""
    var_w = 1 / (3 * n) if var_w is None else var_w
    q = [n * var_w * 1.0]
    for _ in range(depth - 1):
        q.append(n * var_w * phi_sq(act, q[-1]))
    d = [dphi_sq(act, q[-1])]                            # dL/dh_L = r * phi'(h_L)
    for l in range(depth - 2, -1, -1):
        d.append(n * var_w * d[-1] * dphi_sq(act, q[l]))
    return np.array(q), np.array(d[::-1])


backend.seed(lesson.seed)
x_in = normal((BATCH, WIDTH), 1.0)
r_in = normal((BATCH, WIDTH), 1.0)
def residuals(act, var_w, q, d):
    """ln(measured / predicted) of each layer's forward and backward factor, the
    prediction taken at the measured q of the layer below (layers 2..L)."""
    v = 1 / (3 * WIDTH) if var_w is None else var_w
    fwd = [np.log(q[l + 1] / (WIDTH * v * phi_sq(act, q[l]))) for l in range(DEPTH - 1)]
    bwd = [np.log(d[l] / (WIDTH * v * dphi_sq(act, q[l]) * d[l + 1]))
           for l in range(DEPTH - 1)]
    return fwd, bwd


def verdict(e):
    """A layer factor's log error, mean + var/2 (a log-normal's mean), in standard
    errors of the mean."""
    e = np.asarray(e)
    return abs(e.mean() + e.var() / 2) / (e.std(ddof=1) / np.sqrt(e.size))


results, verdicts = {}, {}
for act in ACTIVATIONS:
    for scheme, var_w in SCHEMES.items():
        runs, fwd, bwd = [], [], []
        for _ in range(REPEATS):
            q, d, w_rms = run_stack(build_stack(act, var_w), x_in, r_in)
            f, b = residuals(act, var_w, q, d)
            runs.append((q, d, w_rms))
            fwd += f
            bwd += b
        q, d, w_rms = (np.exp(np.log(np.array(a)).mean(axis=0)) for a in zip(*runs))
        results[act, scheme] = (q, d, w_rms) + predict(act, var_w)
        verdicts[act, scheme] = verdict(fwd), verdict(bwd)


def table_and_checks(title, measured, predicted, which, direction):
    """Print measured (predicted) per activation and scheme; check the worst scheme's
    layer factor (verdicts[...][which]) within 4 standard errors of its prediction."""
    print(f"  {title:>38}: " + " | ".join(f"{s:>18}" for s in SCHEMES))
    for act in ACTIVATIONS:
        print(f"  {act:>38}: " + " | ".join(
            f"{measured(results[act, s]):8.1e} ({predicted(results[act, s]):7.1e})"
            for s in SCHEMES))
    for act in ACTIVATIONS:
        errs = {s: verdicts[act, s][which] for s in SCHEMES}
        worst = max(errs, key=errs.get)
        lesson.check(f"{act}: {direction} layer factor vs prediction, |log error| "
                     f"in standard errors, worst of 5 ({worst})", errs[worst], 4)


table_and_checks("q_L = E[h_L^2] measured (predicted)", lambda r: r[0][-1],
                 lambda r: r[3][-1], 0, "forward")
he = results["ReLU", "He 2/n_in"][0]
xavier = results["ReLU", "Xavier 2/(n_in+n_out)"][0]
lesson.check_that("ReLU: He holds (q_L / q_1 in [1/4, 4]), Xavier halves per layer "
                  "(q_L / q_1 < 1e-5)", 1 / 4 < he[-1] / he[0] < 4
                  and xavier[-1] / xavier[0] < 1e-5,
                  f"He {he[-1] / he[0]:.2f}, Xavier {xavier[-1] / xavier[0]:.1e}")

fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), sharey=True)
colours = dict(zip(SCHEMES, ["C3", "C0", "C2", "C1", "C4"]))
for ax, act in zip(axes, ACTIVATIONS):
    for s in SCHEMES:
        q, _, _, q_pred, _ = results[act, s]
        layers = np.arange(1, DEPTH + 1)
        ax.semilogy(layers, np.sqrt(q), "o", ms=3, color=colours[s], label=s)
        ax.semilogy(layers, np.sqrt(q_pred), "-", lw=1, color=colours[s])
    ax.set_title(f"{act}: RMS of h_l (dots), prediction (lines)", fontsize=9)
    ax.set_xlabel("layer l")
axes[0].set_ylabel("RMS pre-activation")
axes[0].legend(fontsize=7)
lesson.savefig(fig, "activations_by_depth.png")

# %% [markdown]
# ## 3. The backward pass: the same factor, with $n_\text{out}$ and $\varphi'$
#
# Backpropagate a random $r \sim N(0, 1)$ from the top (the gradient of
# $\sum r \cdot \text{output}$) through each layer's `backward`. With
# $\delta_l = \partial L / \partial h_l$, the chain rule gives
# $\delta_l = (\delta_{l+1} W_{l+1}^\top) \odot \varphi'(h_l)$, and the argument of
# section 1, now summing over the $n_\text{out}$ columns of $W^\top$, gives
# $$E[\delta_l^2] = n_\text{out} \mathrm{Var}(w) \, E[\varphi'(h_l)^2] \,
# E[\delta_{l+1}^2]$$
# (treating $W$ in the backward as independent of the forward's $h$, the usual
# "gradient independence" approximation). For ReLU $E[\varphi'^2] = 1/2$: the
# backward factor is the forward's, so He holds both (for a square layer; otherwise
# forward asks $2/n_\text{in}$ and backward $2/n_\text{out}$, and Xavier's
# $2/(n_\text{in} + n_\text{out})$ is the compromise it was designed as, for the
# linear regime). For tanh the two differ: $E[\tanh'(h)^2]$ is small when tanh is
# saturated, so under $N(0, 1)$ the forward holds (saturated at $\pm 1$) while the
# backward factor is $256 \, E[\tanh'^2]$, which may still be far from 1.
#
# The weight gradient is $\partial L / \partial W_l = \varphi(h_{l-1})^\top
# \delta_l$: forward times backward. In a stack of square layers the forward's
# $\chi^{l-1}$ times the backward's $\chi^{L-l}$ is $\chi^{L-1}$ at EVERY depth:
# the weight gradients have one size along the stack under every scheme (checked),
# but that size is $10^{25}$ under $N(0, 1)$ and $10^{-14}$ under DCGAN's scale.
# What does vary by depth is $\delta_1$, the gradient with respect to the input,
# and in a GAN that is exactly what G learns from: the gradient of D's output with
# respect to D's input, through all of D's layers. Same check as in section 2.

# %%
lesson.section("3. gradients by depth, through each layer's backward")
table_and_checks("E[delta_1^2] measured (predicted)", lambda r: r[1][0],
                 lambda r: r[4][0], 1, "backward")
spreads = {s: results["ReLU", s][2].max() / results["ReLU", s][2].min()
           for s in SCHEMES}
print("  ReLU: RMS of dL/dW_l, smallest and largest over depth: " + ", ".join(
    f"{s} {results['ReLU', s][2].min():.1e}..{results['ReLU', s][2].max():.1e}"
    for s in SCHEMES))
lesson.check_that("ReLU: under every scheme dL/dW_l has one size at every depth "
                  "(max / min < 3), though the sizes span > 1e35",
                  max(spreads.values()) < 3 and
                  results["ReLU", "N(0, 1)"][2].min()
                  / results["ReLU", "DCGAN 0.02^2"][2].max() > 1e35,
                  f"worst max / min {max(spreads.values()):.2f}")
tanh_q = results["tanh", "N(0, 1)"]
print(f"  tanh under N(0, 1): q_L = {tanh_q[0][-1]:.0f} (saturated), backward "
      f"factor 256 E[tanh'^2] = {WIDTH * dphi_sq('tanh', tanh_q[3][-1]):.1f}")

fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), sharey=True)
for ax, act in zip(axes, ACTIVATIONS):
    for s in SCHEMES:
        _, d, w_rms, _, d_pred = results[act, s]
        layers = np.arange(1, DEPTH + 1)
        ax.semilogy(layers, np.sqrt(d), "o", ms=3, color=colours[s], label=s)
        ax.semilogy(layers, np.sqrt(d_pred), "-", lw=1, color=colours[s])
        ax.semilogy(layers, w_rms, ":", lw=1, color=colours[s])
    ax.set_title(f"{act}: RMS dL/dh_l (dots, lines: prediction)\n"
                 "dotted: RMS dL/dW_l", fontsize=9)
    ax.set_xlabel("layer l")
axes[0].set_ylabel("RMS gradient")
axes[0].legend(fontsize=7)
lesson.savefig(fig, "gradients_by_depth.png")

# %% [markdown]
# ## 4. Convolutions, and $N(0, 0.02^2)$ in minigan's DCGAN
#
# A `Conv2d` output is a sum over $C_\text{in}$ channels and $k \times k$ taps, so
# $n_\text{in} = C_\text{in} k^2$ (and minigan's `Conv2d` uses exactly that for its
# default). The lesson checks it on 10 layers of 3x3 convolutions, 32 channels, ReLU,
# without padding (so every output sees all $C k^2$ inputs; padding would give the
# border pixels fewer): He with $n_\text{in} = C k^2$ holds, and He with the
# mistaken $n_\text{in} = C$ grows by $k^2 = 9$ per layer.
#
# A transposed convolution with kernel 4, stride 2 is different again: each output
# pixel receives $2 \times 2$ of the 16 taps from each input channel, so its
# effective $n_\text{in}$ is $C_\text{in} k^2 / s^2 = 4 C_\text{in}$ (fewer on the
# border rows). With $N(0, 0.02^2)$ the factor $0.02^2 \, n_\text{in}$ of each of
# minigan's `dcgan` layers at width 64 on 32x32 pictures is printed below: G's
# layers are all below 1/2, D's first layer (3 channels) is 0.02. A ReLU halves it
# again. Without BatchNorm, G's output would be tiny and its tanh nearly linear
# around 0: every picture a flat grey. The DCGAN paper uses BatchNorm in every layer
# but G's last and D's first, and BatchNorm resets each channel to mean 0 and
# variance $\gamma^2 \approx 1$ whatever the weights' scale, so only the factor of
# the layer after the last BatchNorm remains. The lesson runs the real G (dcgan
# init) with its BatchNorm layers and again with them skipped, and compares the
# second moment just before the tanh with the product of the per-layer factors
# (times 1/2 per ReLU, and a border correction: on the outermost rows and columns
# of a k4 s2 p1 transposed convolution an output gets 1 tap a side instead of 2).
# One G's gain scatters by some 10 % (its last layer has 3 output channels, each one
# set of weights shared by every pixel; measured over seeds), so the tolerance is a
# factor 1.4: without BatchNorm the prediction with it is 1000x off.

# %%
lesson.section("4. conv stacks: n_in = C_in k^2; N(0, 0.02^2) in minigan's dcgan")
C, K3, CONV_DEPTH, SIDE = 32, 3, 10, 32
conv_q = {}
backend.seed(lesson.seed + 1)
x_img = normal((8 if lesson.quick else 16, C, SIDE, SIDE), 1.0)
for name, fan_in in (("He, n_in = C k^2", C * K3 * K3), ("He, n_in = C (wrong)", C)):
    chi = C * K3 * K3 * (2 / fan_in) / 2
    runs, errors = [], []
    for _ in range(REPEATS):
        q, a = [], x_img
        with no_grad():
            for _ in range(CONV_DEPTH):
                conv = Conv2d(C, C, K3, 1, 0, bias=False)
                conv.params["W"][...] = normal(conv.params["W"].shape, 2 / fan_in)
                h = conv(a)
                q.append(second_moment(h))
                a = xp.maximum(h, 0)
        runs.append(q)
        errors += list(np.log(np.array(q[1:]) / np.array(q[:-1]) / chi))
    conv_q[name] = (np.exp(np.log(np.array(runs)).mean(axis=0)), chi)
    print(f"  {name:>20}: measured per-layer factor "
          f"{chi * np.exp(np.mean(errors) + np.var(errors) / 2):.3f}, predicted "
          f"C k^2 Var(w) / 2 = {chi:.3f}")
    lesson.check(f"conv {name}: layer factor vs prediction, |log error| in standard "
                 "errors", verdict(errors), 4)

backend.seed(lesson.seed)
G, D = build("dcgan", (3, 32, 32), 100, width=64)
dcgan_init(G)
dcgan_init(D)
factors = []
for who, model in (("G", G), ("D", D)):
    row = []
    for m in model:
        if isinstance(m, Dense):
            n_eff = m.in_features
        elif isinstance(m, ConvTranspose2d):
            n_eff = m.in_ch * m.k * m.k // m.stride ** 2
        elif isinstance(m, Conv2d):
            n_eff = m.in_ch * m.k * m.k
        else:
            continue
        row.append(0.02 ** 2 * n_eff)
        if who == "G":
            factors.append((m, n_eff))
    print(f"  dcgan {who} (width 64), 0.02^2 n_in per layer: "
          + ", ".join(f"{f:.3f}" for f in row))

N_G = 32 if lesson.quick else 128
z = normal((N_G, 100), 1.0)
layers = list(G)[:-1]                                 # all but the final tanh
with no_grad():
    h_bn = Sequential(*layers)(z)
    plain = [m for m in layers if not isinstance(m, (BatchNorm1d, BatchNorm2d))]
    h_plain = Sequential(*plain)(z)
q_bn, q_plain = second_moment(h_bn), second_moment(h_plain)


def border(m, side_in):
    """The mean over output pixels of (taps received / 4): 1 - 1/(2 side_in) a side."""
    return (1 - 1 / (2 * side_in)) ** 2 if isinstance(m, ConvTranspose2d) else 1.0


sides = {factors[i][0]: s for i, s in zip(range(1, 4), (4, 8, 16))}
pred_plain = 1.0                                      # E[z^2]
for i, (m, n_eff) in enumerate(factors):
    pred_plain *= 0.02 ** 2 * n_eff * border(m, sides.get(m, 1))
    if i < len(factors) - 1:
        pred_plain *= 0.5                             # the ReLU after it
last, n_last = factors[-1]
pred_bn = 0.5 * 0.02 ** 2 * n_last * border(last, 16)
print(f"  G's pre-tanh E[h^2]: without BatchNorm {q_plain:.2e} (predicted "
      f"{pred_plain:.2e}), with BatchNorm {q_bn:.3f} (predicted {pred_bn:.3f})")
lesson.check("G without BatchNorm: |ln(measured / predicted)| pre-tanh E[h^2]",
             abs(np.log(q_plain / pred_plain)), np.log(1.4))
lesson.check("G with BatchNorm: |ln(measured / predicted)|, only the last factor",
             abs(np.log(q_bn / pred_bn)), np.log(1.4))
lesson.check_that("BatchNorm rescues G: its pre-tanh RMS > 10x the one without",
                  np.sqrt(q_bn / q_plain) > 10,
                  f"{np.sqrt(q_bn):.3f} vs {np.sqrt(q_plain):.4f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for name, (q, chi) in conv_q.items():
    layers_c = np.arange(1, CONV_DEPTH + 1)
    axes[0].semilogy(layers_c, np.sqrt(q), "o", ms=3, label=name)
    axes[0].semilogy(layers_c, np.sqrt(q[0] * chi ** (layers_c - 1)), "-", lw=1,
                     color=axes[0].lines[-1].get_color())
axes[0].set_title("3x3 conv + ReLU, 32 channels: RMS by depth", fontsize=9)
axes[0].set_xlabel("layer l")
axes[0].legend(fontsize=7)
with no_grad():
    pics_bn, pics_plain = G[-1](h_bn[:8]), xp.tanh(h_plain[:8])
grid = np.concatenate([np.concatenate(list(H(p).transpose(0, 2, 3, 1)), axis=1)
                       for p in (pics_bn, pics_plain)], axis=0)
axes[1].imshow(np.clip((grid + 1) / 2, 0, 1), interpolation="nearest")
axes[1].set_title("untrained dcgan G, N(0, 0.02^2): top with BatchNorm,\n"
                  "bottom without (tanh of a tiny signal: flat grey)", fontsize=9)
axes[1].set_axis_off()
lesson.savefig(fig, "conv_and_dcgan.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. A Dense layer whose input comes from a ReLU: why does the output's variance
#    follow the input's second moment $E[x^2]$ and not its variance, and by how much
#    would the variance-based prediction have missed in section 1?
# 2. Under $N(0, 1)$ weights, the tanh stack neither explodes nor vanishes forward.
#    Why, and why is it still a bad initialisation (what does section 3 measure)?
# 3. DCGAN's $N(0, 0.02^2)$ shrinks the signal by about 20x per layer of G at width
#    64. Why did the DCGAN paper's networks train anyway, and which layers of G does
#    the scale still matter for?
#
# Short answers: `lessons/ANSWERS.md`.
