"""The game view (minigan.game): D's surface, the arrows -dL_G/dx, the warped noise grid, the files."""
import numpy as np
import pytest

from minigan import backend
from minigan.data import sample_toy
from minigan.game import game_image, game_view, save_game, save_game_gif, warped_noise_lines
from minigan.layers import BatchNorm1d, Dense, LeakyReLU, Sequential
from minigan.losses import generator_loss
from minigan.models import build
from minigan.train import GAN

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def trained_gan(z_dim=2, steps=5, loss="nonsaturating", pack=1, seed=0):
    """A small toy GAN after a few steps, so that D is not at its initialisation and both grads are non-zero."""
    backend.seed(seed)
    G, D = build("mlp2d", (2,), z_dim, pack=pack, width=16, depth=2)
    gan = GAN(G, D, z_dim=z_dim, loss=loss, pack=pack, lr_g=5e-3, lr_d=5e-3, seed=seed)
    gan.fit(lambda rng, n: backend.asarray(sample_toy("ring8", n, rng), dtype=G.dtype), steps, 32)
    return gan


def real_points(n=64):
    return sample_toy("ring8", n, np.random.default_rng(7))


def snapshot(module):
    return {name: (backend.to_numpy(p).copy(), backend.to_numpy(g).copy()) for name, p, g in module.parameters()}


def assert_same(before, after):
    assert before.keys() == after.keys()
    for name, (p, g) in before.items():
        np.testing.assert_array_equal(after[name][0], p, err_msg=f"parameter {name} changed")
        np.testing.assert_array_equal(after[name][1], g, err_msg=f"gradient {name} changed")


def test_game_view_shapes_and_probabilities(xp):
    gan = trained_gan()
    view = game_view(gan, real_points(64), n_fake=37, seed=3, resolution=13)
    assert view["xx"].shape == view["yy"].shape == view["prob"].shape == (13, 13)
    assert view["real"].shape == (64, 2)
    assert view["fake"].shape == view["arrows"].shape == view["grad"].shape == (37, 2)
    assert view["z"].shape == (37, 2) and view["d_fake"].shape == view["logit_fake"].shape == (37,)
    assert all(isinstance(v, np.ndarray) for v in view.values())
    assert np.all((view["prob"] >= 0) & (view["prob"] <= 1)) and np.all(np.isfinite(view["prob"]))
    assert np.all((view["d_fake"] > 0) & (view["d_fake"] < 1))
    np.testing.assert_array_equal(view["arrows"], -view["grad"])
    assert np.all(np.diff(view["xx"][0]) > 0) and np.all(np.diff(view["yy"][:, 0]) > 0)  # x along columns
    xmin, xmax, ymin, ymax = view["bounds"]                   # the default box holds every point drawn
    for pts in (view["real"], view["fake"]):
        assert xmin < pts[:, 0].min() and pts[:, 0].max() < xmax and ymin < pts[:, 1].min() and pts[:, 1].max() < ymax
    # the generated points are G(z) for the fixed noise `seed`, and the same at every call
    np.testing.assert_allclose(view["fake"], backend.to_numpy(gan.G(gan.noise(37, backend.rng(3)))), rtol=1e-6)
    np.testing.assert_array_equal(game_view(gan, real_points(64), n_fake=37, seed=3, resolution=13)["fake"],
                                  view["fake"])
    fixed = game_view(gan, real_points(64), n_fake=5, resolution=4, bounds=(-2, 2, -1, 1))
    np.testing.assert_array_equal(fixed["bounds"], [-2, 2, -1, 1])
    assert fixed["xx"][0, 0] == -2 and fixed["xx"][0, -1] == 2 and fixed["yy"][-1, 0] == 1


def test_grid_probabilities_are_sigmoid_of_d_on_the_grid(float64):
    gan = trained_gan()
    view = game_view(gan, real_points(), n_fake=10, resolution=7)
    plane = np.stack([view["xx"].ravel(), view["yy"].ravel()], axis=1)
    logits = backend.to_numpy(gan.D(backend.asarray(plane))).reshape(7, 7)
    np.testing.assert_allclose(view["prob"], 1 / (1 + np.exp(-logits)), rtol=1e-12)


@pytest.mark.parametrize("loss", ["nonsaturating", "minimax", "lsgan", "hinge"])
def test_arrows_are_minus_central_differences_of_the_generator_loss(xp, float64, loss):
    """arrows[i] = -dL_G/dx_i, L_G the batch mean of generator_loss over all n_fake points, by central differences."""
    gan = trained_gan(loss=loss)
    n = 40
    view = game_view(gan, real_points(), n_fake=n, seed=1, resolution=5)

    def loss_at(points):
        return generator_loss(gan.D(backend.asarray(points)), loss)[0]

    h = 1e-6
    for i in (0, 7, 23, 39):
        numeric = np.zeros(2)
        for c in range(2):
            plus, minus = view["fake"].copy(), view["fake"].copy()
            plus[i, c] += h
            minus[i, c] -= h
            numeric[c] = (loss_at(plus) - loss_at(minus)) / (2 * h)
        scale = max(np.abs(numeric).max(), 1e-12)
        assert np.abs(-view["arrows"][i] - numeric).max() / scale < 1e-6, (loss, i, view["arrows"][i], numeric)
    # the value too: L_G of the drawn batch
    assert abs(float(view["loss_g"]) - loss_at(view["fake"])) < 1e-12


