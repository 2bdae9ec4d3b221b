"""Losses: gradients vs central differences, values vs direct formulas, stability at huge logits, errors."""
import math
import re
import warnings

import numpy as np
import pytest

from minigan import backend
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.losses import (DISCRIMINATOR_KINDS, GENERATOR_KINDS, bce_with_logits, discriminator_loss,
                            generator_loss)

GRAD_TOL = 1e-7  # float64 central differences, as for the layers (minigan.gradcheck's documented tolerance)
SHAPES = [(5,), (5, 1)]


def draw_logits(rng, shape, scale=2.0):
    """Random logits kept 0.05 away from the hinge kinks at +-1, where the derivative jumps."""
    x = scale * rng.standard_normal(shape)
    near_kink = abs(abs(x) - 1) < 0.05
    x[near_kink] += 0.2 * np.sign(x[near_kink])
    return x


def sigmoid64(x):
    return 1 / (1 + np.exp(-x))


# -- gradients against central differences (float64) -------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_bce_gradient_with_array_targets(xp, rng, shape):
    x = xp.asarray(draw_logits(rng, shape))
    t = xp.asarray(rng.uniform(0, 1, shape))  # soft labels exercise the general t
    _, grad = bce_with_logits(x, t)
    numeric = numerical_gradient(lambda: bce_with_logits(x, t)[0], x)
    assert rel_error(grad, numeric) < GRAD_TOL


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", DISCRIMINATOR_KINDS)
def test_discriminator_gradients(xp, rng, kind, shape):
    real = xp.asarray(draw_logits(rng, shape))
    fake = xp.asarray(draw_logits(rng, (3,) + shape[1:]))  # a different N: each mean has its own 1/N
    _, grad_real, grad_fake = discriminator_loss(real, fake, kind)

    def loss():
        return discriminator_loss(real, fake, kind)[0]

    assert rel_error(grad_real, numerical_gradient(loss, real)) < GRAD_TOL
    assert rel_error(grad_fake, numerical_gradient(loss, fake)) < GRAD_TOL


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", GENERATOR_KINDS)
def test_generator_gradients(xp, rng, kind, shape):
    fake = xp.asarray(draw_logits(rng, shape))
    _, grad = generator_loss(fake, kind)
    numeric = numerical_gradient(lambda: generator_loss(fake, kind)[0], fake)
    assert rel_error(grad, numeric) < GRAD_TOL


# -- values against direct formulas (float64 NumPy, moderate logits) -------------------------

def direct_discriminator_loss(r, f, kind):
    if kind in ("bce", "minimax", "nonsaturating"):
        return -np.mean(np.log(sigmoid64(r))) - np.mean(np.log(1 - sigmoid64(f)))
    if kind == "lsgan":
        return 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2)
    if kind == "hinge":
        return np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f))
    return np.mean(f) - np.mean(r)


def direct_generator_loss(f, kind):
    return {"minimax": np.mean(np.log(1 - sigmoid64(f))), "nonsaturating": -np.mean(np.log(sigmoid64(f))),
            "lsgan": 0.5 * np.mean((f - 1) ** 2), "hinge": -np.mean(f), "wasserstein": -np.mean(f)}[kind]


