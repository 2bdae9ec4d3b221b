"""Lesson 04 — BatchNorm's backward pass, derived, simplified, and checked in train AND eval mode.

THE IDEA
--------
Most layers treat the samples of a batch independently. BatchNorm does not: in training mode each
output depends on EVERY input of the batch, through the batch mean and variance. Its backward must
carry those two extra paths. Done carefully they collapse into a three-term formula with a clean
geometric meaning: dx is dy with two directions projected out.

FORWARD, for one feature (BatchNorm1d: one column of x (N, C), so m = N values;
BatchNorm2d: one channel of x (N, C, H, W), so m = N*H*W values), training mode:
    mu      = (1/m) sum_i x_i
    var     = (1/m) sum_i (x_i - mu)^2          (biased: divide by m, as PyTorch normalises)
    sigma   = sqrt(var + eps)
    xhat_i  = (x_i - mu) / sigma                (mean 0, variance ~1)
    y_i     = gamma * xhat_i + beta             gamma, beta: (C,), one pair per feature
Evaluation mode replaces mu and var by running averages collected during training:
    running_mean = (1 - momentum) running_mean + momentum mu
    running_var  = (1 - momentum) running_var  + momentum var * m/(m - 1)   (unbiased, as PyTorch)

BACKWARD. Given dy_i = dL/dy_i:
    dbeta   = sum_i dy_i                        (y moves one-for-one with beta)
    dgamma  = sum_i dy_i xhat_i
    dxhat_i = gamma dy_i
Now the hard part: xhat_i depends on x_j for EVERY j. With delta_ij = 1 if i = j else 0:
    d mu / d x_j    = 1/m
    d var / d x_j   = (2/m) sum_i (x_i - mu)(delta_ij - 1/m) = (2/m)(x_j - mu)    [sum_i (x_i - mu) = 0]
    d sigma / d x_j = (1/(2 sigma)) d var/d x_j = xhat_j / m
    d xhat_i / d x_j = (delta_ij - 1/m)/sigma - (x_i - mu)/sigma^2 * xhat_j/m
                     = (1/sigma) (delta_ij - 1/m - xhat_i xhat_j / m)
So, summing over i,
    dx_j = sum_i dxhat_i d xhat_i/d x_j = (1/sigma) (dxhat_j - mean(dxhat) - xhat_j mean(dxhat * xhat))
and with dxhat = gamma dy:
    dx = gamma/sigma * (dy - mean(dy) - xhat * mean(dy * xhat))
       = gamma/sigma * (dy - (dbeta + xhat * dgamma) / m)          <- the compact form minigan uses
It reuses dbeta and dgamma, costs two reductions, and needs no mu or var, only xhat and 1/sigma.

WHAT IT MEANS. The Jacobian J = (gamma/sigma)(I - 1 1^T/m - xhat xhat^T/m) is symmetric. The vectors
1 = (1, ..., 1) and xhat are orthogonal (xhat has mean 0) and, for eps = 0, |xhat|^2 = m, so
I - 1 1^T/m - xhat xhat^T/m is the orthogonal projection that removes the components along 1 and along
xhat. Hence: sum_j dx_j = 0 and sum_j dx_j xhat_j = 0. That is intuition made exact: shifting all x's
by a constant, or stretching them about their mean, changes nothing after normalisation, so the
gradient has no component in those two directions. Its eigenvalues are gamma/sigma (m - 2 times) and 0 (twice).

A HAND EXAMPLE (m = 4, gamma = 1, beta = 0, eps = 0):
    x = [1, 1, 3, 3]:  mu = 2, var = 1, sigma = 1, xhat = [-1, -1, 1, 1]
    dy = [1, 0, 0, 0]: mean(dy) = 1/4, mean(dy * xhat) = -1/4
    dx = dy - 1/4 - xhat * (-1/4) = [1 - 1/4 - 1/4, -1/4 - 1/4, -1/4 + 1/4, -1/4 + 1/4] = [1/2, -1/2, 0, 0]
Raising y_1 can only be done by pulling x_1 away from its twin x_2; moving x_3 or x_4 would change mu
and sigma in a way that cancels.

A BATCH OF TWO. Write x = (x_1, x_2), d = (x_2 - x_1)/2, so mu = (x_1 + x_2)/2, var = d^2 and
xhat = (-r, r) with r = |d| / sqrt(d^2 + eps) (d > 0 below). With eps = 0, r = 1: the outputs are
always -1 and +1 whatever x is, and dx = 0: BatchNorm over a batch of two passes no gradient at all
(in floating point: zero up to rounding, ~1e-17). With eps > 0 (minigan's default 1e-5) r is a hair
below 1 and the projection leaves a sliver: I - 11^T/2 - xhat xhat^T/2 = ((1 - r^2)/2) [[1, -1], [-1, 1]]
with 1 - r^2 = eps / sigma^2, so
    dx = gamma eps / (2 sigma^3) * (dy_1 - dy_2) * (1, -1)          sigma = sqrt(d^2 + eps)
small (for x = (0.3, 7.0): eps / (2 sigma^3) = 1.3e-7) but not zero; it grows as the two values
approach each other (sigma^2 -> eps: dx -> gamma (dy_1 - dy_2)/(2 sqrt(eps)) (1, -1)).

EVAL MODE: mu and sigma = sqrt(running_var + eps) are constants, the layer is a per-feature affine
map, and dx = gamma/sigma * dy.

WHAT THE LESSON DOES
  1. the hand examples (m = 4, and m = 2 with eps = 0 and with eps = 1e-5) against minigan.layers.BatchNorm1d;
  2. a "long way" backward (the staged graph through mu, var, sigma, as a first derivation would
     write it) against the compact formula on random data;
  3. check_layer (central differences) for BatchNorm1d and BatchNorm2d, in train and in eval mode;
  4. the projection: sum dx = 0, sum dx*xhat = 0, the Jacobian built column by column from backward
     equals the formula, and its eigenvalues (figure batchnorm_backward.png);
  5. the running statistics follow PyTorch's rule (unbiased variance).
Run:  python lessons/04_batchnorm_backward.py [--quick] [--backend cupy] [--out DIR]
"""
from _common import Lesson, plt  # first: sets up the path, BLAS threads, matplotlib's Agg backend

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import check_layer, rel_error
from minigan.layers import BatchNorm1d, BatchNorm2d

