"""Differentiable augmentation (minigan.augment, --augment): each transform's backward against central
differences, what each does to an image, the trainer applying it to reals and fakes with G's gradient
through it, the option's checks, reproducibility and resume."""
import copy
import json

import numpy as np
import pytest

from minigan import augment, backend
from minigan.cli import main
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.layers import Conv2d, Dense, Flatten, LeakyReLU, Reshape, Sequential, Tanh
from minigan.losses import discriminator_loss, generator_loss
from minigan.train import GAN

POLICY = "translation,cutout,brightness"
SMALL_DIGITS = ["--dataset", "digits", "--width", "8", "--z-dim", "8", "--batch-size", "16", "--frames", "0"]


def images(xp, rng, shape=(5, 2, 16, 16)):
    return xp.asarray(rng.standard_normal(shape))


@pytest.mark.parametrize("policy", [*augment.TRANSFORMS, POLICY, "brightness,translation"])
def test_backward_matches_central_differences(xp, float64, rng, policy):
    """f(x) = sum(T(x) * W) with T's random parameters fixed: backward(W) is df/dx (float64, < 1e-7)."""
    T = augment.Policy(policy)
    x = images(xp, rng)
    draws = T.draw(backend.rng(3), x.shape)
    W = images(xp, rng)
    analytic = T.backward(W, draws)
    numeric = numerical_gradient(lambda: float((T.forward(x, draws) * W).sum()), x)
    assert rel_error(analytic, numeric) < 1e-7
    assert float(abs(analytic - W).max()) > 0.1 or policy == "brightness"  # the geometric ones move W


def test_shapes_dtypes_and_ranges_of_the_draws(xp):
    T = augment.Policy(POLICY)
    for dtype in ("float32", "float64"):
        x = xp.zeros((7, 3, 16, 24), dtype=dtype)
        y, (shifts, corners, b) = T(x, backend.rng(0))
        assert y.shape == x.shape and y.dtype == x.dtype
        assert shifts.shape == corners.shape == (7, 2) and b.shape == (7,)
    many = (4000, 1, 16, 24)
    shifts = augment.draw_translation(backend.rng(1), many)
    assert set(shifts[:, 0]) == set(range(-2, 3)) and set(shifts[:, 1]) == set(range(-3, 4))  # side // 8
    corners = augment.draw_cutout(backend.rng(2), many)  # the hole (8 x 12) centred anywhere on the image
    assert set(corners[:, 0] + 4) == set(range(0, 17)) and set(corners[:, 1] + 6) == set(range(0, 25))
    b = augment.draw_brightness(backend.rng(3), many)
    assert -0.5 <= b.min() < -0.49 and 0.49 < b.max() < 0.5
    with pytest.raises(ValueError, match=r"expected images \(N, C, H, W\)"):
        T(xp.zeros((4, 64)), backend.rng(0))


def test_translation_moves_the_content_and_fills_with_zero(xp, rng):
    x = xp.asarray(rng.standard_normal((2, 3, 8, 8)))
    y = backend.to_numpy(augment.translation(x, np.array([[2, -1], [0, 1]])))
    x = backend.to_numpy(x)
    expected = np.zeros_like(x)
    expected[0, :, 2:, :-1] = x[0, :, :-2, 1:]      # down 2, left 1
    expected[1, :, :, 1:] = x[1, :, :, :-1]         # right 1
    np.testing.assert_array_equal(y, expected)


def test_cutout_zeroes_a_half_side_square_clipped_at_the_edges(xp):
    x = xp.ones((3, 2, 8, 8))
    y = backend.to_numpy(augment.cutout(x, np.array([[1, 2], [-2, 6], [6, -1]])))
    for n, (r, c) in enumerate([(1, 2), (-2, 6), (6, -1)]):
        expected = np.ones((8, 8))
        expected[max(r, 0):r + 4, max(c, 0):c + 4] = 0
        for channel in y[n]:
            np.testing.assert_array_equal(channel, expected)
    assert (y[0] == 0).sum() == 2 * 16 and (y[1] == 0).sum() == 2 * 2 * 2  # 4 x 4 inside; 2 x 2 in a corner


def test_brightness_adds_one_offset_per_image(xp, rng):
    x = xp.asarray(rng.standard_normal((4, 3, 5, 5)))
    b = augment.draw_brightness(backend.rng(0), x.shape)
    d = backend.to_numpy(augment.brightness(x, b) - x)
    np.testing.assert_allclose(d, np.broadcast_to(b[:, None, None, None], d.shape), rtol=0, atol=1e-12)


def small_gan(augment_policy=POLICY, seed=0):
    """A BatchNorm-free G and D on 8x8 images, so that central differences of the G loss are exact."""
    backend.seed(seed)
    G = Sequential(Dense(4, 64), Tanh(), Reshape(1, 8, 8))
    D = Sequential(Conv2d(1, 4, 3, 1, 1), LeakyReLU(0.2), Flatten(), Dense(256, 1))
    return GAN(G, D, z_dim=4, seed=seed, augment=augment_policy)


