"""The pix2pix players, trainer and tasks: gradients against central differences (float64), the
patch D's receptive fields, shapes, the baselines, learning on a fixed batch, reproducibility."""
import math

import numpy as np
import pytest

from minigan import backend
from minigan.data import load_digits
from minigan.gradcheck import check_layer, numerical_gradient, rel_error
from minigan.inpaint import named_mask
from minigan.losses import discriminator_loss, generator_loss
from minigan.pix2pix import (Pix2Pix, bilinear_upsample, pair_sampler, downsample, inpainting_inputs,
                             l1_loss, masked_mse, nearest_upsample, patch_discriminator, paste_known,
                             receptive_window, super_resolution_inputs, translate, unet_generator)

GRAD_TOL = 1e-7  # float64 central differences: a correct backward scores ~1e-10
FIGURES = {"loss_d", "loss_g", "loss_adv", "l1", "d_real", "d_fake_before", "d_fake_after",
           "grad_norm_d", "grad_norm_g"}


def normal(rng, shape):
    return backend.asarray(rng.standard_normal(shape), dtype=backend.default_dtype())


def bottom_mask():
    """minigan.inpaint's "bottom" mask (1, 1, 8, 8) on the active backend: 1 known, 0 lost."""
    return backend.asarray(named_mask("bottom", (1, 8, 8)), dtype=backend.default_dtype())


def digits_batch(n=32):
    """The first n digits as a backend array (N, 1, 8, 8) in [-1, 1]."""
    return backend.asarray(load_digits()[0][:n], dtype=backend.default_dtype())


# -- the players ------------------------------------------------------------------------------------

def test_unet_gradients_match_central_differences(xp, float64, rng):
    G = unet_generator(2, 1, width=3, residual_blocks=2)
    for _, p, _ in G.parameters():
        p *= 3  # see the adversarial + L1 test below: at the default init rounding shows near 1e-7
    errors = check_layer(G, normal(rng, (3, 2, 8, 8)))
    assert max(errors.values()) < GRAD_TOL, errors


def test_patch_discriminator_gradients_match_central_differences(xp, float64, rng):
    D = patch_discriminator(3, width=4)
    errors = check_layer(D, normal(rng, (3, 3, 8, 8)))
    assert max(errors.values()) < GRAD_TOL, errors


def test_shapes_and_range(xp, rng):
    G = unet_generator(2, 1, width=8)
    y = G(normal(rng, (5, 2, 8, 8)))
    assert y.shape == (5, 1, 8, 8) and float(abs(y).max()) < 1
    assert patch_discriminator(3, width=8)(normal(rng, (5, 3, 8, 8))).shape == (5, 1, 4, 4)
    with pytest.raises(ValueError, match="unet_generator: expected in_channels"):
        unet_generator(0)
    with pytest.raises(ValueError, match="patch_discriminator: expected in_channels"):
        patch_discriminator(3, width=0)


def test_each_patch_logit_sees_only_its_window(xp, float64, rng):
    """d logit(i, j) / d pair is nonzero inside receptive_window(i, j) and exactly zero outside it."""
    D = patch_discriminator(3, width=4)
    pair = normal(rng, (1, 3, 8, 8))
    for i, j in [(0, 0), (1, 2), (3, 3)]:
        logits = D(pair)                       # one forward for each backward
        seed = xp.zeros_like(logits)
        seed[0, 0, i, j] = 1
        grad = backend.to_numpy(D.backward(seed, param_grads=False))[0]
        rows, cols = receptive_window(i, j)
        inside = np.zeros((8, 8), dtype=bool)
        inside[rows, cols] = True
        assert np.all(grad[:, ~inside] == 0), (i, j)
        assert np.all(abs(grad[:, inside]).sum(axis=0) > 0), (i, j)
    assert receptive_window(0, 0) == (slice(0, 3), slice(0, 3))
    assert receptive_window(2, 1) == (slice(3, 7), slice(1, 5))


def test_unet_output_pixel_depends_on_the_input_through_the_skip(xp, float64, rng):
    """With the inner path's last layer zeroed, only the outermost skip reaches the output: pixel
    (r, c) of G(x) then depends on the 3x3 neighbourhood of x around (r, c) and nothing else."""
    G = unet_generator(1, 1, width=4)
    up = G[0][1][-1][0]                    # the outer level's ConvTranspose2d
    up.params["W"][...] = 0
    up.params["b"][...] = 0
    x = normal(rng, (1, 1, 8, 8))
    y = G(x)
    seed = xp.zeros_like(y)
    seed[0, 0, 2, 5] = 1
    grad = backend.to_numpy(G.backward(seed))[0, 0]
    assert np.all(grad[1:4, 4:7] != 0)
    grad[1:4, 4:7] = 0
    assert np.all(grad == 0)


