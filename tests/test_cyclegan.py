"""minigan.cyclegan.CycleGAN's step (issue 24's core): L_G's gradient through the generators applied three times
each, against central differences in float64; the step's order (D judges the fakes made before G's update);
the pool; and a state_dict that continues bitwise."""
import numpy as np
import pytest

from minigan import backend
from minigan.cyclegan import CycleGAN, ImagePool, l1, mse
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.layers import (Conv2d, InstanceNorm2d, LeakyReLU, ReflectionPad2d, ReLU, Residual, Sequential, Tanh,
                            no_grad)


def generator():
    return Sequential(ReflectionPad2d(1), Conv2d(1, 3, 3, bias=False), InstanceNorm2d(3, affine=True), ReLU(),
                      Residual(Sequential(ReflectionPad2d(1), Conv2d(3, 3, 3))), Conv2d(3, 1, 1), Tanh())


def discriminator():
    return Sequential(Conv2d(1, 2, 3, 2, 1), LeakyReLU(0.2), Conv2d(2, 1, 2))


def tiny(pool_size=0, seed=0, **schedule):
    with backend.seeded(seed):
        return CycleGAN(generator(), generator(), discriminator(), discriminator(), pool_size=pool_size, seed=seed,
                        **schedule)


def images(seed, n=3):
    return np.tanh(np.random.default_rng(seed).standard_normal((n, 1, 4, 4)))


def generator_loss(gan, a, b):
    """L_G as the module's docstring writes it, computed from scratch (no backward)."""
    G, F, D_A, D_B = gan.G, gan.F, gan.D_A, gan.D_B
    with no_grad():
        fake_b, fake_a = G(a), F(b)
        return (mse(D_B(fake_b), 1)[0] + mse(D_A(fake_a), 1)[0]
                + 10 * (l1(F(fake_b), a)[0] + l1(G(fake_a), b)[0]) + 5 * (l1(G(b), b)[0] + l1(F(a), a)[0]))


@pytest.mark.parametrize("name, param", [("G", "1.W"), ("F", "4.block.1.W"), ("G", "2.gamma")])
def test_the_generators_gradient_matches_central_differences(name, param):
    with backend.using_dtype("float64"):
        gan = tiny()
        a, b = backend.asarray(images(1)), backend.asarray(images(2))
        gan.lr = 0.0                          # the step computes the gradients and leaves the weights
        gan.train_step(a, b)
        model = gan.models[name]
        analytic = dict((n, g) for n, _, g in model.parameters())[param].copy()
        weight = dict((n, p) for n, p, _ in model.parameters())[param]
        numeric = numerical_gradient(lambda: generator_loss(gan, a, b), weight)
    assert rel_error(analytic, numeric) < 1e-7


def test_d_judges_the_fakes_made_before_gs_update():
    with backend.using_dtype("float64"):
        gan, before = tiny(), tiny()           # two copies: one steps, one keeps the initial weights
        a, b = backend.asarray(images(3)), backend.asarray(images(4))
        figures = gan.train_step(a, b)
        with no_grad():
            expected = (mse(before.D_B(b), 1)[0] + mse(before.D_B(before.G(a)), 0)[0]) / 2
    assert figures["loss_d_b"] == pytest.approx(expected, rel=1e-12)


def test_the_pool_returns_the_new_images_until_full_then_mixes():
    pool, rng = ImagePool(3), np.random.default_rng(0)
    first = np.arange(3.0).reshape(3, 1)
    assert np.array_equal(pool.query(first, rng), first) and len(pool.images) == 3
    new = 100 + np.arange(200.0).reshape(200, 1)
    out = pool.query(new, rng)
    swapped = int((out != new).sum())
    assert 60 < swapped < 140                                  # about half: a stored, earlier image instead
    assert set(out[out != new]) <= set(first[:, 0]) | set(new[:, 0]) and len(pool.images) == 3
    assert np.array_equal(ImagePool(0).query(first, rng), first)


def test_a_resumed_cyclegan_continues_bitwise():
    # (stopped at step 2 of 4, the learning rate decaying over the last 3: the resumed steps are decay steps)
    a, b = backend.asarray(images(5, 4), dtype="float32"), backend.asarray(images(6, 4), dtype="float32")
    schedule = dict(total_steps=4, decay_steps=3)
    whole, split = tiny(pool_size=3, **schedule), tiny(pool_size=3, **schedule)
    for _ in range(4):
        whole.train_step(a, b)
    for _ in range(2):
        split.train_step(a, b)
    resumed = tiny(pool_size=3, seed=7, **schedule)
    resumed.load_state_dict({k: np.array(v) for k, v in split.state_dict().items()})
    for _ in range(2):
        resumed.train_step(a, b)
    ours, theirs = whole.state_dict(), resumed.state_dict()
    assert sorted(ours) == sorted(theirs) and "pool_a" in ours
    assert all(np.array_equal(np.asarray(ours[k]), np.asarray(theirs[k])) for k in ours if k != "rng_state")
    assert ours["rng_state"] == theirs["rng_state"]
    assert all(m.pending() == 0 for m in resumed.models.values())
    assert resumed.translate(np.asarray(a)).shape == (4, 1, 4, 4)


def test_a_whole_resnet_generator_passes_a_gradient_check():
    from minigan.cyclegan_models import resnet_generator
    from minigan.gradcheck import check_layer

    with backend.using_dtype("float64"), backend.seeded(0):
        G = resnet_generator(2, width=2, downs=2, blocks=1)
        errors = check_layer(G, np.random.default_rng(0).standard_normal((2, 2, 8, 8)))
    assert max(errors.values()) < 1e-7, errors


def test_the_authors_networks_at_their_sizes():
    from minigan.cyclegan_models import patch_discriminator, resnet_generator

    G, D = resnet_generator(3), patch_discriminator(3)
    count = lambda m: sum(p.size for _, p, _ in m.parameters())
    # the authors' resnet_6blocks and n_layers=3 PatchGAN have 7,837,699 and 2,764,737 parameters; here the
    # convolutions that feed an InstanceNorm have no bias: 3,712 and 896 fewer
    assert (count(G), count(D)) == (7_837_699 - 3_712, 2_764_737 - 896)
    x = backend.asarray(np.zeros((1, 3, 32, 32)), dtype="float32")
    assert G(x).shape == (1, 3, 32, 32) and D(x).shape == (1, 1, 2, 2)


def test_the_learning_rate_is_constant_then_falls_linearly_over_the_decay_steps():
    G, F, D_A, D_B = generator(), generator(), discriminator(), discriminator()
    gan = CycleGAN(G, F, D_A, D_B, lr=1e-3, total_steps=10, decay_steps=4)
    a, b = images(0).astype(np.float32), images(1).astype(np.float32)
    used = []
    for _ in range(10):
        gan.train_step(a, b)
        used.append({o.lr for o in gan.optimizers.values()})
    assert all(len(rates) == 1 for rates in used), "the four networks share one learning rate"
    assert [rates.pop() for rates in used] == pytest.approx([1e-3] * 6 + [1e-3, 7.5e-4, 5e-4, 2.5e-4])
    with pytest.raises(ValueError, match="decay_steps"):
        CycleGAN(G, F, D_A, D_B, total_steps=3, decay_steps=4)
