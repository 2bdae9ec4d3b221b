"""Differentiable augmentation (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
Training", arXiv:2006.10738): random translation, cutout and brightness of images (N, C, H, W).

With few training images D memorises them: its real/fake gap opens on the training images and not on
images it never saw, and G, following D, stops learning. Augmenting the images D sees makes it harder
to memorise, but only when the SAME random transform T is applied to the real AND the fake images, in
D's step and in G's step: D then compares T(x) with T(G(z)), and G matches T(G(z)) to T(x), which for
these transforms means G(z) to x. Augmenting the reals alone teaches G to draw the augmentations. G's
gradient passes through T, so each T has a backward, written here beside its forward:

    brightness   y = x + b_n,             b_n ~ U(-0.5, 0.5) per image       dL/dx = dL/dy
    translation  y[i, j] = x[i - s_n, j - t_n], 0 where that falls outside; s_n, t_n integers in
                 [-H // 8, H // 8] and [-W // 8, W // 8] per image
                 dL/dx[a, b] = dL/dy[a + s_n, b + t_n], 0 for pixels shifted out of the image
    cutout       y = x * m_n, m_n 0 on a (H // 2) x (W // 2) rectangle centred anywhere on the image
                 (the part outside it dropped), 1 elsewhere                   dL/dx = dL/dy * m_n

Both the pixels shifted in and the pixels cut out become 0, as in the paper's code. On images in
[-1, 1] that is mid-grey, not the digits' black background -1: the value is what the paper measured,
it needs nothing known about the data set (its background), and any constant will do, since the
pixels it fills are the same for reals and fakes and G cannot change them.

The random parameters are drawn on the host by a NumPy generator (the GAN's own, so that a seed gives
one result and a resumed run draws what an unbroken one would) and moved to the images' backend;
the arithmetic goes through ``xp = get_array_module(x)``, so NumPy and CuPy run the same code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import backend


def _check_images(shape) -> None:
    if len(shape) != 4:
        raise ValueError(f"augment: expected images (N, C, H, W), got shape {tuple(shape)}")


# -- brightness -------------------------------------------------------------------------------------
def draw_brightness(rng, shape):
    """b: (N,) host floats, b_n ~ U(-0.5, 0.5), one per image of a batch of ``shape`` (N, C, H, W)."""
    return rng.uniform(-0.5, 0.5, shape[0])


def brightness(x, b):
    """y = x + b_n for every pixel and channel of image n.   x, y: (N, C, H, W); b: (N,)."""
    xp = backend.get_array_module(x)
    return x + xp.asarray(b, dtype=x.dtype).reshape(-1, 1, 1, 1)


def brightness_backward(grad, b):
    """dL/dx = dL/dy: dy/dx is the identity (b does not depend on x).   grad: (N, C, H, W)."""
    return grad


# -- translation ------------------------------------------------------------------------------------
def draw_translation(rng, shape):
    """shifts: (N, 2) host integers (s_n, t_n), uniform in [-H // 8, H // 8] x [-W // 8, W // 8]."""
    n, _, h, w = shape
    return rng.integers([-(h // 8), -(w // 8)], [h // 8 + 1, w // 8 + 1], (n, 2))


def _shift(x, shifts, fill: float):
    """out[n, c, i, j] = x[n, c, i - s_n, j - t_n], or ``fill`` where that index is outside the image."""
    xp = backend.get_array_module(x)
    n, c, h, w = x.shape
    shifts = xp.asarray(shifts)
    rows = xp.arange(h)[None, :] - shifts[:, :1]             # (N, H): the source row of each output row
    cols = xp.arange(w)[None, :] - shifts[:, 1:]             # (N, W)
    inside = ((rows >= 0) & (rows < h))[:, None, :, None] & ((cols >= 0) & (cols < w))[:, None, None, :]
    gathered = x[xp.arange(n)[:, None, None, None], xp.arange(c)[None, :, None, None],
                 xp.clip(rows, 0, h - 1)[:, None, :, None], xp.clip(cols, 0, w - 1)[:, None, None, :]]
    return xp.where(inside, gathered, fill).astype(x.dtype, copy=False)


def translation(x, shifts):
    """Move image n's content by shifts[n] = (s_n, t_n) pixels (down, right), filling with 0.

    x, y: (N, C, H, W); shifts: (N, 2) integers. y[n, :, i, j] = x[n, :, i - s_n, j - t_n]."""
    return _shift(x, shifts, 0.0)


def translation_backward(grad, shifts):
    """dL/dx[n, :, a, b] = dL/dy[n, :, a + s_n, b + t_n]: the gradient shifted back, and 0 for the
    pixels of x that were shifted out of the image (no output read them).   grad: (N, C, H, W)."""
    xp = backend.get_array_module(grad)
    return _shift(grad, -xp.asarray(shifts), 0.0)


# -- cutout -----------------------------------------------------------------------------------------
def draw_cutout(rng, shape):
    """corners: (N, 2) host integers (r_n, c_n), the top-left corner of image n's (H//2) x (W//2) hole.

    The hole's centre lands uniformly anywhere on the image, as in the paper's code, so a hole near an
    edge is clipped: r_n is uniform in [-(s // 2), H - s + s // 2] for the side s = H // 2 (alike c_n)."""
    n, _, h, w = shape
    sh, sw = h // 2, w // 2
    return rng.integers([-(sh // 2), -(sw // 2)], [h - sh + sh // 2 + 1, w - sw + sw // 2 + 1], (n, 2))


def cutout_mask(shape, corners, dtype, xp):
    """m: (N, 1, H, W), 0 on each image's (H // 2) x (W // 2) hole at ``corners`` (clipped), 1 elsewhere."""
    _, _, h, w = shape
    corners = xp.asarray(corners)
    rows, cols = xp.arange(h)[None, :], xp.arange(w)[None, :]
    in_rows = (rows >= corners[:, :1]) & (rows < corners[:, :1] + h // 2)        # (N, H)
    in_cols = (cols >= corners[:, 1:]) & (cols < corners[:, 1:] + w // 2)        # (N, W)
    return 1 - (in_rows[:, None, :, None] & in_cols[:, None, None, :]).astype(dtype)


def cutout(x, corners):
    """y = x * m: image n's hole at corners[n] set to 0 in every channel.   x, y: (N, C, H, W)."""
    return x * cutout_mask(x.shape, corners, x.dtype, backend.get_array_module(x))


def cutout_backward(grad, corners):
    """dL/dx = dL/dy * m: no gradient reaches the pixels the hole hid.   grad: (N, C, H, W)."""
    return grad * cutout_mask(grad.shape, corners, grad.dtype, backend.get_array_module(grad))


# -- policies ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Transform:
    draw: Callable        # (rng, shape) -> the random parameters for a batch of that shape
    forward: Callable     # (x, parameters) -> y
    backward: Callable    # (dL/dy, parameters) -> dL/dx


TRANSFORMS = {
    "translation": Transform(draw_translation, translation, translation_backward),
    "cutout": Transform(draw_cutout, cutout, cutout_backward),
    "brightness": Transform(draw_brightness, brightness, brightness_backward),
}


def parse_policy(text: str) -> tuple:
    """The transform names of a policy such as "translation,cutout,brightness", in order.

    ValueError (saying what is expected) for an unknown or repeated name, or an empty policy."""
    expected = f"a comma list of {', '.join(TRANSFORMS)} (each at most once)"
    names = tuple(part.strip() for part in str(text).split(","))
    if not all(name in TRANSFORMS for name in names) or len(set(names)) != len(names):
        raise ValueError(expected)
    return names


class Policy:
    """The transforms of a policy, applied in its order: y = T_k(... T_1(x)).

    forward(x, draws) and backward(dL/dy, draws) take the random parameters explicitly (one entry per
    transform, from ``draw``), so a backward uses exactly the draws of its forward:
        dL/dx = T_1'(... T_k'(dL/dy)),  each T_i' the backward of T_i with its own parameters.
    x, y, dL/dy, dL/dx: (N, C, H, W)."""

    def __init__(self, policy: str):
        self.names = parse_policy(policy)
        self.transforms = [TRANSFORMS[name] for name in self.names]

    def draw(self, rng, shape) -> list:
        """The parameters of every transform for a batch of ``shape``, drawn in the policy's order."""
        _check_images(shape)
        return [t.draw(rng, tuple(shape)) for t in self.transforms]

    def forward(self, x, draws):
        _check_images(x.shape)
        for t, p in zip(self.transforms, draws):
            x = t.forward(x, p)
        return x

    def backward(self, grad, draws):
        for t, p in zip(reversed(self.transforms), reversed(draws)):
            grad = t.backward(grad, p)
        return grad

    def __call__(self, x, rng):
        """(y, draws): x augmented with parameters freshly drawn from ``rng``."""
        draws = self.draw(rng, x.shape)
        return self.forward(x, draws), draws

    def __repr__(self) -> str:
        return f"Policy({','.join(self.names)!r})"
