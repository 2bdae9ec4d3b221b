"""The GAN trainer: D learns, steps report their figures, NaN stops training cleanly, reproducibility."""
import math

import numpy as np
import pytest

from minigan import backend
from minigan.data import sample_toy
from minigan.losses import discriminator_loss
from minigan.models import build
from minigan.train import GAN, TrainingDiverged

FIGURES = {"loss_d", "loss_g", "d_real", "d_fake_before", "d_fake_after", "grad_norm_d", "grad_norm_g"}


def toy_gan(seed=0, **kwargs):
    backend.seed(seed)
    G, D = build("mlp2d", (2,), z_dim=4, width=32, depth=2, pack=kwargs.get("pack", 1))
    return GAN(G, D, z_dim=4, seed=seed, **kwargs)


def test_mlp2d_output_scale_multiplies_g_and_belongs_to_mlp2d_only(xp):
    z = backend.asarray(np.random.default_rng(0).standard_normal((5, 4)), dtype=backend.default_dtype())
    outputs = []
    for scale in (1.0, 2.5):
        backend.seed(3)
        G, _ = build("mlp2d", (2,), z_dim=4, width=16, output_scale=scale)
        outputs.append(backend.to_numpy(G(z)))
    np.testing.assert_allclose(outputs[1], 2.5 * outputs[0], rtol=1e-6)
    with pytest.raises(ValueError, match="arch 'dcgan' does not take the option output_scale"):
        build("dcgan", (1, 8, 8), z_dim=4, output_scale=2.0)


def d_loss_on(gan, real, z):
    fake = gan.G(z)
    loss, _, _ = discriminator_loss(gan.D(gan._packed(real)), gan.D(gan._packed(fake)))
    return loss


def test_train_step_reports_figures_and_d_learns_a_fixed_batch(xp):
    gan = toy_gan(lr_d=5e-3, lr_g=1e-6)  # G nearly frozen: D faces the same fakes every step
    real = backend.asarray(sample_toy("ring8", 128, backend.rng(1)))
    z = gan.noise(128, backend.rng(2))
    before = d_loss_on(gan, real, z)
    for _ in range(100):
        figures = gan.train_step(real)
    assert set(figures) == FIGURES and all(math.isfinite(v) for v in figures.values())
    assert 0 < figures["d_real"] < 1 and 0 < figures["d_fake_before"] < 1
    assert gan.step == 100
    after = d_loss_on(gan, real, z)
    assert after < 0.2 * before, (before, after)
    assert figures["d_real"] > figures["d_fake_before"]


def test_d_steps_and_pack(xp):
    gan = toy_gan(d_steps=3, pack=4)
    reals = [backend.asarray(sample_toy("grid25", 64, backend.rng(i))) for i in range(3)]
    figures = gan.train_step(reals)
    assert gan.d_opt.step_count == 3 and gan.g_opt.step_count == 1
    assert math.isfinite(figures["loss_g"])
    with pytest.raises(ValueError, match="expected 3 real batches"):
        gan.train_step(reals[:2])
    with pytest.raises(ValueError, match="not a multiple of pack=4"):
        gan.train_step([r[:62] for r in reals])


def test_generator_step_leaves_d_gradients_alone(xp):
    """During G's step D only passes dL/dx through; the D gradients are those of D's own step."""
    gan = toy_gan()
    real = backend.asarray(sample_toy("ring8", 64, backend.rng(0)))
    gan.train_step(real)
    d_grads = {k: g.copy() for k, _, g in gan.D.parameters()}
    assert any(float(abs(g).max()) > 0 for g in d_grads.values())
    # After train_step the D grads still hold the D step's gradients (G's step added nothing).
    gan2 = toy_gan()
    gan2.train_step(real)
    for k, _, g in gan2.D.parameters():
        assert bool((g == d_grads[k]).all())


def test_nan_loss_stops_before_the_update(xp):
    gan = toy_gan()
    real = backend.asarray(sample_toy("ring8", 64, backend.rng(0)))
    gan.train_step(real)
    params = {k: p.copy() for k, p, _ in gan.D.parameters()}
    bad = real.copy()
    bad[3, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match="discriminator loss is nan"):
        gan.train_step(bad)
    for k, p, _ in gan.D.parameters():
        assert bool((p == params[k]).all()), k
    assert gan.step == 1


def test_same_seed_same_result_and_different_seed_differs(xp):
    def run(seed):
        gan = toy_gan(seed)
        gan.fit(lambda rng, n: backend.asarray(sample_toy("ring8", n, rng)), 15, 32)
        return gan.sample(50, seed=3)

    a, b, c = run(0), run(0), run(1)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32 and a.shape == (50, 2)