def test_d_sees_augmented_reals_and_fakes_and_g_gradient_goes_through_the_augmentation(xp, float64, rng):
    """Replay the GAN's generator in the documented order: T for the reals, z, T for the fakes, a new T
    for G's step. loss_d is D's loss on the augmented pair; G's gradient is central differences of
    L_G(theta) = -mean log D(T(G_theta(z))) w.r.t. G's first weight, and not the gradient without T'."""
    gan = small_gan()
    real = xp.asarray(rng.uniform(-1, 1, (16, 1, 8, 8)))
    G0, D0, replay = copy.deepcopy(gan.G), copy.deepcopy(gan.D), copy.deepcopy(gan.rng)
    figures = gan.train_step(real)

    T = gan.augment
    real_seen = T.forward(real, T.draw(replay, real.shape))
    z = gan.noise(16, replay)
    fake = G0(z)
    fake_seen = T.forward(fake, T.draw(replay, fake.shape))
    loss_d, _, _ = discriminator_loss(D0(real_seen), D0(fake_seen))
    assert abs(figures["loss_d"] - loss_d) < 1e-12

    g_draws = T.draw(replay, fake.shape)
    W = G0[0].params["W"]

    def loss_g():
        return generator_loss(gan.D(T.forward(G0(z), g_draws)))[0]

    numeric = numerical_gradient(loss_g, W)
    used = gan.G[0].grads["W"]
    assert rel_error(used, numeric) < 1e-7
    G0(z)                                                     # without T' (D's input gradient fed to G)
    _, grad = generator_loss(gan.D(T.forward(G0(z), g_draws)))
    G0.zero_grad()
    G0.backward(gan.D.backward(grad, param_grads=False), input_grad=False)
    assert rel_error(G0[0].grads["W"], numeric) > 1e-3


def test_same_seed_same_result_and_the_option_changes_it(xp):
    def run(policy, seed=0):
        gan = small_gan(policy, seed)
        real = backend.asarray(backend.rng(9).uniform(-1, 1, (64, 1, 8, 8)), dtype=backend.default_dtype())
        gan.fit(lambda rng, n: real[backend.asarray(rng.choice(64, n, replace=False))], 12, 16)
        return gan.sample(20, seed=1)

    a, b = run(POLICY), run(POLICY)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, run(None))
    assert not np.array_equal(a, run("cutout,translation,brightness"))  # the policy's order is its order


def test_bad_policies_are_refused(tmp_path, capsys):
    for bad in ("rotation", "translation,,cutout", "cutout,cutout", ""):
        out = tmp_path / "run"
        assert main(["train", *SMALL_DIGITS, "--steps", "2", "--augment", bad, "--out", str(out)]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and f"--augment {bad!r}" in lines[0], lines
        assert "translation, cutout, brightness" in lines[0] and "Traceback" not in lines[0]
        assert not out.exists()
    assert main(["train", "--dataset", "ring8", "--augment", "cutout", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--augment 'cutout'" in err and "2-D points" in err and not (tmp_path / "r").exists()
    with pytest.raises(ValueError, match="translation, cutout, brightness"):
        small_gan("zoom")


def test_a_bad_policy_in_config_json_is_refused_on_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *SMALL_DIGITS, "--steps", "2", "--augment", "cutout", "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["augment"] == "cutout"
    config["augment"] = "zoom"
    (out / "config.json").write_text(json.dumps(config))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["train", "--out", str(out), "--resume", "--steps", "4"]) == 2
    err = capsys.readouterr().err
    assert "config.json: augment 'zoom'" in err and "translation, cutout, brightness" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_an_augmented_run_resumed_is_exact(tmp_path):
    """15 + 15 steps with a checkpoint file between them: bitwise the 30-step run."""
    def train(name, steps, policy=POLICY):
        out = tmp_path / name
        assert main(["train", "--out", str(out), *SMALL_DIGITS, "--lr-schedule", "constant",
                     "--augment", policy, "--steps", str(steps)]) == 0
        return out

    whole, half = train("whole", 30), train("half", 15)
    assert main(["train", "--out", str(half), "--resume", "--steps", "30"]) == 0
    other = train("other", 30, "brightness")

    def arrays(run):
        with np.load(run / "checkpoint.npz", allow_pickle=False) as f:
            return {k: f[k] for k in f.files}

    a, b, c = arrays(whole), arrays(half), arrays(other)
    assert set(a) == set(b) and int(b["step"]) == 30
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert json.loads((half / "config.json").read_text())["augment"] == POLICY
    assert not np.array_equal(a["G.0.W"], c["G.0.W"])
