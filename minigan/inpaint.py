"""Restoration by optimising z (Yeh et al. 2017, "Semantic image inpainting with deep generative
models"): fill the hidden pixels of an image with those of the point of G's range closest to its
visible pixels.

A mask is 1 where a pixel is VISIBLE, 0 where it is hidden. For images x (N, C, H, W), a mask m
broadcast to that shape, n_i = the number of visible pixels of image i (at least 1) and
lambda = ``prior_weight``, each image gets its own loss in its own z_i (N, z_dim):

    L_i(z_i) = (1/n_i) sum_j m_ij (G(z_i)_j - x_ij)^2  +  lambda * softplus(-D(G(z_i)))
               \\____ context: fit the visible pixels __/    \\_ prior: where D believes _/

The prior is the non-saturating generator loss -log sigmoid(logit) of ``minigan.losses``, per
image: it keeps G(z) where D says "real", so the fit of the visible pixels cannot be bought with
an image no digit looks like. The context term is the squared error, not Yeh et al.'s L1: it is
smooth (central differences hold at every z, and Adam's steps shrink as the fit improves, where
L1's gradient keeps the same size for a pixel off by 0.01 or by 1), it is the Gaussian
likelihood of the visible pixels, and the masked-pixel error we report is a squared error too.

Gradient (``restoration_loss``), written per image, g = G(z_i), l = D(g):
    dL_i/dg_j = 2 m_ij (g_j - x_ij) / n_i  +  lambda * dsoftplus(-l)/dg_j
    dsoftplus(-l)/dg = D.backward(sigmoid(l) - 1)           (D's input gradient, param_grads=False)
    dL_i/dz_i = G.backward(dL_i/dg)                          (G's input gradient, param_grads=False)
The images are independent (G and D in eval mode: BatchNorm uses its running statistics, so no
sample sees another), so one batched backward of sum_i L_i gives every dL_i/dz_i at once.

``restore`` runs Adam on z for every image and several random starts (``restarts``) in ONE batch
of N * restarts z's, keeps for each image the start with the lowest final loss, and returns
where(m, x, G(z)): the visible pixels are the input's, to the bit; the hidden ones G's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import backend, losses
from .layers import Module, eval_mode, no_grad
from .optim import Adam

MASKS = ("center", "left", "right", "top", "bottom")


# -- masks -------------------------------------------------------------------------------------------
def named_mask(name: str, image_shape):
    """The mask called ``name`` for images of shape (C, H, W): float32 NumPy (1, 1, H, W), 1 visible.

    "top" / "bottom" hide the upper / lower H // 2 rows, "left" / "right" the left / right W // 2
    columns, "center" the central (H // 2) x (W // 2) block (rows and columns from a quarter in)."""
    import numpy as np  # a mask is built on the host, then moved with the images

    if name not in MASKS:
        raise ValueError(f"unknown mask {name!r}: expected one of {', '.join(MASKS)}")
    _, h, w = image_shape
    mask = np.ones((1, 1, h, w), dtype=np.float32)
    hidden = {"top": np.s_[..., :h // 2, :], "bottom": np.s_[..., h - h // 2:, :],
              "left": np.s_[..., :w // 2], "right": np.s_[..., w - w // 2:],
              "center": np.s_[..., h // 4:h // 4 + h // 2, w // 4:w // 4 + w // 2]}[name]
    mask[hidden] = 0
    return mask


def load_array(path, what: str):
    """The array in a .npy file, loaded with allow_pickle=False; ValueError naming ``what`` if unreadable."""
    import numpy as np

    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ValueError(f"{what} {path}: no such file") from None
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{what} {path}: not a readable .npy array ({exc})") from None
    if not isinstance(array, np.ndarray):  # an .npz archive under a .npy name
        raise ValueError(f"{what} {path}: expected one .npy array, got an .npz archive")
    return array


def check_mask(mask, images_shape, what: str = "mask"):
    """The mask broadcast to images of shape (N, C, H, W); ValueError unless it fits and is 0/1.

    Accepted shapes: (H, W), (1 or C, H, W), (1 or N, 1 or C, H, W). Returns a float32 NumPy
    (N, C, H, W) array of 0s and 1s (1 = visible)."""
    import numpy as np

    n, c, h, w = images_shape
    mask = np.asarray(backend.to_numpy(mask))
    shape = tuple(mask.shape)
    fits = ((len(shape) == 2 and shape == (h, w))
            or (len(shape) == 3 and shape[0] in (1, c) and shape[1:] == (h, w))
            or (len(shape) == 4 and shape[0] in (1, n) and shape[1] in (1, c) and shape[2:] == (h, w)))
    if not fits:
        raise ValueError(f"{what} of shape {shape}: expected ({h}, {w}), (1|{c}, {h}, {w}) or "
                         f"(1|{n}, 1|{c}, {h}, {w}) to fit the images {tuple(images_shape)}")
    if mask.dtype.kind not in "biuf" or not np.isin(mask, (0, 1)).all():
        raise ValueError(f"{what} of dtype {mask.dtype}: expected only the values 0 (hidden) and 1 (visible)")
    return np.ascontiguousarray(np.broadcast_to(mask.astype(np.float32), images_shape))


def check_images(images, image_shape=None, what: str = "images"):
    """ValueError unless ``images`` is a float array (N, C, H, W), N >= 1, finite, in [-1, 1], and
    (when given) of the image shape (C, H, W)."""
    import numpy as np

    shape = tuple(getattr(images, "shape", ()))
    expected = f"(N, {', '.join(map(str, image_shape))})" if image_shape else "(N, C, H, W)"
    if len(shape) != 4 or shape[0] < 1 or (image_shape is not None and shape[1:] != tuple(image_shape)):
        raise ValueError(f"{what} of shape {shape}: expected {expected} with N >= 1")
    if images.dtype.kind != "f":
        raise ValueError(f"{what} of dtype {images.dtype}: expected floating-point values in [-1, 1]")
    host = np.asarray(backend.to_numpy(images))
    if not np.isfinite(host).all():
        raise ValueError(f"{what}: expected finite values in [-1, 1], got NaN or infinity")
    if host.min() < -1 or host.max() > 1:
        raise ValueError(f"{what}: expected values in [-1, 1], got [{host.min():.4g}, {host.max():.4g}]")


# -- the loss and its gradient --------------------------------------------------------------------------
def _forward(G, D, z, images, mask, prior_weight: float):
    """(L_i per image (N,), G(z), D's logits or None): the module docstring's loss, forward only."""
    xp = backend.get_array_module(z)
    fake = G(z)
    if tuple(fake.shape) != tuple(images.shape):
        raise ValueError(f"G makes images of shape {tuple(fake.shape[1:])}; expected the images' "
                         f"{tuple(images.shape[1:])}")
    diff = mask * (fake - images)
    visible = xp.maximum(mask.sum(axis=(1, 2, 3)), 1)
    loss = (diff * diff).sum(axis=(1, 2, 3)) / visible
    logits = None
    if prior_weight:
        logits = D(fake).reshape(-1)
        # softplus(-l) = -log sigmoid(l), per image, in the stable form of minigan.losses
        prior = xp.maximum(-logits, 0) + xp.log1p(xp.exp(-xp.abs(logits)))
        loss = loss + prior_weight * prior
    return loss, fake, logits


def restoration_loss(G, D, z, images, mask, prior_weight: float):
    """(L (N,), dL/dz (N, z_dim)): every image's loss L_i at z_i and its gradient, as the module
    docstring derives, on z's backend and dtype.

    z (N, z_dim); images and mask (N, C, H, W) (mask 0/1, 1 visible) in z's dtype; D may be None
    when prior_weight is 0. Row i of dL/dz is dL_i/dz_i (= d(sum_k L_k)/dz_i). G and D should be in
    eval mode; their parameter gradients are left untouched."""
    xp = backend.get_array_module(z)
    loss, fake, logits = _forward(G, D, z, images, mask, prior_weight)
    visible = xp.maximum(mask.sum(axis=(1, 2, 3)), 1).reshape(-1, 1, 1, 1)
    grad_fake = 2 * mask * (fake - images) / visible
    if prior_weight:
        # generator_loss's gradient is (sigmoid(l) - 1) / N (a batch mean): times N, per image
        _, grad_logits = losses.generator_loss(logits, "nonsaturating")
        grad_logits = grad_logits * (len(logits) * prior_weight)
        grad_fake = grad_fake + D.backward(grad_logits.reshape(-1, 1), param_grads=False).reshape(fake.shape)
    return loss, G.backward(grad_fake, input_grad=True, param_grads=False)


# -- restoration ---------------------------------------------------------------------------------------
@dataclass
class Restoration:
    """What ``restore`` returns, NumPy arrays in G's dtype.

    images (N, C, H, W): the restored images, where(mask, input, G(z)); fill (N, C, H, W): G(z) at
    the chosen z; z (N, z_dim): the chosen z; loss (N,): its final L_i; losses (restarts, N): the
    final L_i of every start; history (steps + 1,): the mean L over all images and starts before
    each Adam step and after the last."""
    images: object
    fill: object
    z: object
    loss: object
    losses: object
    history: object


class _Latent(Module):
    """z as a Module's parameter, so that minigan's own Adam (``optim.Adam``) updates it."""

    def __init__(self, z):
        super().__init__()
        self.add_param("z", z)


STEPS, RESTARTS, PRIOR_WEIGHT, LR = 300, 4, 0.01, 0.05  # the defaults, measured in docs/experiments.md


def restore(G, D, images, mask, z_dim: int, steps: int = STEPS, restarts: int = RESTARTS,
            prior_weight: float = PRIOR_WEIGHT, lr: float = LR, seed: int = 0, batch_size: int = 256) -> Restoration:
    """Restore the hidden pixels of ``images`` from G by Adam on z, as the module docstring says.

    G: (M, z_dim) -> (M, C, H, W) in [-1, 1]; D: (M, C, H, W) -> (M, 1) logits (None, or ignored,
    when prior_weight is 0); images (N, C, H, W) in [-1, 1] (NumPy or the active backend); mask:
    any shape ``check_mask`` accepts, 1 = visible. Every image gets ``restarts`` starts z ~ N(0, I)
    (drawn with ``seed`` for all N at once, so a batch_size never changes which z an image gets),
    ``steps`` Adam steps (lr, betas (0.9, 0.999): plain optimisation, not the adversarial game's
    0.5), and keeps the start of lowest final loss. Images go through in chunks of ``batch_size``
    (each chunk one batch of batch_size * restarts z's). G and D run in eval mode and are put back
    in their modes; their parameters and gradients are not changed."""
    import numpy as np

    check_images(images)
    for name, value, low in (("steps", steps, 1), ("restarts", restarts, 1), ("batch_size", batch_size, 1),
                             ("z_dim", z_dim, 1)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"restore: {name} {value!r}: expected an integer >= {low}")
    if not (math.isfinite(prior_weight) and prior_weight >= 0):
        raise ValueError(f"restore: prior_weight {prior_weight!r}: expected a finite number >= 0")
    if prior_weight and D is None:
        raise ValueError("restore: prior_weight > 0 needs D (pass prior_weight=0 to fit the pixels alone)")
    xp, dtype = backend.xp, G.dtype
    n = images.shape[0]
    mask = check_mask(mask, images.shape)
    starts = backend.rng(seed).standard_normal((restarts, n, z_dim))
    parts, history = [], np.zeros(steps + 1)
    with eval_mode(*(m for m in (G, D) if m is not None)):
        for a in range(0, n, batch_size):
            x = backend.asarray(images[a:a + batch_size], dtype=dtype)
            m = backend.asarray(mask[a:a + batch_size], dtype=dtype)
            k = x.shape[0]
            xs, ms = xp.concatenate([x] * restarts), xp.concatenate([m] * restarts)  # row r*k + i: start r
            latent = _Latent(backend.asarray(starts[:, a:a + k].reshape(restarts * k, z_dim), dtype=dtype))
            opt = Adam(latent, lr=lr, betas=(0.9, 0.999))
            z = latent.params["z"]
            for t in range(steps):
                loss, grad = restoration_loss(G, D, z, xs, ms, prior_weight)
                latent.grads["z"][...] = grad
                history[t] += float(loss.sum())
                opt.step()
            with no_grad():  # the final judgement: never back-propagated
                loss, fake, _ = _forward(G, D, z, xs, ms, prior_weight)
            history[steps] += float(loss.sum())
            loss = loss.reshape(restarts, k)
            best, rows = xp.argmin(loss, axis=0), xp.arange(k)
            fill = fake.reshape((restarts, k) + tuple(fake.shape[1:]))[best, rows]
            parts.append((xp.where(m > 0, x, fill), fill, z.reshape(restarts, k, z_dim)[best, rows],
                          loss[best, rows], loss))
    joined = [np.concatenate([backend.to_numpy(p[j]) for p in parts], axis=1 if j == 4 else 0) for j in range(5)]
    return Restoration(*joined, history=history / (n * restarts))


# -- the command: minigan inpaint RUN_DIR --images IN.npy --mask M --out OUT.npy|OUT.png ---------------


def mask_option(spec: str, images_shape):
    """--mask: a name of ``MASKS`` or a FILE.npy, as a float32 (N, C, H, W) mask for the images."""
    if spec.endswith(".npy"):
        return check_mask(load_array(spec, "--mask"), images_shape, f"--mask {spec}")
    if spec not in MASKS:
        raise ValueError(f"--mask {spec!r}: expected one of {', '.join(MASKS)} or a FILE.npy")
    return check_mask(named_mask(spec, images_shape[1:]), images_shape)
