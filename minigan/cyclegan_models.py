"""CycleGAN's networks in the authors' forms, from minigan's layers, scaled by their arguments.

``resnet_generator(channels, width=64, downs=2, blocks=6)``: (N, C, H, W) -> (N, C, H, W) in [-1, 1], H and W
multiples of 2^downs:
    ReflectionPad2d(3) -> Conv(C -> w, k7) -> IN -> ReLU
    [Conv(w 2^i -> w 2^(i+1), k3 s2 p1) -> IN -> ReLU] for i < downs             (the side halves)
    blocks x Residual(ReflectionPad2d(1) -> Conv k3 -> IN -> ReLU -> ReflectionPad2d(1) -> Conv k3 -> IN)
    [ConvT(w 2^i -> w 2^(i-1), k3 s2 p1, output_padding 1) -> IN -> ReLU] for i = downs .. 1   (doubles)
    ReflectionPad2d(3) -> Conv(w -> C, k7) -> Tanh
IN is InstanceNorm2d without affine parameters, as the authors' default. A convolution feeding an IN has
no bias here (the authors keep one): IN subtracts each plane's mean, so the bias does nothing and its
gradient is exactly 0.

``patch_discriminator(channels, width=64, layers=3)``: (N, C, H, W) -> logits (N, 1, h, w), the authors'
NLayerDiscriminator: Conv(C -> w, k4 s2 p1) -> LeakyReLU 0.2, then layers - 1 times Conv(k4 s2 p1)
-> IN -> LeakyReLU doubling the channels (at most 8w), then Conv(k4 s1 p1) -> IN -> LeakyReLU and
Conv(-> 1, k4 s1 p1). Each logit judges one patch (70x70 pixels at layers = 3); the side shrinks by
2^layers, then by 1 twice, so H must be at least 2^layers * 3.
"""
from __future__ import annotations

from .layers import (Conv2d, ConvTranspose2d, InstanceNorm2d, LeakyReLU, ReflectionPad2d, ReLU, Residual,
                     Sequential, Tanh)


def _residual_block(dim: int) -> Residual:
    return Residual(Sequential(ReflectionPad2d(1), Conv2d(dim, dim, 3, bias=False), InstanceNorm2d(dim), ReLU(),
                               ReflectionPad2d(1), Conv2d(dim, dim, 3, bias=False), InstanceNorm2d(dim)))


def resnet_generator(channels: int, width: int = 64, downs: int = 2, blocks: int = 6) -> Sequential:
    """The authors' ResNet generator, as the module docstring says."""
    if min(channels, width) < 1 or downs < 0 or blocks < 0:
        raise ValueError(f"resnet_generator: expected channels, width >= 1 and downs, blocks >= 0, got "
                         f"{channels}, {width}, {downs}, {blocks}")
    layers = [ReflectionPad2d(3), Conv2d(channels, width, 7, bias=False), InstanceNorm2d(width), ReLU()]
    for i in range(downs):
        layers += [Conv2d(width << i, width << (i + 1), 3, 2, 1, bias=False), InstanceNorm2d(width << (i + 1)),
                   ReLU()]
    layers += [_residual_block(width << downs) for _ in range(blocks)]
    for i in range(downs, 0, -1):
        layers += [ConvTranspose2d(width << i, width << (i - 1), 3, 2, 1, output_padding=1, bias=False),
                   InstanceNorm2d(width << (i - 1)), ReLU()]
    return Sequential(*layers, ReflectionPad2d(3), Conv2d(width, channels, 7), Tanh())


def patch_discriminator(channels: int, width: int = 64, layers: int = 3) -> Sequential:
    """The authors' PatchGAN discriminator, as the module docstring says."""
    if min(channels, width, layers) < 1:
        raise ValueError(f"patch_discriminator: expected channels, width, layers >= 1, got {channels}, {width}, "
                         f"{layers}")
    out = [Conv2d(channels, width, 4, 2, 1), LeakyReLU(0.2)]
    ch = width
    for n in range(1, layers):
        nxt = width * min(2 ** n, 8)
        out += [Conv2d(ch, nxt, 4, 2, 1, bias=False), InstanceNorm2d(nxt), LeakyReLU(0.2)]
        ch = nxt
    nxt = width * min(2 ** layers, 8)
    return Sequential(*out, Conv2d(ch, nxt, 4, 1, 1, bias=False), InstanceNorm2d(nxt), LeakyReLU(0.2),
                      Conv2d(nxt, 1, 4, 1, 1))


def sizes_for(side: int) -> dict:
    """The networks' stages for images side x side (a multiple of 4, at least 8), scaled from the authors'
    256-pixel setting (two downs, 9 blocks, a 3-layer D whose logits each see 70 pixels):
      downs   2 (the residual blocks work at side / 4), but 1 at 8 pixels: 2x2 planes leave a 3x3
              convolution nothing but its reflected padding to read
      blocks  6 (the authors' choice below 256 pixels), 3 at 8 pixels (64 pixels need less depth, and the
              digits' 5-minute budget)
      layers  1 below 32 pixels (each logit sees a 16-pixel square: the whole of an 8- or 16-pixel
              image), 2 at 32 (a 34-pixel square), 3 from 64 (70, the authors')"""
    return {"downs": 1 if side < 16 else 2, "blocks": 3 if side < 16 else 6,
            "layers": 1 if side < 32 else (2 if side < 64 else 3)}
