"""minigan.vae: each derivative against central differences in float64 (tolerance 1e-7, as for the layers),
the KL's zero, training on the digits, and the samples' format and seeding."""
import math

import numpy as np
import pytest

from minigan import backend
from minigan.data import load_digits
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.train import TrainingDiverged
from minigan.vae import VAE, gaussian_reconstruction, kl_standard_normal, reparameterize, reparameterize_backward

TOL = 1e-7  # float64 central differences: a correct gradient scores ~1e-10


def _normal(xp, rng, shape, scale=1.0):
    return xp.asarray(scale * rng.standard_normal(shape))


def test_reparameterization_backward_matches_central_differences(xp, rng):
    mu, logvar, eps = (_normal(xp, rng, (5, 3)) for _ in range(3))
    G = _normal(xp, rng, (5, 3))  # f = sum(z * G): df/dz = G

    def f():
        return float((reparameterize(mu, logvar, eps) * G).sum())

    grad_mu, grad_logvar = reparameterize_backward(G, logvar, eps)
    assert rel_error(grad_mu, numerical_gradient(f, mu)) < TOL
    assert rel_error(grad_logvar, numerical_gradient(f, logvar)) < TOL


def test_kl_gradient_matches_central_differences(xp, rng):
    mu, logvar = _normal(xp, rng, (4, 6)), _normal(xp, rng, (4, 6))
    _, grad_mu, grad_logvar = kl_standard_normal(mu, logvar)
    assert rel_error(grad_mu, numerical_gradient(lambda: kl_standard_normal(mu, logvar)[0], mu)) < TOL
    assert rel_error(grad_logvar, numerical_gradient(lambda: kl_standard_normal(mu, logvar)[0], logvar)) < TOL


def test_kl_is_exactly_zero_at_the_prior_and_positive_elsewhere(xp, rng):
    zeros = xp.zeros((3, 4))
    value, grad_mu, grad_logvar = kl_standard_normal(zeros, zeros)
    assert value == 0.0 and float(abs(grad_mu).max()) == 0.0 and float(abs(grad_logvar).max()) == 0.0
    tiny = xp.full((3, 4), 1e-9)  # exp(t) - 1 - t would round to 0 here; expm1(t) - t keeps t^2 / 2
    for mu, logvar in [(tiny, zeros), (zeros, tiny), (zeros, -tiny), (_normal(xp, rng, (3, 4)), zeros),
                       (zeros, _normal(xp, rng, (3, 4)))]:
        assert kl_standard_normal(mu, logvar)[0] > 0
    # the closed form against its definition, E_q[log q(z) - log p(z)], on one latent coordinate
    m, lv = 0.7, -0.4
    expected = -0.5 * (1 + lv - m ** 2 - math.exp(lv))
    assert kl_standard_normal(xp.full((1, 1), m), xp.full((1, 1), lv))[0] == pytest.approx(expected, rel=1e-12)


def test_reconstruction_gradient_matches_central_differences(xp, rng):
    x_hat, x = _normal(xp, rng, (3, 1, 4, 4)), _normal(xp, rng, (3, 1, 4, 4))
    value, grad = gaussian_reconstruction(x_hat, x, 0.3)
    assert value == pytest.approx(float(((x - x_hat) ** 2).sum()) / (2 * 0.09 * 3), rel=1e-12)
    assert rel_error(grad, numerical_gradient(lambda: gaussian_reconstruction(x_hat, x, 0.3)[0], x_hat)) < TOL


def test_whole_elbo_gradient_for_every_parameter_with_eps_fixed(xp, float64, rng):
    vae = VAE((1, 4, 4), latent_dim=3, hidden=7, pixel_std=0.5)
    x = xp.asarray(np.tanh(rng.standard_normal((5, 1, 4, 4))))
    eps = _normal(xp, rng, (5, 3))
    vae.loss_and_grads(x, eps)
    params = [(f"encoder.{n}", p, g.copy()) for n, p, g in vae.encoder.parameters()]
    params += [(f"decoder.{n}", p, g.copy()) for n, p, g in vae.decoder.parameters()]
    assert len(params) == 12  # three Dense layers in each network, W and b each
    errors = {name: rel_error(g, numerical_gradient(lambda: vae.loss_and_grads(x, eps)["loss"], p))
              for name, p, g in params}
    assert max(errors.values()) < TOL, errors


def test_training_lowers_the_loss_on_the_digits(xp):
    images = backend.asarray(load_digits()[0][:512])
    vae = VAE(seed=0)
    history = []
    vae.fit(lambda rng, n: images[backend.asarray(rng.choice(len(images), n, replace=False))], 300, 64,
            on_step=history.append)
    first = np.mean([h["loss"] for h in history[:20]])
    last = np.mean([h["loss"] for h in history[-20:]])
    assert vae.step == 300 and last < 0.5 * first, (first, last)
    assert all(h["loss"] == pytest.approx(h["reconstruction"] + h["kl"]) for h in history)
    # the reconstruction of a trained VAE beats drawing the mean digit for every image
    reconstructed = vae.reconstruct(backend.to_numpy(images))
    host = backend.to_numpy(images)
    assert reconstructed.shape == host.shape and reconstructed.dtype == np.float32
    assert np.mean((reconstructed - host) ** 2) < 0.5 * np.mean((host.mean(axis=0) - host) ** 2)


def test_samples_shape_dtype_range_and_seed(xp):
    vae = VAE(seed=0)
    a = vae.sample(1200, seed=3, batch_size=500)
    assert a.shape == (1200, 1, 8, 8) and a.dtype == np.float32 and isinstance(a, np.ndarray)
    assert a.min() >= -1 and a.max() <= 1
    assert np.array_equal(a, vae.sample(1200, seed=3, batch_size=500))
    # in other batches the same noise, summed in another order: equal to float32 rounding
    assert np.allclose(a, vae.sample(1200, seed=3), atol=1e-6)
    assert not np.array_equal(a, vae.sample(1200, seed=4))


def test_same_seed_same_training(xp):
    images = backend.asarray(load_digits()[0][:256])

    def run(seed):
        backend.seed(seed)  # the initial weights
        vae = VAE(seed=seed, hidden=32)
        history = []
        vae.fit(lambda rng, n: images[backend.asarray(rng.choice(len(images), n, replace=False))], 5, 32,
                on_step=history.append)
        return history, vae.sample(16, seed=1)

    (h0, s0), (h1, s1), (h2, _) = run(0), run(0), run(1)
    assert h0 == h1 and np.array_equal(s0, s1)
    assert h0 != h2


def test_a_non_finite_loss_stops_training_and_changes_nothing(xp):
    vae = VAE(hidden=16)
    before = {k: backend.to_numpy(v).copy() for k, v in vae.decoder.state_dict().items()}
    x = backend.xp.full((4, 1, 8, 8), float("nan"), dtype=backend.default_dtype())
    with pytest.raises(TrainingDiverged, match="the VAE's loss is nan"):
        vae.train_step(x)
    assert vae.step == 0
    assert all(np.array_equal(before[k], backend.to_numpy(v)) for k, v in vae.decoder.state_dict().items())


@pytest.mark.parametrize("kwargs, named", [({"latent_dim": 0}, "latent_dim"), ({"hidden": 0}, "hidden"),
                                           ({"pixel_std": 0.0}, "pixel_std"),
                                           ({"pixel_std": float("inf")}, "pixel_std")])
def test_bad_settings_are_refused_by_name(kwargs, named):
    with pytest.raises(ValueError, match=named):
        VAE(**kwargs)