lesson = Lesson(__file__, __doc__)
minigan.set_default_dtype("float64")
A, H = backend.asarray, backend.to_numpy
rng = backend.rng(lesson.seed)

# ---------------------------------------------------------------------------------------------
lesson.section("1. hand examples: eps = 0, then a batch of two with eps = 1e-5")
bn = BatchNorm1d(1, eps=0.0)                  # gamma = 1, beta = 0 at creation
y = bn(A([[1.0], [1.0], [3.0], [3.0]]))       # x (m=4, C=1)
dx = H(bn.backward(A([[1.0], [0.0], [0.0], [0.0]])))[:, 0]
print(f"  x = [1, 1, 3, 3] -> xhat = {H(y)[:, 0].tolist()};  dy = [1, 0, 0, 0] -> dx = {dx.tolist()}")
lesson.check("m=4: dx = [1/2, -1/2, 0, 0] (max abs err)", abs(dx - [0.5, -0.5, 0, 0]).max(), 1e-15)
bn2 = BatchNorm1d(1, eps=0.0)
y2 = bn2(A([[0.3], [7.0]]))
dx2 = H(bn2.backward(A(rng.standard_normal((2, 1)))))
print(f"  m=2: x = [0.3, 7.0] -> y = {H(y2)[:, 0].tolist()} (always -1, +1);  dx = {dx2[:, 0].tolist()}")
lesson.check("m=2, eps = 0: no gradient passes (max |dx|, zero up to rounding)", abs(dx2).max(), 1e-15)
# the same batch with minigan's default eps = 1e-5: a tiny gradient, exactly the formula above
bn3 = BatchNorm1d(1)
gamma3 = 1.7
bn3.params["gamma"][...] = gamma3
x3 = np.array([[0.3], [7.0]])
bn3(A(x3))
dy3 = np.array([[1.0], [0.0]])                # dy = (1, 0): dx = gamma eps/(2 sigma^3) (1, -1)
dx3 = H(bn3.backward(A(dy3)))[:, 0]
sigma3 = float(np.sqrt(((x3[1, 0] - x3[0, 0]) / 2) ** 2 + bn3.eps))
expected3 = gamma3 * bn3.eps / (2 * sigma3 ** 3) * (dy3[0, 0] - dy3[1, 0]) * np.array([1.0, -1.0])
print(f"  m=2, eps = {bn3.eps}: dx = {dx3.tolist()}; gamma eps/(2 sigma^3) (dy_1 - dy_2) (1, -1) = "
      f"{expected3.tolist()}")