@pytest.mark.parametrize("kind", DISCRIMINATOR_KINDS)
def test_discriminator_values(xp, rng, kind):
    r, f = draw_logits(rng, (6, 1), scale=4), draw_logits(rng, (4, 1), scale=4)
    value, _, _ = discriminator_loss(xp.asarray(r), xp.asarray(f), kind)
    assert isinstance(value, float)
    assert value == pytest.approx(direct_discriminator_loss(r, f, kind), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("kind", GENERATOR_KINDS)
def test_generator_values(xp, rng, kind):
    f = draw_logits(rng, (6,), scale=4)
    value, _ = generator_loss(xp.asarray(f), kind)
    assert isinstance(value, float)
    assert value == pytest.approx(direct_generator_loss(f, kind), rel=1e-12, abs=1e-15)


def test_bce_value_and_scalar_vs_array_targets(xp, rng):
    x = draw_logits(rng, (7, 1))
    t = rng.uniform(0, 1, (7, 1))
    direct = -np.mean(t * np.log(sigmoid64(x)) + (1 - t) * np.log(1 - sigmoid64(x)))
    assert bce_with_logits(xp.asarray(x), xp.asarray(t))[0] == pytest.approx(direct, rel=1e-12)
    v_scalar, g_scalar = bce_with_logits(xp.asarray(x), 1.0)
    v_array, g_array = bce_with_logits(xp.asarray(x), xp.ones((7, 1)))
    assert v_scalar == v_array and rel_error(g_scalar, g_array) == 0


def test_bce_kinds_are_aliases_for_the_discriminator(xp, rng):
    r, f = xp.asarray(draw_logits(rng, (4, 1))), xp.asarray(draw_logits(rng, (4, 1)))
    reference = discriminator_loss(r, f, "bce")
    for alias in ("minimax", "nonsaturating"):
        loss, grad_real, grad_fake = discriminator_loss(r, f, alias)
        assert loss == reference[0]
        assert rel_error(grad_real, reference[1]) == 0 and rel_error(grad_fake, reference[2]) == 0


# -- dtype and shape are preserved --------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradients_keep_shape_and_dtype(xp, rng, dtype, shape):
    x = xp.asarray(draw_logits(rng, shape), dtype=dtype)
    grads = [bce_with_logits(x, 0.0)[1]]
    grads += [g for kind in DISCRIMINATOR_KINDS for g in discriminator_loss(x, x, kind)[1:]]
    grads += [generator_loss(x, kind)[1] for kind in GENERATOR_KINDS]
    for g in grads:
        assert g.shape == x.shape and g.dtype == x.dtype
        assert backend.get_array_module(g) is xp


# -- stability at huge logits -------------------------------------------------------------

@pytest.fixture
def strict_floats():
    """Overflow, invalid operations and division by zero raise; so does any warning.
    Underflow is allowed: exp(-1e4) = 0 is the correctly rounded result, not an error."""
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("x, t, value, grad", [
    (1e4, 0, 1e4, 1.0), (-1e4, 0, 0.0, 0.0), (1e4, 1, 0.0, 0.0), (-1e4, 1, 1e4, -1.0),
    (1e2, 0, 1e2, 1.0), (-1e2, 1, 1e2, -1.0),
])
def test_bce_exact_limits(xp, strict_floats, dtype, x, t, value, grad):
    v, g = bce_with_logits(xp.asarray([[x]], dtype=dtype), t)
    assert v == value and float(g[0, 0]) == grad


def test_bce_tiny_tail_has_no_cancellation(xp, strict_floats):
    """bce(100, 1) = log1p(exp(-100)) = 3.7e-44: the large terms cancel exactly, the tail survives."""
    value, _ = bce_with_logits(xp.asarray([100.0]), 1.0)
    assert value == pytest.approx(math.exp(-100), rel=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_all_losses_finite_at_huge_logits(xp, strict_floats, dtype):
    x = xp.asarray([[1e4], [-1e4], [1e2], [-1e2]], dtype=dtype)
    results = [bce_with_logits(x, 1.0)]
    results += [discriminator_loss(x, x, kind) for kind in DISCRIMINATOR_KINDS]
    results += [generator_loss(x, kind) for kind in GENERATOR_KINDS]
    for value, *grads in results:
        assert math.isfinite(value)
        assert all(bool(xp.isfinite(g).all()) for g in grads)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_generator_limits(xp, strict_floats, dtype):
    x = xp.asarray([1e4, -1e4], dtype=dtype)
    # minimax: -mean softplus(x) = -(1e4 + 0) / 2; gradient -sigmoid(x)/N
    value, grad = generator_loss(x, "minimax")
    assert value == -5e3 and backend.to_numpy(grad).tolist() == [-0.5, 0.0]
    # non-saturating: mean softplus(-x) = (0 + 1e4) / 2; gradient (sigmoid(x) - 1)/N
    value, grad = generator_loss(x, "nonsaturating")
    assert value == 5e3 and backend.to_numpy(grad).tolist() == [0.0, -0.5]


def test_minimax_saturates_where_nonsaturating_does_not(xp):
    """When D confidently rejects a fake (logit -10), minimax's gradient is ~e^10 times smaller."""
    x = xp.asarray([[-10.0]])
    _, g_minimax = generator_loss(x, "minimax")
    _, g_nonsat = generator_loss(x, "nonsaturating")
    g_minimax, g_nonsat = float(g_minimax[0, 0]), float(g_nonsat[0, 0])
    assert g_minimax == pytest.approx(-sigmoid64(-10.0), rel=1e-12)  # ~ -4.5e-5
    assert g_nonsat == pytest.approx(sigmoid64(-10.0) - 1, rel=1e-12)  # ~ -1
    assert g_nonsat < 0 and g_minimax < 0  # both push the logit up
    assert abs(g_nonsat) > 1000 * abs(g_minimax)


# -- errors ---------------------------------------------------------------------------------

def test_unknown_kind_names_it_and_the_allowed_ones(xp):
    x = xp.zeros((3, 1))
    with pytest.raises(ValueError, match=r"'bogus'.*'minimax'.*'wasserstein'"):
        generator_loss(x, "bogus")
    with pytest.raises(ValueError, match=r"'bogus'.*'bce'.*'hinge'"):
        discriminator_loss(x, x, "bogus")
    with pytest.raises(ValueError, match=r"'bce'"):  # bce names no single generator loss
        generator_loss(x, "bce")


@pytest.mark.parametrize("shape", [(4, 2), (4, 1, 1), (), (0, 1)])
def test_bad_logit_shapes_are_rejected(xp, shape):
    bad, good = xp.zeros(shape), xp.zeros((4, 1))
    expected = r"\(N,\) or \(N, 1\).*got " + re.escape(str(shape))
    with pytest.raises(ValueError, match=expected):
        bce_with_logits(bad, 1.0)
    with pytest.raises(ValueError, match=expected):
        generator_loss(bad)
    with pytest.raises(ValueError, match="real_logits.*" + expected):
        discriminator_loss(bad, good)
    with pytest.raises(ValueError, match="fake_logits.*" + expected):
        discriminator_loss(good, bad)


def test_real_and_fake_of_different_dims_are_rejected(xp):
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        discriminator_loss(xp.zeros((4, 1)), xp.zeros(4))


def test_targets_that_would_broadcast_are_rejected(xp):
    """(N, 1) logits with (N,) targets would silently broadcast to (N, N)."""
    with pytest.raises(ValueError, match=r"targets.*\(4, 1\).*got \(4,\)"):
        bce_with_logits(xp.zeros((4, 1)), xp.ones(4))


def test_integer_logits_are_rejected(xp):
    with pytest.raises(ValueError, match="floating-point"):
        generator_loss(xp.zeros((4, 1), dtype="int64"))
