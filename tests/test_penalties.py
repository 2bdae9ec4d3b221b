"""The R1 penalty: its finite-difference parameter gradient against central differences of R1 itself."""
import numpy as np
import pytest

from minigan import backend
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.layers import Dense, LeakyReLU, Sequential, Tanh
from minigan.models import build
from minigan.optim import Adam
from minigan.penalties import input_gradient, r1_penalty
from minigan.train import GAN


def r1_exact(D, x, gamma):
    """gamma/2 * mean_i ||dD(x_i)/dx_i||^2, the input gradient taken by an ordinary backward pass."""
    g = input_gradient(D, x)
    return 0.5 * gamma * float((g * g).sum(axis=1).mean())


def test_r1_gradient_matches_central_differences_of_r1(xp, float64, rng):
    """A smooth D (tanh), float64: the Hessian-vector difference quotient with a tiny step is the exact
    gradient of R1 up to O(step^2); central differences of R1 in each parameter (h = 1e-6) agree
    to rel_error < 1e-6."""
    D = Sequential(Dense(3, 6), Tanh(), Dense(6, 4), Tanh(), Dense(4, 1))
    x = backend.asarray(rng.standard_normal((5, 3)))
    gamma = 2.5
    D.zero_grad()
    value = r1_penalty(D, x, gamma, step=1e-5)
    after = {k: g.copy() for k, _, g in D.parameters()}
    input_gradient(D, x)  # asks D for no parameter gradient
    assert all(bool((g == after[k]).all()) for k, _, g in D.parameters())
    assert value == pytest.approx(r1_exact(D, x, gamma), rel=1e-12)
    for name, param, grad in D.parameters():
        expected = numerical_gradient(lambda: r1_exact(D, x, gamma), param)
        assert rel_error(grad, expected) < 1e-6, name


def test_r1_training_flattens_d_at_the_data(xp, rng):
    """Adam on the penalty alone drives a LeakyReLU D's slope at the real points towards 0."""
    backend.seed(0)
    D = Sequential(Dense(2, 32), LeakyReLU(0.2), Dense(32, 1))
    x = backend.asarray(rng.standard_normal((64, 2)), dtype=backend.default_dtype())
    opt = Adam(D, lr=1e-2)
    first = r1_exact(D, x, 1.0)
    for _ in range(100):
        D.zero_grad()
        r1_penalty(D, x, gamma=1.0)
        opt.step()
    assert r1_exact(D, x, 1.0) < 0.05 * first, (first, r1_exact(D, x, 1.0))


def fresh_toy_pair():
    backend.seed(0)
    return build("mlp2d", (2,), z_dim=4, width=16, depth=2, pack=2)


def test_gan_adds_r1_to_d_loss_and_refuses_bad_settings(xp):
    real = backend.asarray(np.random.default_rng(1).standard_normal((32, 2)), dtype=backend.default_dtype())
    loss_d = {gamma: GAN(*fresh_toy_pair(), z_dim=4, pack=2, r1=gamma).train_step(real)["loss_d"]
              for gamma in (0.0, 10.0)}
    _, D = fresh_toy_pair()  # the first step's D, before its update
    penalty = r1_exact(D, real.reshape(16, 4), 10.0)
    assert penalty > 0
    assert loss_d[10.0] - loss_d[0.0] == pytest.approx(penalty, rel=1e-4)
    with pytest.raises(ValueError, match="r1 must be a penalty weight >= 0"):
        GAN(*fresh_toy_pair(), z_dim=4, pack=2, r1=-1.0)
    G, D = build("dcgan", (1, 8, 8), z_dim=4, width=4)
    with pytest.raises(ValueError, match="needs a discriminator that judges each sample on its own; "
                                         "this one has BatchNorm2d"):
        GAN(G, D, z_dim=4, r1=1.0)