lesson.check_that("m=2, eps = 1e-5: the gradient is small but NOT zero (1e-9 < |dx| < 1e-6)",
                  1e-9 < abs(dx3).min() <= abs(dx3).max() < 1e-6, f"|dx| = {abs(dx3).max():.2e}")
lesson.check("m=2, eps = 1e-5: dx = gamma eps/(2 sigma^3) (dy_1 - dy_2) (1, -1) (rel err)",
             rel_error(dx3, expected3), 1e-6)

# ---------------------------------------------------------------------------------------------
lesson.section("2. the long way (staged graph) vs the compact formula, x (N=16, C=5)")


def backward_long_way(x, gamma, eps, dy):
    """BatchNorm1d's dL/dx through every intermediate, as a first derivation would write it.

    x, dy (m, C); gamma (C,). Forward: mu -> xc = x - mu -> var = mean(xc^2) -> sigma -> xhat = xc / sigma.
    """
    m = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc * xc).mean(axis=0)
    sigma = np.sqrt(var + eps)
    dxhat = dy * gamma                          # y = gamma xhat + beta
    dxc = dxhat / sigma                         # xhat = xc * (1/sigma): the direct path ...
    dsigma = -(dxhat * xc).sum(axis=0) / sigma ** 2   # ... and the path through sigma
    dvar = dsigma / (2 * sigma)                 # sigma = sqrt(var + eps)
    dxc += dvar * 2 * xc / m                    # var = mean(xc^2)
    dmu = -dxc.sum(axis=0)                      # xc = x - mu
    return dxc + dmu / m                        # mu = mean(x)


x = rng.standard_normal((16, 5)) * 3 + 1
dy = rng.standard_normal((16, 5))
bn = BatchNorm1d(5)
bn.params["gamma"][...] = A(rng.uniform(0.5, 2.0, 5))
bn(A(x))
dx_compact = bn.backward(A(dy))
dx_long = backward_long_way(x, H(bn.params["gamma"]), bn.eps, dy)
lesson.check("long way vs compact gamma/sigma (dy - (dbeta + xhat dgamma)/m) (rel err)",
             rel_error(dx_long, dx_compact), 1e-12)

# ---------------------------------------------------------------------------------------------
lesson.section("3. central differences (check_layer), train and eval mode")
for label, layer, shape in [("BatchNorm1d(5)", BatchNorm1d(5), (8, 5)),
                            ("BatchNorm2d(3)", BatchNorm2d(3), (4, 3, 3, 3))]:
    layer.params["gamma"][...] = A(rng.uniform(0.5, 2.0, layer.num_features))
    layer.params["beta"][...] = A(rng.standard_normal(layer.num_features))
    for _ in range(5):                          # move the running statistics off their initial (0, 1)
        layer(A(rng.standard_normal(shape) * 2 + 0.5))
    x_in = A(rng.standard_normal(shape))
    errors = check_layer(layer.train(), x_in)
    lesson.check(f"{label} train mode (worst rel err of x, gamma, beta)", max(errors.values()), 1e-7)
    errors = check_layer(layer.eval(), x_in)
    lesson.check(f"{label} eval mode  (worst rel err of x, gamma, beta)", max(errors.values()), 1e-7)
    # eval mode's backward is a per-feature scale: gamma / sqrt(running_var + eps)
    G = A(rng.standard_normal(shape))
    layer(x_in)
    shape_c = (1, -1) + (1,) * (len(shape) - 2)
    scale = H(layer.params["gamma"]) / np.sqrt(H(layer.buffers["running_var"]) + layer.eps)
    lesson.check(f"{label} eval mode: dx = gamma/sqrt(running_var + eps) * dy (rel err)",
                 rel_error(layer.backward(G), H(G) * scale.reshape(shape_c)), 1e-14)
    layer.train()

