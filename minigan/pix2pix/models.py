"""The pix2pix players for (N, C, 8, 8) images: a U-Net generator and a patch discriminator.

U-Net G (``unet_generator``), c = width, C_in input channels, C_out output channels:

    x (C_in, 8x8) ─┬──────────────────────────────────────────────────────────┐ skip
                   └ Conv k4 s2 p1 -> LeakyReLU          (c, 4x4)              │
                      ├──────────────────────────────────────────────┐ skip    │
                      └ Conv k4 s2 p1 -> LeakyReLU       (2c, 2x2)    │         │
                        residual blocks x + f(x)         (2c, 2x2)    │         │
                        ConvT k4 s2 p1 -> ReLU           (c, 4x4)     │         │
                      concat ────────────────────────────(2c, 4x4) ◄─┘         │
                      ConvT k4 s2 p1 -> ReLU             (c, 8x8)               │
    concat ──────────────────────────────────────────────(C_in + c, 8x8) ◄─────┘
    Conv k3 s1 p1 -> tanh                                (C_out, 8x8)

Each skip is ``Concat(Identity(), inner)``: the decoder sees the encoder's features at the
same scale beside what the coarser levels made of them, and in the backward the fork adds the
two paths' gradients, dL/dx = dL/dy_skip + J_inner^T dL/dy_inner (``layers.branch``). The
outermost skip hands the input itself to the last convolution, so the pixels that are known
(the top half of an inpainting input) reach the output through one 3x3 convolution.

Patch D (``patch_discriminator``) judges an (input, output) pair stacked on the channels,
(N, C_in + C_out, 8, 8), with a 4x4 grid of logits (N, 1, 4, 4): one k4 s2 p1 convolution and
two 1x1 convolutions, so logit (i, j) sees only the 4x4 window of rows and columns
2i - 1 .. 2i + 2 (``receptive_window``), a patch, not the whole image: pix2pix's PatchGAN.
"""
from __future__ import annotations

from ..layers import Concat, Conv2d, ConvTranspose2d, Identity, LeakyReLU, ReLU, Residual, Sequential, Tanh

SIDE = 8  # the image side both players are built for: 8 -> 4 -> 2 and back


def _down(c_in: int, c_out: int) -> Sequential:
    """(N, c_in, H, W) -> (N, c_out, H/2, W/2): Conv k4 s2 p1, LeakyReLU 0.2."""
    return Sequential(Conv2d(c_in, c_out, 4, stride=2, padding=1), LeakyReLU(0.2))


def _up(c_in: int, c_out: int) -> Sequential:
    """(N, c_in, H, W) -> (N, c_out, 2H, 2W): ConvTranspose k4 s2 p1, ReLU."""
    return Sequential(ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), ReLU())


def _residual_block(channels: int) -> Residual:
    """y = x + Conv3(ReLU(Conv3(x))), shape kept: (N, channels, H, W) -> same."""
    return Residual(Sequential(Conv2d(channels, channels, 3, padding=1), ReLU(),
                               Conv2d(channels, channels, 3, padding=1)))


def unet_generator(in_channels: int, out_channels: int = 1, width: int = 32,
                   residual_blocks: int = 2) -> Sequential:
    """The U-Net of the module docstring: (N, in_channels, 8, 8) -> (N, out_channels, 8, 8) in (-1, 1).

    in_channels: e.g. 2 for an inpainting input (the masked image and its mask), 1 for a
    super-resolution input; width: c, the channels after the first convolution (2c at the
    bottleneck); residual_blocks: how many x + f(x) blocks at the 2x2 bottleneck (0 or more).
    Parameters are created on the active backend in the default dtype (PyTorch's default init).
    """
    if min(in_channels, out_channels, width) < 1 or residual_blocks < 0:
        raise ValueError(f"unet_generator: expected in_channels, out_channels, width >= 1 and residual_blocks "
                         f">= 0, got {in_channels}, {out_channels}, {width}, {residual_blocks}")
    c = width
    bottleneck = [_residual_block(2 * c) for _ in range(residual_blocks)]
    inner = Concat(Identity(), Sequential(_down(c, 2 * c), *bottleneck, _up(2 * c, c)))  # 4x4: 2c channels
    outer = Concat(Identity(), Sequential(_down(in_channels, c), inner, _up(2 * c, c)))   # 8x8: C_in + c
    return Sequential(outer, Conv2d(in_channels + c, out_channels, 3, padding=1), Tanh())


def patch_discriminator(in_channels: int, width: int = 32) -> Sequential:
    """The patch D of the module docstring: (N, in_channels, 8, 8) -> logits (N, 1, 4, 4).

    in_channels: the pair's channels, C_in of G's input plus C_out of its output. Each logit
    judges one 4x4 patch of the pair; the loss averages over all N * 16 of them.
    """
    if min(in_channels, width) < 1:
        raise ValueError(f"patch_discriminator: expected in_channels, width >= 1, got {in_channels}, {width}")
    return Sequential(Conv2d(in_channels, width, 4, stride=2, padding=1), LeakyReLU(0.2),
                      Conv2d(width, 2 * width, 1), LeakyReLU(0.2),
                      Conv2d(2 * width, 1, 1))


def receptive_window(i: int, j: int, side: int = SIDE) -> tuple[slice, slice]:
    """The rows and columns of the 8x8 input that patch logit (i, j) depends on, as slices.

    A k4 s2 p1 convolution's output (i, j) reads padded rows 2i .. 2i + 3, image rows
    2i - 1 .. 2i + 2 (clipped to the image); the 1x1 convolutions after it widen nothing.
    """
    def span(k):
        return slice(max(2 * k - 1, 0), min(2 * k + 3, side))
    return span(i), span(j)
