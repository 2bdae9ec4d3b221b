"""The two restoration tasks' inputs and their baselines, for images (N, C, H, W) in [-1, 1].

Inpainting: some pixels are lost, here the bottom half of each digit. A mask is 1 where a pixel
is known, 0 where it is lost, as in ``minigan.inpaint`` (whose ``named_mask("bottom", ...)``
makes this one), of the images' shape or broadcasting to it. G's input stacks the damaged image
(lost pixels set to -1, the background) and the mask on the channels, (N, 2C, H, W): the mask
tells G which -1 is ink-free paper and which is a hole.
Super-resolution: each 2x2 block is averaged (8x8 -> 4x4) and the result enlarged back by
nearest neighbour, so input and target have the same shape (pix2pix maps an image to an image
of its own size). Everything runs through ``xp``, on NumPy or CuPy alike.
"""
from __future__ import annotations

from .. import backend


def inpainting_inputs(images, mask):
    """G's input for inpainting: (N, C, H, W) images and their mask (broadcasting to them, on
    their backend) -> (N, 2C, H, W), [images * mask + (-1) * (1 - mask), mask] on the channels
    (lost pixels read as background)."""
    xp = backend.get_array_module(images)
    mask = xp.broadcast_to(mask, images.shape).astype(images.dtype)
    return xp.concatenate([images * mask - (1 - mask), mask], axis=1)


def paste_known(restored, images, mask):
    """Keep the known pixels, take the restoration elsewhere: mask * images + (1 - mask) * restored.
    restored and images (N, C, H, W), the mask broadcasting to them; a restoration is judged on
    what it adds, not on what it was given back."""
    return mask * images + (1 - mask) * restored


def masked_mse(restored, images, mask) -> float:
    """Mean squared error over the LOST pixels only: sum((1 - mask) (restored - images)^2) /
    sum(1 - mask), restored and images (N, C, H, W), the mask broadcasting to them; a float
    (pixels in [-1, 1], so 4 is the worst possible)."""
    xp = backend.get_array_module(images)
    lost = 1 - xp.broadcast_to(mask, images.shape)
    return float((lost * (restored - images) ** 2).sum() / lost.sum())


def downsample(images, factor: int = 2):
    """Average pooling: (N, C, H, W) -> (N, C, H / factor, W / factor), each factor x factor
    block replaced by its mean. H and W must be multiples of factor."""
    n, c, h, w = images.shape
    if factor < 1 or h % factor or w % factor:
        raise ValueError(f"downsample: expected a factor >= 1 dividing the sides of {tuple(images.shape)}, "
                         f"got {factor}")
    return images.reshape(n, c, h // factor, factor, w // factor, factor).mean(axis=(3, 5))


def nearest_upsample(images, factor: int = 2):
    """Nearest-neighbour enlargement: (N, C, h, w) -> (N, C, h * factor, w * factor), each pixel
    copied into a factor x factor block."""
    xp = backend.get_array_module(images)
    return xp.repeat(xp.repeat(images, factor, axis=2), factor, axis=3)


def _bilinear_matrix(xp, size: int, factor: int, dtype):
    """A (size * factor, size) matrix A with A @ v the linear interpolation of v (size,), pixel
    centres aligned as PyTorch's interpolate(mode="bilinear", align_corners=False):
    output i reads source position s = max((i + 1/2) / factor - 1/2, 0), between pixels
    floor(s) and floor(s) + 1 (clamped to the edge), weights 1 - (s - floor(s)) and s - floor(s)."""
    src = xp.maximum((xp.arange(size * factor) + 0.5) / factor - 0.5, 0.0)
    lo = xp.floor(src).astype(int)
    hi = xp.minimum(lo + 1, size - 1)
    frac = src - lo
    rows = xp.arange(size * factor)
    matrix = xp.zeros((size * factor, size))
    matrix[rows, lo] += 1 - frac
    matrix[rows, hi] += frac      # adds onto lo's entry at the clamped edge, where hi == lo
    return matrix.astype(dtype)


def bilinear_upsample(images, factor: int = 2):
    """Bilinear enlargement: (N, C, h, w) -> (N, C, h * factor, w * factor), y = A_h x A_w^T per
    image and channel with the interpolation matrices of ``_bilinear_matrix`` (separable: rows,
    then columns)."""
    xp = backend.get_array_module(images)
    a_h = _bilinear_matrix(xp, images.shape[2], factor, images.dtype)
    a_w = _bilinear_matrix(xp, images.shape[3], factor, images.dtype)
    return xp.matmul(xp.matmul(a_h, images), a_w.T)


def super_resolution_inputs(images, factor: int = 2):
    """G's input for super-resolution: (N, C, H, W) -> (N, C, H, W), the images averaged down by
    ``factor`` and enlarged back by nearest neighbour (all G gets to see of the fine detail)."""
    return nearest_upsample(downsample(images, factor), factor)
