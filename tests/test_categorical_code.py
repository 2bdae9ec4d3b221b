"""CategoricalCode: z[:, 0] -> a one-hot code over K equal-mass bins; mlp2d's z_categories option."""
import math

import numpy as np
import pytest

from minigan import backend
from minigan.gradcheck import check_layer
from minigan.layers import CategoricalCode, CodedDense, Dense, Sequential
from minigan.models import build


def phi(x):
    """The standard normal CDF, written independently of the layer's inverse-CDF bin edges."""
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def test_code_is_the_equal_mass_bin_and_the_rest_is_scaled(xp, rng):
    z = xp.asarray(rng.standard_normal((200, 4)))
    y = backend.to_numpy(CategoricalCode(7, noise_scale=0.25)(z))
    z = backend.to_numpy(z)
    assert y.shape == (200, 7 + 3)
    expected = [min(int(phi(v) * 7), 6) for v in z[:, 0]]
    np.testing.assert_array_equal(y[:, :7].argmax(axis=1), expected)
    np.testing.assert_array_equal(y[:, :7].sum(axis=1), 1.0)  # exactly one 1 per row, the rest 0
    np.testing.assert_allclose(y[:, 7:], 0.25 * z[:, 1:], rtol=1e-15)


def test_categories_are_equally_likely_under_the_normal_noise(xp):
    n, k = 100_000, 10
    z = xp.asarray(backend.rng(5).standard_normal((n, 1)))
    counts = backend.to_numpy(CategoricalCode(k)(z)).sum(axis=0)
    standard_error = math.sqrt(n * (1 / k) * (1 - 1 / k))
    assert np.abs(counts - n / k).max() < 5 * standard_error, counts


def test_gradient_matches_central_differences(xp, float64, rng):
    """Zero along z0 (the code is constant between bin edges), the noise scale along the rest.
    Tolerance 1e-7 as for every layer; the test points lie far from a bin edge compared with the step."""
    layer = CategoricalCode(5, noise_scale=0.3)
    z = xp.asarray(rng.standard_normal((6, 4)))
    assert max(check_layer(layer, z).values()) < 1e-7
    layer(z)
    grad = backend.to_numpy(layer.backward(xp.ones((6, 8))))
    np.testing.assert_array_equal(grad[:, 0], 0.0)
    np.testing.assert_allclose(grad[:, 1:], 0.3)


def test_coded_dense_equals_the_code_followed_by_a_dense(xp, float64, rng):
    """The fused layer gathers rows instead of multiplying by the one-hot: same parameters from the same
    seed, and the same output, input gradient and parameter gradients as the plain pair."""
    backend.seed(7)
    fused = CodedDense(6, 4, 5, noise_scale=0.4)
    backend.seed(7)
    dense = Dense(6 + 3, 5)
    pair = Sequential(CategoricalCode(6, noise_scale=0.4), dense)
    z, grad = xp.asarray(rng.standard_normal((40, 4))), xp.asarray(rng.standard_normal((40, 5)))
    assert float(abs(fused(z) - pair(z)).max()) < 1e-14
    assert float(abs(fused.backward(grad) - pair.backward(grad)).max()) < 1e-14
    for name in ("W", "b"):
        assert float(abs(fused.grads[name] - dense.grads[name]).max()) < 1e-13, name


def test_coded_dense_gradients_match_central_differences(xp, float64, rng):
    errors = check_layer(CodedDense(5, 4, 3, noise_scale=0.3), xp.asarray(rng.standard_normal((6, 4))))
    assert set(errors) == {"x", "W", "b"} and max(errors.values()) < 1e-7, errors


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="categories >= 2"):
        CategoricalCode(1)
    with pytest.raises(ValueError, match="noise_scale > 0"):
        CategoricalCode(4, noise_scale=0.0)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, \*\)"):
        CategoricalCode(4)(np.zeros(3))


def test_mlp2d_with_a_code_is_a_mixture_of_generators(xp):
    """Samples that share a category and the other noise coordinates give the same point, whatever
    z0 is inside the category's bin; a different category moves the point."""
    backend.seed(0)
    G, _ = build("mlp2d", (2,), z_dim=3, width=16, z_categories=4, z_noise_scale=0.5)
    assert isinstance(G[0], CodedDense) and G[0].params["W"].shape == (4 + 2, 16)
    rest = [0.3, -1.2]
    z = backend.asarray([[-0.1, *rest], [-0.5, *rest], [0.1, *rest]], dtype=backend.default_dtype())
    x = backend.to_numpy(G(z))  # bins of 4: (-inf, -0.674], (-0.674, 0], (0, 0.674], (0.674, inf)
    np.testing.assert_array_equal(x[0], x[1])
    assert np.abs(x[0] - x[2]).max() > 1e-4


def test_the_code_options_belong_to_mlp2d_only():
    with pytest.raises(ValueError, match="arch 'dcgan' does not take the option z_categories"):
        build("dcgan", (1, 8, 8), z_dim=4, z_categories=10)
    with pytest.raises(ValueError, match="z_noise_scale .* needs z_categories"):
        build("mlp2d", (2,), z_dim=4, z_noise_scale=0.1)