def test_sample_of_an_image_gan(xp):
    backend.seed(0)
    G, D = build("dcgan", (1, 8, 8), z_dim=10, width=8)
    gan = GAN(G, D, z_dim=10)
    out = gan.sample(5, seed=1)
    assert out.shape == (5, 1, 8, 8) and out.dtype == np.float32
    assert out.min() >= -1 and out.max() <= 1
    assert G.training  # sampling switched to eval mode and back


def test_linear_schedule_run_resumed_from_a_file_is_exact(xp, tmp_path):
    """Crash at step 12 of 24, restore from a real checkpoint file, finish: bitwise the unbroken run."""
    from minigan.storage import load_arrays, save_arrays

    def sample_real(rng, n):
        return backend.asarray(sample_toy("grid25", n, rng))

    unbroken = toy_gan(lr_schedule="linear", total_steps=24, pack=2)
    unbroken.fit(sample_real, 24, 32)
    first = toy_gan(lr_schedule="linear", total_steps=24, pack=2)
    first.fit(sample_real, 12, 32)
    save_arrays(tmp_path / "ckpt.npz", first.state_dict())
    second = toy_gan(seed=5, lr_schedule="linear", total_steps=24, pack=2)  # different init: the file decides
    second.load_state_dict(load_arrays(tmp_path / "ckpt.npz"))
    second.fit(sample_real, 24, 32)
    assert second.g_opt.lr == unbroken.g_opt.lr < 1e-4
    for (name, p, _), (_, q, _) in zip(unbroken.G.parameters(), second.G.parameters()):
        assert bool((p == q).all()), name
    for (name, p, _), (_, q, _) in zip(unbroken.D.parameters(), second.D.parameters()):
        assert bool((p == q).all()), name


def test_ema_generator_is_averaged_saved_and_sampled(xp, tmp_path):
    from minigan.storage import load_arrays, save_arrays

    gan = toy_gan(ema=0.9)
    gan.fit(lambda rng, n: backend.asarray(sample_toy("ring8", n, rng)), 5, 32)
    (_, avg, _), (_, p, _) = next(gan.G_ema.parameters()), next(gan.G.parameters())
    assert float(abs(avg - p).max()) > 0  # the average lags behind G
    assert np.array_equal(gan.sample(20, seed=1), backend.to_numpy(gan.G_ema.eval()(gan.noise(20, backend.rng(1)))))
    save_arrays(tmp_path / "c.npz", gan.state_dict())
    other = toy_gan(seed=3, ema=0.9)
    other.load_state_dict(load_arrays(tmp_path / "c.npz"))
    assert np.array_equal(other.sample(20, seed=2), gan.sample(20, seed=2))
    with pytest.raises(ValueError, match="ema must be a decay"):
        toy_gan(ema=1.5)


def test_fresh_noise_trains_g_on_the_next_noise_draw(xp):
    """g_noise="fresh": D's step is unchanged, and G's gradient is the one of a new batch of fakes,
    made from the next draw of the GAN's noise stream and judged by the updated D."""
    import copy

    from minigan.losses import generator_loss

    real = backend.asarray(sample_toy("ring8", 64, backend.rng(1)))
    reuse, fresh = toy_gan(g_noise="reuse"), toy_gan(g_noise="fresh")
    G_start = copy.deepcopy(fresh.G)
    rng = copy.deepcopy(fresh.rng)
    reuse.train_step(real)
    fresh.train_step(real)
    for (_, a, _), (_, b, _) in zip(reuse.D.parameters(), fresh.D.parameters()):
        np.testing.assert_array_equal(backend.to_numpy(a), backend.to_numpy(b))  # the same D step
    fresh.noise(64, rng)                       # the D step's fakes
    z_next = fresh.noise(64, rng)              # G's step's fakes
    _, grad = generator_loss(fresh.D(G_start(z_next)))
    G_start.zero_grad()
    G_start.backward(fresh.D.backward(grad, param_grads=False), input_grad=False)
    for (name, _, expected), (_, _, used) in zip(G_start.parameters(), fresh.G.parameters()):
        np.testing.assert_allclose(backend.to_numpy(used), backend.to_numpy(expected), rtol=1e-5,
                                   atol=1e-8, err_msg=name)
    differs = [not np.allclose(backend.to_numpy(a), backend.to_numpy(b))
               for (_, a, _), (_, b, _) in zip(reuse.G.parameters(), fresh.G.parameters())]
    assert any(differs), "fresh noise must move G differently from the reused fakes"
    with pytest.raises(ValueError, match="g_noise must be"):
        toy_gan(g_noise="new")