# ---------------------------------------------------------------------------------------------
lesson.section("4. dx is dy with two directions projected out (one feature, m = 12, eps = 0)")
m = 12
bn = BatchNorm1d(1, eps=0.0)
gamma = 1.5
bn.params["gamma"][...] = gamma
x = rng.standard_normal((m, 1)) * 2 + 3
xhat = H(bn(A(x)))[:, 0] / gamma            # y = gamma xhat + beta, beta = 0
dy = rng.standard_normal(m)
dx = H(bn.backward(A(dy[:, None])))[:, 0]
sigma = float(np.sqrt(x.var()))
lesson.check("sum_j dx_j = 0 (relative to |dy|)", abs(dx.sum()) / abs(dy).sum(), 1e-13)
lesson.check("sum_j dx_j xhat_j = 0 (relative to |dy|)", abs((dx * xhat).sum()) / abs(dy).sum(), 1e-13)

# The Jacobian J[i, j] = dy_i/dx_j, row by row: backward of the unit vector e_i is J^T e_i, the gradient of
# y_i w.r.t. x: row i of J (= column i of J^T).
J_code = np.stack([H(bn.backward(A(np.eye(m)[i][:, None])))[:, 0] for i in range(m)], axis=0)
J_formula = gamma / sigma * (np.eye(m) - np.ones((m, m)) / m - np.outer(xhat, xhat) / m)
lesson.check("Jacobian from backward vs (gamma/sigma)(I - 11^T/m - xhat xhat^T/m) (rel err)",
             rel_error(J_code, J_formula), 1e-13)
lesson.check("the Jacobian is symmetric (rel err of J vs J^T)", rel_error(J_code, J_code.T), 1e-13)
eig = np.sort(np.linalg.eigvalsh((J_code + J_code.T) / 2)) * sigma / gamma
print(f"  eigenvalues of J * sigma/gamma: {np.round(eig, 12).tolist()}")
lesson.check("eigenvalues: two 0s (the removed directions), m-2 ones",
             max(abs(eig[:2]).max(), abs(eig[2:] - 1).max()), 1e-12)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
i = np.arange(m)
along_1 = np.full(m, dy.mean())
along_xhat = xhat * (dy * xhat).mean()
w = 0.2
ax1.bar(i - 1.5 * w, dy, w, label="dy")
ax1.bar(i - 0.5 * w, along_1, w, label="mean(dy) * 1   (shift)")
ax1.bar(i + 0.5 * w, along_xhat, w, label="mean(dy xhat) * xhat   (stretch)")
ax1.bar(i + 1.5 * w, dx * sigma / gamma, w, label="dx * sigma/gamma = the rest")
ax1.axhline(0, color="gray", linewidth=0.5)
ax1.set_xlabel("sample j of the batch")
ax1.set_title("dy = shift part + stretch part + dx*sigma/gamma")
ax1.legend(fontsize=7)
im = ax2.imshow(J_code * sigma / gamma, cmap="RdBu_r", vmin=-1, vmax=1)
ax2.set_title("Jacobian J[i, j] = dy_i/dx_j * sigma/gamma (from backward)")
fig.colorbar(im, ax=ax2)
lesson.savefig(fig, "batchnorm_backward.png")

# ---------------------------------------------------------------------------------------------
lesson.section("5. running statistics follow PyTorch (unbiased variance, momentum 0.1)")
bn = BatchNorm1d(3, momentum=0.1)
x = rng.standard_normal((10, 3)) * 2 + 1
bn(A(x))
expected_mean = 0.9 * 0 + 0.1 * x.mean(axis=0)
expected_var = 0.9 * 1 + 0.1 * x.var(axis=0, ddof=1)
lesson.check("running_mean = 0.9 * 0 + 0.1 * mean (rel err)", rel_error(bn.buffers["running_mean"], expected_mean),
             1e-14)
lesson.check("running_var = 0.9 * 1 + 0.1 * unbiased var (rel err)",
             rel_error(bn.buffers["running_var"], expected_var), 1e-14)

lesson.finish()