def test_nonsaturating_arrows_are_one_minus_d_times_the_logit_gradient_over_n(float64):
    """The chain rule written out: -dL_G/dx_i = (1 - D(x_i)) * da/dx (x_i) / N, da/dx from D's backward of ones."""
    gan = trained_gan()
    n = 50
    view = game_view(gan, real_points(), n_fake=n, resolution=5)
    gan.D(backend.asarray(view["fake"]))
    dlogit_dx = backend.to_numpy(gan.D.backward(backend.xp.ones((n, 1)), param_grads=False))  # rows independent
    expected = (1 - view["d_fake"])[:, None] * dlogit_dx / n
    np.testing.assert_allclose(view["arrows"], expected, rtol=1e-10, atol=1e-15)


def test_grads_params_and_modes_are_left_as_they_were(tmp_path):
    gan = trained_gan()
    G_before, D_before = snapshot(gan.G), snapshot(gan.D)
    assert any(np.abs(g).sum() > 0 for _, g in D_before.values())   # the last step left non-zero grads to watch
    assert any(np.abs(g).sum() > 0 for _, g in G_before.values())
    for g_mode, d_mode in ((True, True), (False, False), (True, False)):
        gan.G.train(g_mode)
        gan.D.train(d_mode)
        game_view(gan, real_points(), n_fake=30, resolution=6)
        warped_noise_lines(gan, n_lines=3, n_points=4)
        save_game(gan, real_points(), tmp_path / "frame.png")
        assert all(m.training == g_mode for m in gan.G.modules())
        assert all(m.training == d_mode for m in gan.D.modules())
    assert_same(G_before, snapshot(gan.G))
    assert_same(D_before, snapshot(gan.D))


def test_d_is_evaluated_in_eval_mode_and_its_mode_restored(float64):
    """With a BatchNorm in D, training mode would make a point's probability depend on the batch around it."""
    backend.seed(0)
    G, _ = build("mlp2d", (2,), 2, width=8, depth=1)
    D = Sequential(Dense(2, 8), BatchNorm1d(8), LeakyReLU(0.2), Dense(8, 1))
    D[1].buffers["running_mean"][...] = 0.3
    D[1].buffers["running_var"][...] = 2.0
    gan = GAN(G, D, z_dim=2)
    view = game_view(gan, real_points(), n_fake=20, resolution=4)
    assert D.training and D[1].training
    assert G.pending() == 0 and D.pending() == 0      # every forward either back-propagated or under no_grad
    D.eval()
    point = backend.asarray(np.array([[view["xx"][1, 2], view["yy"][1, 2]]]))
    alone = float(1 / (1 + np.exp(-backend.to_numpy(D(point))[0, 0])))
    assert abs(alone - view["prob"][1, 2]) < 1e-12
    logits = backend.to_numpy(D(backend.asarray(view["fake"]))).ravel()
    np.testing.assert_allclose(view["d_fake"], 1 / (1 + np.exp(-logits)), rtol=1e-12)


def test_value_errors_for_pack_images_and_noise_lines():
    packed = trained_gan(pack=2, steps=1)
    with pytest.raises(ValueError, match="pack"):
        game_view(packed, real_points())
    with pytest.raises(ValueError, match="pack"):
        save_game(packed, real_points(), "/nonexistent/never-written.png")
    backend.seed(0)
    G, D = build("dcgan", (1, 8, 8), 4, width=4)
    images = GAN(G, D, z_dim=4)
    with pytest.raises(ValueError, match="2-D data"):
        game_view(images, np.zeros((6, 1, 8, 8), dtype=np.float32))
    with pytest.raises(ValueError, match="2-D data"):           # G's samples are checked too
        game_view(images, real_points())
    with pytest.raises(ValueError, match="2-D data"):
        game_view(trained_gan(steps=1), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="z_dim == 2"):
        warped_noise_lines(trained_gan(z_dim=8, steps=1))


def test_warped_noise_lines_are_g_on_a_grid_of_lines(float64):
    gan = trained_gan()
    lines = warped_noise_lines(gan, n_lines=5, n_points=5, extent=2.0)
    assert len(lines) == 10 and all(line.shape == (5, 2) for line in lines)
    # same values of c and t: horizontal line i at t_j and vertical line j at t_i are both G((t_j, c_i))
    for i in range(5):
        for j in range(5):
            np.testing.assert_allclose(lines[i][j], lines[5 + j][i], rtol=1e-12, atol=1e-14)
    c = np.linspace(-2, 2, 5)
    z = np.stack([c, np.full(5, c[1])], axis=1)                 # horizontal line 1
    np.testing.assert_allclose(lines[1], backend.to_numpy(gan.G(backend.asarray(z))), rtol=1e-12)


@pytest.mark.parametrize("z_dim", [2, 8])
def test_save_game_writes_a_png_atomically(tmp_path, z_dim):
    gan = trained_gan(z_dim=z_dim)
    path = tmp_path / f"game_{z_dim}.png"
    save_game(gan, real_points(), path, title=f"z_dim {z_dim}")
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]   # no temporary file left behind


def test_game_image_and_gif(tmp_path):
    gan = trained_gan()
    frames = [game_image(gan, real_points(), "frame", bounds=(-1.5, 1.5, -1.5, 1.5), n_fake=50, resolution=20)
              for _ in range(2)]
    assert frames[0].dtype == np.uint8 and frames[0].ndim == 3 and frames[0].shape[2] == 3
    assert frames[0].shape == frames[1].shape
    save_game_gif(frames, tmp_path / "game.gif")
    assert (tmp_path / "game.gif").read_bytes()[:6] == b"GIF89a"
    with pytest.raises(ValueError):
        save_game_gif([], tmp_path / "empty.gif")