# -- the losses and the trainer --------------------------------------------------------------------

def test_l1_loss_gradient_matches_central_differences(xp, float64, rng):
    out, target = normal(rng, (4, 1, 8, 8)), normal(rng, (4, 1, 8, 8))
    value, grad = l1_loss(out, target)
    assert math.isclose(value, float(abs(backend.to_numpy(out) - backend.to_numpy(target)).mean()))
    assert rel_error(grad, numerical_gradient(lambda: l1_loss(out, target)[0], out)) < GRAD_TOL
    with pytest.raises(ValueError, match="l1_loss: output"):
        l1_loss(out, target[:, :, :4])


def float64_trainer(l1_weight=10.0):
    backend.seed(0)
    return Pix2Pix(unet_generator(2, 1, width=3, residual_blocks=1), patch_discriminator(3, width=3),
                   l1_weight=l1_weight)


def test_generator_gradient_of_adversarial_plus_l1_matches_central_differences(xp, float64, rng):
    """L_G = mean over patches softplus(-D([x, G(x)])) + lambda mean |G(x) - t|, computed here
    independently from forward passes, differentiated numerically w.r.t. every parameter of G."""
    trainer = float64_trainer()
    G, D = trainer.G, trainer.D
    for _, p, _ in G.parameters():
        p *= 3  # at the default init the bottleneck's gradients are ~1e-4 of a loss near 10, so
        # rounding (1e-16 of the loss / h) alone would make a relative error near 1e-6
    x, t = normal(rng, (2, 2, 8, 8)), xp.tanh(normal(rng, (2, 1, 8, 8)))

    def loss_g():
        fake = G(x)
        adv, _ = generator_loss(D(xp.concatenate([x, fake], axis=1)).reshape(-1), "nonsaturating")
        return adv + trainer.l1_weight * float(abs(fake - t).mean())

    G.zero_grad()
    D.zero_grad()
    figures = trainer.generator_backward(x, G(x), t)
    assert math.isclose(figures["loss_g"], loss_g(), rel_tol=1e-12)
    for name, p, g in G.parameters():
        assert rel_error(g, numerical_gradient(loss_g, p)) < GRAD_TOL, name
    assert all(float(abs(g).max()) == 0 for _, _, g in D.parameters())  # D's were not asked for


def test_discriminator_step_gradient_matches_central_differences(xp, float64, rng):
    """After train_step, D's grads hold dL_D/dtheta_D at the parameters before the step, with
    L_D = discriminator_loss over every patch logit of the real pairs and of the fake pairs."""
    trainer = float64_trainer()
    G, D = trainer.G, trainer.D
    x, t = normal(rng, (2, 2, 8, 8)), xp.tanh(normal(rng, (2, 1, 8, 8)))
    fake = G(x).copy()
    before = {k: v.copy() for k, v in D.state_dict().items()}

    def loss_d():
        real = D(xp.concatenate([x, t], axis=1)).reshape(-1)
        return discriminator_loss(real, D(xp.concatenate([x, fake], axis=1)).reshape(-1))[0]

    figures = trainer.train_step(x, t)
    assert set(figures) == FIGURES and all(math.isfinite(v) for v in figures.values())
    analytic = {name: g.copy() for name, _, g in D.parameters()}
    D.load_state_dict(before)
    assert math.isclose(figures["loss_d"], loss_d(), rel_tol=1e-12)
    for name, p, _ in D.parameters():
        assert rel_error(analytic[name], numerical_gradient(loss_d, p)) < GRAD_TOL, name


def test_training_steps_reduce_l1_on_a_fixed_batch(xp):
    targets = digits_batch(32)
    inputs = inpainting_inputs(targets, bottom_mask())
    backend.seed(0)
    trainer = Pix2Pix(unet_generator(2, 1, width=8), patch_discriminator(3, width=8), lr_g=1e-3, lr_d=1e-3)
    before = l1_loss(trainer.G(inputs), targets)[0]
    for _ in range(40):
        figures = trainer.train_step(inputs, targets)
    after = l1_loss(trainer.G(inputs), targets)[0]
    assert trainer.step == 40 and trainer.g_opt.step_count == trainer.d_opt.step_count == 40
    assert after < 0.7 * before, (before, after)
    assert 0 < figures["d_fake_after"] < 1 and 0 < figures["d_real"] < 1
    with pytest.raises(ValueError, match="train_step: 32 inputs but 31 targets"):
        trainer.train_step(inputs, targets[:31])


def test_same_seed_same_result(xp):
    targets = digits_batch(64)
    inputs = super_resolution_inputs(targets)
    runs = []
    for _ in range(2):
        backend.seed(5)
        trainer = Pix2Pix(unet_generator(1, 1, width=4), patch_discriminator(2, width=4), seed=7)
        history = []
        trainer.fit(pair_sampler(inputs, targets), steps=4, batch_size=16, on_step=history.append)
        runs.append((history, translate(trainer.G, inputs)))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    backend.seed(6)
    other = Pix2Pix(unet_generator(1, 1, width=4), patch_discriminator(2, width=4), seed=7)
    assert not np.array_equal(translate(other.G, inputs), runs[0][1])
    with pytest.raises(ValueError, match="batch size 65: expected 1 <= n <= 64"):
        trainer.fit(pair_sampler(inputs, targets), steps=5, batch_size=65)


def test_translate_matches_a_single_pass_in_float32(xp, rng):
    G = unet_generator(2, 1, width=4)
    x = normal(rng, (7, 2, 8, 8))
    out = translate(G, x, batch_size=3)
    assert out.dtype == np.float32 and out.shape == (7, 1, 8, 8)
    np.testing.assert_allclose(out, backend.to_numpy(G(x)), rtol=1e-6, atol=1e-7)


# -- the tasks --------------------------------------------------------------------------------------

def test_inpainting_inputs_mask_and_scores(xp):
    images = digits_batch(6)
    mask = bottom_mask()
    inputs = inpainting_inputs(images, mask)
    host, host_inputs = backend.to_numpy(images), backend.to_numpy(inputs)
    assert inputs.shape == (6, 2, 8, 8)
    np.testing.assert_array_equal(host_inputs[:, 0, :4], host[:, 0, :4])
    assert np.all(host_inputs[:, 0, 4:] == -1)
    assert np.all(host_inputs[:, 1, :4] == 1) and np.all(host_inputs[:, 1, 4:] == 0)
    guess = xp.zeros_like(images)
    pasted = backend.to_numpy(paste_known(guess, images, mask))
    np.testing.assert_array_equal(pasted[:, :, :4], host[:, :, :4])
    assert np.all(pasted[:, :, 4:] == 0)
    assert math.isclose(masked_mse(guess, images, mask), float((host[:, :, 4:] ** 2).mean()), rel_tol=1e-6)


def reference_bilinear(image, factor):
    """Bilinear enlargement of one (h, w) image written pixel by pixel (align_corners=False)."""
    h, w = image.shape

    def source(i, size):
        s = max((i + 0.5) / factor - 0.5, 0.0)
        lo = int(math.floor(s))
        return lo, min(lo + 1, size - 1), s - lo

    out = np.zeros((h * factor, w * factor))
    for r in range(h * factor):
        r0, r1, a = source(r, h)
        for c in range(w * factor):
            c0, c1, b = source(c, w)
            out[r, c] = ((1 - a) * ((1 - b) * image[r0, c0] + b * image[r0, c1])
                         + a * ((1 - b) * image[r1, c0] + b * image[r1, c1]))
    return out


def test_downsampling_and_the_upsampling_baselines(xp, rng):
    images = digits_batch(4)
    small = downsample(images)
    host = backend.to_numpy(images)
    assert small.shape == (4, 1, 4, 4)
    np.testing.assert_allclose(backend.to_numpy(small)[:, :, 1, 2], host[:, :, 2:4, 4:6].mean(axis=(2, 3)),
                               rtol=1e-6)
    big = backend.to_numpy(nearest_upsample(small))
    np.testing.assert_array_equal(big[:, :, 2:4, 4:6], np.broadcast_to(backend.to_numpy(small)[:, :, 1:2, 2:3],
                                                                       (4, 1, 2, 2)))
    np.testing.assert_array_equal(backend.to_numpy(super_resolution_inputs(images)), big)
    coarse = normal(rng, (2, 3, 4, 5))
    fine = backend.to_numpy(bilinear_upsample(coarse, 2))
    assert fine.shape == (2, 3, 8, 10)
    for n, c in [(0, 0), (1, 2)]:
        np.testing.assert_allclose(fine[n, c], reference_bilinear(backend.to_numpy(coarse)[n, c], 2), rtol=1e-5,
                                   atol=1e-6)
    with pytest.raises(ValueError, match="downsample: expected a factor >= 1 dividing"):
        downsample(images, 3)
